/**
 * PayFlux started in-process against the suite's redis-server, listening on a real loopback
 * port, with export lines captured from its stdout sink.
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { start, type Running } from '../../src/main.js';
import { partitionLayout } from '../../src/buffer/partitions.js';
import { useRedis, type RedisSuite, type RedisSuiteOptions } from './use-redis.js';

export const TEST_KEY = 'test-key-0123456789abcdef';

export interface TestApp {
  readonly running: Running;
  readonly url: string;
  /** The stripe partition's stream (test events are stripe's unless they say otherwise). */
  readonly stream: string;
  /** `PAYFLUX_STREAM`: the single-stream layout's stream, which consumers read until drained. */
  readonly legacyStream: string;
  /** The stream of a processor's partition. */
  streamOf(processor: string): string;
  readonly prefix: string;
  /** Export lines written so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Idempotent: a test may close the app early, the suite closes it again. */
  close(): Promise<void>;
}

export interface LogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino logger at `info` whose lines land, parsed, in `logs`. */
export function captureLogs(): { logger: Logger; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l) as LogLine) });
  return { logger, logs };
}

/**
 * Start PayFlux under the suite's current prefix (streams `<prefix>events:{<tag>}`, DLQs `<prefix>dlq:{<tag>}`),
 * with short reads and silent logs (or `o.logger`), export lines in `lines` (unless `o.stdout`
 * takes them); `env` wins. Closed after the test (after the file, from a
 * `beforeAll`). Two apps started in one test share their keys: a restart.
 */
export async function startTestApp(
  s: RedisSuite,
  env: Record<string, string> = {},
  o: { readonly logger?: Logger; readonly stdout?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const prefix = s.prefix;
  const legacyStream = `${prefix}events`;
  const config = loadConfig({
    HTTP_ADDR: '127.0.0.1:0',
    REDIS_ADDR: s.server.addr,
    PAYFLUX_API_KEYS: TEST_KEY,
    PAYFLUX_KEY_PREFIX: prefix,
    PAYFLUX_STREAM: legacyStream,
    PAYFLUX_DLQ_STREAM: `${prefix}dlq`,
    PAYFLUX_LOG_LEVEL: 'silent',
    PAYFLUX_READ_BLOCK_MS: '100',
    ...env,
  });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  // Decodes each chunk before calling back, as a real stdout has written it by then: the
  // exporter reuses its buffer once the write has called back.
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p !== '') lines.push(JSON.parse(p) as Record<string, unknown>);
      done();
    },
  });
  const running = await start(config, { logger: o.logger ?? pino({ level: 'silent' }), stdout: o.stdout ?? stdout });
  const layout = partitionLayout({
    processors: config.ingest.processors,
    keyPrefix: prefix,
    stream: legacyStream,
    dlqStream: config.buffer.dlqStream,
  });
  const streamOf = (processor: string): string => layout.partitionOf(processor)?.stream ?? legacyStream;
  const app: TestApp = {
    running,
    url: `http://127.0.0.1:${running.port}`,
    stream: streamOf('stripe'),
    legacyStream,
    streamOf,
    prefix,
    lines,
    close: () => running.close(),
  };
  s.defer(() => app.close());
  return app;
}

/** POST with the test key as bearer token, as JSON; a string body is sent as it is. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** One processor as `GET /v1/risk/processors` shows it (the fields tests look at). */
export interface ProcessorView {
  readonly processor: string;
  readonly band: string;
  readonly drivers: string[];
  readonly components: Record<string, number>;
  readonly focus: Record<string, string> | null;
  readonly window: { readonly events: number };
}

export interface AppSuite extends RedisSuite {
  /** The app every test of the file (or describe) talks to, started once with the suite's `env`. */
  readonly app: TestApp;
}

/** `useRedis` plus one PayFlux app (with `env`) for the file's tests, closed after them. */
export function useApp(env: Record<string, string> = {}, o: RedisSuiteOptions = {}): AppSuite {
  const s = useRedis(o);
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startTestApp(s, env);
  });
  return {
    get server() {
      return s.server;
    },
    get redis() {
      return s.redis;
    },
    get prefix() {
      return s.prefix;
    },
    defer: (cleanup) => s.defer(cleanup),
    scratch: () => s.scratch(),
    get app() {
      if (app === undefined) throw new Error('useApp: app used before beforeAll');
      return app;
    },
  };
}

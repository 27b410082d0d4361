/**
 * PayFlux as a real child process for integration tests: `node dist/cli.js serve` with an
 * environment the test gives, on a free loopback port. Collects stdout lines (the export),
 * keeps the tail of stderr (the logs) for failure messages, can be signalled, killed and
 * restarted with the same environment (same port, so producers keep their URL).
 *
 * Also: the CLI for one-shot commands, an event factory, a producer that keeps posting batches
 * and records which event ids were accepted, and probes of its state.
 *
 * Needs `dist/` built (`npm test` builds it in pretest; `npx tsc -p tsconfig.build.json`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { delay, poll } from './poll.js';
import { freePort } from './redis-server.js';
import type { RedisSuite } from './use-redis.js';
import type { Suite } from './use-suite.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const API_KEY = 'integration-test-key-0001';

/** An empty working directory for children, so that no stray `.env` is read. */
const CWD = mkdtempSync(join(tmpdir(), 'payflux-cwd-'));

export interface PayfluxEnv {
  readonly [name: string]: string;
}

/**
 * A test environment: the suite's Redis, stream, DLQ and keys under the test's prefix, a free
 * port, short timeouts. `overrides` win; the stream names are returned so that tests can
 * inspect Redis directly.
 */
export async function payfluxEnv(
  s: RedisSuite,
  overrides: Record<string, string> = {},
): Promise<PayfluxEnv & { PAYFLUX_STREAM: string; PAYFLUX_DLQ_STREAM: string; PAYFLUX_CONSUMER_GROUP: string }> {
  return {
    HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    REDIS_ADDR: s.server.addr,
    PAYFLUX_BUFFER: 'redis',
    PAYFLUX_STREAM: `${s.prefix}events`,
    PAYFLUX_DLQ_STREAM: `${s.prefix}dlq`,
    PAYFLUX_CONSUMER_GROUP: 'payment_consumers',
    PAYFLUX_KEY_PREFIX: s.prefix,
    PAYFLUX_API_KEYS: API_KEY,
    PAYFLUX_RATELIMIT_RPS: '0',
    PAYFLUX_LOG_LEVEL: 'info',
    PAYFLUX_SHUTDOWN_TIMEOUT_SEC: '10',
    PAYFLUX_RETENTION_INTERVAL_MS: '500',
    ...overrides,
  };
}

/** Only what node needs from the parent; nothing that could point PayFlux elsewhere. */
function childEnv(env: PayfluxEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[k] !== undefined) base[k] = process.env[k];
  return { ...base, ...env };
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PayfluxProcess {
  readonly env: PayfluxEnv;
  readonly url: string;
  readonly pid: number;
  /** Complete stdout lines of every generation of this process (restarts append). */
  readonly lines: readonly string[];
  /** The last stderr lines (logs), for failure messages. */
  stderrTail(): string;
  /** Every stderr line (the last 10,000 at least). */
  stderrLines(): readonly string[];
  /** Stdout lines parsed as JSON; throws on a line that is not JSON. */
  exported(): ExportLine[];
  alive(): boolean;
  /** Resolves when the current generation exits. */
  exited(): Promise<Exit>;
  signal(sig: NodeJS.Signals): void;
  /** Send `sig` and wait for the exit. */
  stop(sig?: NodeJS.Signals): Promise<Exit>;
  /** Start a new generation with the same environment (after the previous one exited). */
  restart(): Promise<void>;
}

export interface ExportLine {
  readonly type: string;
  readonly event_id: string;
  readonly stream_message_id: string;
  readonly consumer_name: string;
  readonly [field: string]: unknown;
}

export interface StartOptions {
  readonly readyTimeoutMs?: number;
  /** The child's working directory (where it reads `.env`); by default an empty one. */
  readonly cwd?: string;
  /** Resolve once spawned, without waiting for `server_listening` and `/health`. */
  readonly noWait?: boolean;
}

/**
 * Spawn `payflux serve` and wait until it logged `server_listening` and `/health` answers 200.
 * Whatever generation still runs after the test is killed (SIGKILL).
 */
export async function startPayflux(s: Suite, env: PayfluxEnv, o: StartOptions = {}): Promise<PayfluxProcess> {
  const url = `http://${env.HTTP_ADDR ?? ''}`;
  const lines: string[] = [];
  const stderr: string[] = [];
  let child!: ChildProcess;
  let exit!: Promise<Exit>;

  const spawnOne = async (): Promise<void> => {
    const c = spawn(process.execPath, [CLI, 'serve'], {
      cwd: o.cwd ?? CWD,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    // 'close', not 'exit': it comes once stdout and stderr are drained, so `lines` is complete.
    exit = new Promise((resolve) =>
      c.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
    );
    let partial = '';
    c.stdout?.setEncoding('utf8');
    c.stdout?.on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) lines.push(p);
    });
    let errPartial = '';
    // Our child's own word that it listens: /health alone could be answered by another
    // process that took the port first (tests in parallel), while ours failed to bind.
    let listening = false;
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (d: string) => {
      const parts = (errPartial + d).split('\n');
      errPartial = parts.pop() ?? '';
      if (!listening) listening = parts.some((l) => l.includes('"msg":"server_listening"'));
      stderr.push(...parts);
      if (stderr.length > 20_000) stderr.splice(0, stderr.length - 10_000);
    });
    if (o.noWait) return;
    let exited: Exit | undefined;
    void exit.then((e) => (exited = e));
    await poll(
      'payflux to become healthy',
      async () => {
        if (exited)
          throw new Error(`payflux exited (${JSON.stringify(exited)}) before it was healthy:\n${stderr.join('\n')}`);
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        return res?.status === 200 && listening;
      },
      (healthy) => healthy,
      { timeoutMs: o.readyTimeoutMs ?? 15_000, context: () => stderr.join('\n') },
    );
  };
  // Registered before the first spawn, so that a child that never became healthy dies too.
  s.defer(async () => {
    const current = child as ChildProcess | undefined;
    if (current === undefined) return;
    if (current.exitCode === null && current.signalCode === null) current.kill('SIGKILL');
    await exit;
  });
  await spawnOne();

  const p: PayfluxProcess = {
    env,
    url,
    get pid() {
      return child.pid ?? -1;
    },
    lines,
    stderrTail: () => stderr.slice(-60).join('\n'),
    stderrLines: () => stderr,
    exported: () => lines.map(parseExportLine),
    alive: () => child.exitCode === null && child.signalCode === null,
    exited: () => exit,
    signal(sig) {
      child.kill(sig);
    },
    async stop(sig = 'SIGTERM') {
      if (p.alive()) child.kill(sig);
      return exit;
    },
    async restart() {
      if (p.alive()) throw new Error('restart() needs the previous generation to have exited');
      await spawnOne();
    },
  };
  return p;
}

export function parseExportLine(line: string): ExportLine {
  try {
    return JSON.parse(line) as ExportLine;
  } catch {
    throw new Error(`export line is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

/** Every complete line of an export file (none when it does not exist or is not a regular file: /dev/full). */
export function readExportFile(path: string): string[] {
  if (!existsSync(path) || !statSync(path).isFile()) return [];
  const text = readFileSync(path, 'utf8');
  if (text === '') return [];
  const lines = text.split('\n');
  // A complete file ends with "\n"; whatever follows the last one is a line still being written.
  lines.pop();
  return lines;
}

/** Run a one-shot CLI command (`dlq list`, `replay --since 1h`) to completion. */
export async function runCli(
  args: readonly string[],
  env: PayfluxEnv,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawn(process.execPath, [CLI, ...args], {
    cwd: CWD,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
  // 'close' (after the output is drained), not 'exit'.
  const code = await new Promise<number | null>((resolve) => c.once('close', (n: number | null) => resolve(n)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// ---- events and producers ---------------------------------------------------------------------

export interface TestEvent {
  readonly event_id: string;
  readonly event_timestamp: string;
  readonly event_type: string;
  readonly processor: string;
  readonly merchant_id_hash: string;
  readonly retry_count: number;
}

export function makeEvent(id: string): TestEvent {
  return {
    event_id: id,
    event_timestamp: new Date().toISOString(),
    event_type: 'payment_failed',
    processor: 'stripe',
    merchant_id_hash: 'm_abc',
    retry_count: 1,
  };
}

/** Unique event ids for one test: `<tag>-<n>`. */
export function idFactory(): () => string {
  const tag = `ev${randomBytes(4).toString('hex')}`;
  let n = 0;
  return () => `${tag}-${n++}`;
}

/** POST one batch; the ids of the events the server accepted (all of them, or none). */
export async function postBatch(url: string, events: readonly TestEvent[]): Promise<string[]> {
  const res = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { accepted?: number; duplicates?: number; rejected?: unknown[] };
  if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${JSON.stringify(body)}`);
  if (body.rejected?.length !== 0 || body.accepted !== events.length) {
    throw new Error(`batch not wholly accepted: ${JSON.stringify(body)}`);
  }
  return events.map((e) => e.event_id);
}

/** POST `n` events in batches of `size`; the accepted ids. */
export async function sendEvents(url: string, n: number, nextId: () => string, size = 100): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += size) {
    const batch = Array.from({ length: Math.min(size, n - i) }, () => makeEvent(nextId()));
    ids.push(...(await postBatch(url, batch)));
  }
  return ids;
}

export interface Producer {
  /** Ids of events answered as accepted, in order. */
  readonly accepted: readonly string[];
  /** Requests that failed (refused, reset, 503): their events count as not accepted. */
  readonly failures: number;
  /** Ids of the events of failed requests: maybe stored (the answer was lost), maybe not. */
  readonly unconfirmed: readonly string[];
  /** Stop sending; resolves once the request in flight settled. */
  stop(): Promise<void>;
}

/**
 * Keep posting batches of `size` events back to back until stopped. A failed request is
 * counted and retried with new ids after a short pause (the server may be restarting).
 */
export function startProducer(
  url: () => string,
  nextId: () => string,
  o: { size?: number; pauseMs?: number } = {},
): Producer {
  const accepted: string[] = [];
  const unconfirmed: string[] = [];
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const batch = Array.from({ length: o.size ?? 25 }, () => makeEvent(nextId()));
      try {
        accepted.push(...(await postBatch(url(), batch)));
        if (o.pauseMs !== undefined) await delay(o.pauseMs);
      } catch {
        failures++;
        for (const e of batch) unconfirmed.push(e.event_id);
        await delay(20);
      }
    }
  })();
  return {
    accepted,
    unconfirmed,
    get failures() {
      return failures;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

// ---- polling and inspection -------------------------------------------------------------------

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The value of one sample of a Prometheus text exposition (0 when absent). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter((s) => s !== '');
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

/** Count occurrences of each id. */
export function countIds(ids: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

export interface GroupState {
  /** Entries delivered and not acknowledged (XPENDING). */
  readonly pending: number;
  /** Entries not yet delivered to the group (XINFO GROUPS lag). */
  readonly lag: number;
  /** Pending entries per consumer name. */
  readonly consumers: Readonly<Record<string, number>>;
}

/**
 * The consumer group's progress, straight from Redis, as one snapshot: XPENDING and XINFO GROUPS
 * in one MULTI, or a read landing between the two would show "nothing pending" (before it) and
 * "nothing undelivered" (after it) at once.
 */
export async function groupState(
  redis: Redis,
  env: { PAYFLUX_STREAM: string; PAYFLUX_CONSUMER_GROUP: string },
): Promise<GroupState> {
  const replies = await redis
    .multi()
    .xpending(env.PAYFLUX_STREAM, env.PAYFLUX_CONSUMER_GROUP)
    .xinfo('GROUPS', env.PAYFLUX_STREAM)
    .exec();
  const failed = replies?.find(([err]) => err !== null);
  if (replies === null || failed) throw failed?.[0] ?? new Error('group state transaction aborted');
  const [count, , , perConsumer] = replies[0]?.[1] as [number, unknown, unknown, [string, string][] | null];
  const groups = replies[1]?.[1] as unknown[][];
  let lag = -1;
  for (const g of groups) {
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
    if (f.get('name') === env.PAYFLUX_CONSUMER_GROUP) lag = Number(f.get('lag'));
  }
  const consumers: Record<string, number> = {};
  for (const [name, n] of perConsumer ?? []) consumers[name] = Number(n);
  return { pending: count, lag, consumers };
}

/** Pending and lag both 0: everything stored has been delivered and acknowledged. */
export const drained = (s: GroupState): boolean => s.pending === 0 && s.lag === 0;

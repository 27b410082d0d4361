/**
 * `payflux serve 2>&1 | reader`: stdout and stderr are one pipe, and the reader may go away or
 * stop reading. Whatever it does, SIGTERM ends the process: logging never holds the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/redis-server.js';
import { CLI, EMPTY_CWD, childEnv } from '../../support/run-cli.js';
import { makeEvent } from '../../support/events.js';
import { API_KEY } from '../../support/payflux-env.js';
import { poll } from '../../support/poll.js';
import { postBatch } from '../../support/producer.js';
import { useSuite } from '../../support/use-suite.js';

const suite = useSuite();

interface Piped {
  readonly url: string;
  readonly payflux: ChildProcess;
  readonly reader: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `payflux serve 2>&1 | <reader>`: both of its outputs are the write end of one pipe into `reader`. */
async function serveInto(reader: readonly string[], env: Record<string, string> = {}): Promise<Piped> {
  const port = await freePort();
  const r = spawn(reader[0] ?? 'cat', reader.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
  suite.defer(() => r.exitCode ?? r.kill('SIGKILL'));
  const p = spawn(process.execPath, [CLI, 'serve'], {
    cwd: EMPTY_CWD,
    env: childEnv({
      HTTP_ADDR: `127.0.0.1:${port}`,
      PAYFLUX_BUFFER: 'memory',
      PAYFLUX_API_KEYS: API_KEY,
      PAYFLUX_RATELIMIT_RPS: '0',
      ...env,
    }),
    stdio: ['ignore', r.stdin, r.stdin],
  });
  // Only the two children hold the pipe: it breaks when the reader goes.
  r.stdin?.destroy();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    p.once('exit', (code, signal) => resolve({ code, signal })),
  );
  suite.defer(async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  await poll(
    'payflux to answer /health',
    () =>
      fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then(
        (res) => res.status,
        () => 0,
      ),
    (status) => status === 200,
    { timeoutMs: 15_000 },
  );
  return { url, payflux: p, reader: r, exited };
}

/** Resolves with how long the exit took, or rejects when it takes longer than `ms`. */
async function exitWithin(piped: Piped, ms: number): Promise<{ code: number | null; tookMs: number }> {
  const t0 = Date.now();
  piped.payflux.kill('SIGTERM');
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`payflux still running ${ms} ms after SIGTERM`)), ms).unref(),
  );
  const { code } = await Promise.race([piped.exited, timeout]);
  return { code, tookMs: Date.now() - t0 };
}

describe('payflux serve 2>&1 | reader, then SIGTERM', () => {
  it('exits 0 at once when the reader has gone (EPIPE on stderr)', async () => {
    // Like `| head`: the reader stops after the line saying PayFlux listens, and exits.
    const piped = await serveInto(['grep', '-m1', 'server_listening']);
    await poll(
      'the reader to exit',
      () => piped.reader.exitCode,
      (code) => code !== null,
    );
    const { code, tookMs } = await exitWithin(piped, 8000);
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(3000);
  });

  it('exits within the shutdown deadline when the reader stopped reading and the pipe is full', async () => {
    // A reader that never reads: export lines fill the pipe, the export write never completes
    // (shutdown times out), and every log write meets EAGAIN.
    const piped = await serveInto(['sleep', '60'], { PAYFLUX_SHUTDOWN_TIMEOUT_SEC: '2' });
    for (let i = 0; i < 4; i++)
      await postBatch(
        piped.url,
        Array.from({ length: 500 }, (_, n) => makeEvent(`f${i}-${n}`)),
      );
    const { code, tookMs } = await exitWithin(piped, 10_000);
    expect(code).toBe(1);
    expect(tookMs).toBeLessThan(6000);
  });
});

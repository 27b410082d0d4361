/**
 * `PAYFLUX_WORKERS=2` shutting down while clients keep connecting: node:cluster's primary accepts
 * every connection and hands it to the ingest worker. A connection it hands over while that
 * worker, the last one on the port, closes and exits must still end (answered, refused or
 * reset) then, not stay open until the primary itself exits. The consumer process is held
 * stopped (SIGSTOP) so that the primary outlives the ingest worker by seconds: a connection
 * left open in between shows as one that never ended.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PayfluxProcess } from '../../support/payflux-process.js';
import { poll } from '../../support/poll.js';
import { startWorkers, workerPids } from '../../support/payflux-workers.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

function workerPid(pf: PayfluxProcess, role: 'ingest' | 'consumer'): number {
  const [pid] = workerPids(pf, role);
  if (pid === undefined) throw new Error(`no ${role} worker logged`);
  return pid;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Attempt {
  readonly startedAt: number;
  endedAt?: number;
  outcome?: string;
}

/** New connections to `host:port`, `perTick` every millisecond, each asking `GET /health` and closing. */
function connectionStorm(host: string, port: number, perTick: number) {
  const attempts: Attempt[] = [];
  const open = (): void => {
    const a: Attempt = { startedAt: performance.now() };
    attempts.push(a);
    let answer = '';
    const s = connect({ host, port });
    const end = (outcome: string): void => {
      if (a.endedAt !== undefined) return;
      a.endedAt = performance.now();
      a.outcome = outcome;
      s.destroy();
    };
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d: string) => (answer += d));
    s.on('error', (err: NodeJS.ErrnoException) => end(err.code ?? 'error'));
    s.on('close', () => end(answer === '' ? 'closed unanswered' : (answer.split(' ', 2)[1] ?? 'answered')));
  };
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) open();
  }, 1);
  return {
    attempts,
    stop: () => clearInterval(timer),
    unended: () => attempts.filter((a) => a.endedAt === undefined),
  };
}

describe('PAYFLUX_WORKERS=2 shutdown', { timeout: 120_000 }, () => {
  it('connections handed to the ingest worker while it closes and exits all end then, while the primary still runs', async () => {
    const { env, pf } = await startWorkers(suite, { PAYFLUX_SHUTDOWN_TIMEOUT_SEC: '10' });
    const ingest = workerPid(pf, 'ingest');
    const consumer = workerPid(pf, 'consumer');
    // The primary now waits for a consumer that cannot exit: it outlives the ingest worker.
    process.kill(consumer, 'SIGSTOP');
    try {
      const [host = '', port = ''] = (env.HTTP_ADDR ?? '').split(':');
      const storm = connectionStorm(host, Number(port), 2);
      await poll(
        'connections answered',
        () => storm.attempts.filter((a) => a.outcome === '200').length,
        (n) => n >= 50,
        { context: pf.stderrTail },
      );
      pf.signal('SIGTERM');
      await poll(
        'the ingest worker gone',
        () => running(ingest),
        (r) => !r,
        {
          timeoutMs: 30_000,
          context: pf.stderrTail,
        },
      );
      const gone = performance.now();
      await poll(
        'half a second of connections after it',
        () => performance.now() - gone,
        (t) => t >= 500,
      );
      storm.stop();
      // Every connection ends within a few seconds: answered before the close, refused or reset after.
      await poll(
        'every connection ended',
        () => storm.unended().length,
        (n) => n === 0,
        {
          timeoutMs: 5_000,
          context: () =>
            `${storm.unended().length} of ${storm.attempts.length} connections still open, started ` +
            `${storm
              .unended()
              .slice(0, 5)
              .map((a) => `${Math.round(a.startedAt - gone)} ms`)
              .join(', ')} after the ingest worker exited\n${pf.stderrTail()}`,
        },
      ).catch((err: Error) => err);
      const unended = storm.unended().length;
      // The primary was still there the whole time: what ended, ended on its own.
      expect(pf.alive()).toBe(true);
      expect(unended).toBe(0);
      expect(storm.attempts.filter((a) => a.outcome === '200').length).toBeGreaterThanOrEqual(50);
    } finally {
      process.kill(consumer, 'SIGCONT');
    }
    const exit = await pf.exited();
    expect(exit.code).toBe(0);
  });
});

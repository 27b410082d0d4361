/**
 * The HTTP port from the moment it first answers: while PayFlux starts (the starting server's
 * 503s), at the moment the full server takes over, and after. Every connection opened once the
 * port answered gets an HTTP answer: none refused, reset or left hanging, in one process and
 * with `PAYFLUX_WORKERS=2` (the primary hands each connection to the ingest worker). Real
 * sockets, many at once, over several starts.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux, type PayfluxProcess } from '../../support/payflux-process.js';
import { delay, poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

type Outcome = 'answered' | 'refused' | 'reset' | 'hung';

interface Probe {
  readonly openedAt: number;
  readonly outcome: Outcome;
  readonly detail?: string;
  /** When the TCP connection was made, if it was. */
  readonly connectedAt?: number;
}

/** Far beyond any answer on loopback, even on a loaded machine: a connection still silent then hangs. */
const HANG_MS = 5000;

/** One connection, one `GET /health`: how it ended. */
function probe(port: number): Promise<Probe> {
  const openedAt = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    let connectedAt: number | undefined;
    const end = (outcome: Outcome, detail?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ openedAt, outcome, connectedAt, ...(detail !== undefined && { detail }) });
    };
    const timer = setTimeout(() => end('hung'), HANG_MS);
    socket.on('connect', () => {
      connectedAt = performance.now();
      socket.write('GET /health HTTP/1.1\r\nHost: payflux\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/^HTTP\/1\.1 \d{3} /.test(text)) end('answered');
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      end(err.code === 'ECONNREFUSED' ? 'refused' : 'reset', err.code),
    );
    socket.on('close', () => end('reset', 'closed without an answer'));
  });
}

/** `parallel` loops of probes until `stop` resolves; every probe, in the order opened. */
async function probeUntil(port: number, parallel: number, stop: Promise<void>): Promise<Probe[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const probes: Probe[] = [];
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const p = await probe(port);
      probes.push(p);
      // A refused port is retried at once by nothing real: pace it, as a client's retry would.
      if (p.outcome === 'refused') await delay(2);
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  return probes.sort((a, b) => a.openedAt - b.openedAt);
}

/** Probe one start from spawn until a while after the full server took the port. */
async function probeStart(pf: PayfluxProcess, port: number, starts: number): Promise<Probe[]> {
  const ready = (): number => pf.stderrLines().filter((l) => l.includes('"msg":"server_ready"')).length;
  const stop = poll('the full server on the port', ready, (n) => n >= starts, {
    timeoutMs: 45_000,
    context: pf.stderrTail,
  }).then(() => delay(300));
  return probeUntil(port, 12, stop);
}

/**
 * The probes opened once a connection was accepted: the port is open from then on. (A probe
 * opened earlier may connect later than it was opened, on this busy event loop: the cut is the
 * first connection made, not the first probe begun.)
 */
function afterPortOpened(probes: readonly Probe[]): Probe[] {
  const opened = Math.min(...probes.map((p) => p.connectedAt ?? Infinity));
  return probes.filter((p) => p.openedAt >= opened);
}

const modes: [string, Record<string, string>][] = [
  ['one process', {}],
  ['PAYFLUX_WORKERS=2', { PAYFLUX_WORKERS: '2' }],
];

describe('the HTTP port while PayFlux starts', { timeout: 180_000 }, () => {
  it.each(modes)('%s: every connection opened once the port answers is answered', async (_mode, overrides) => {
    const env = await payfluxEnv(suite, { PAYFLUX_LOG_LEVEL: 'info', ...overrides });
    const port = Number(env.HTTP_ADDR?.split(':')[1]);
    const pf = await startPayflux(suite, env, { noWait: true });
    const failed: Probe[] = [];
    let answered = 0;
    const STARTS = 4;
    for (let start = 1; start <= STARTS; start++) {
      if (start > 1) await pf.restart();
      const probes = afterPortOpened(await probeStart(pf, port, start));
      expect(probes.length, pf.stderrTail()).toBeGreaterThan(0);
      answered += probes.filter((p) => p.outcome === 'answered').length;
      failed.push(...probes.filter((p) => p.outcome !== 'answered'));
      expect((await pf.stop('SIGTERM')).code).toBe(0);
    }
    expect(answered).toBeGreaterThan(100);
    expect(failed.map((p) => `${p.outcome}${p.detail === undefined ? '' : ` (${p.detail})`}`)).toEqual([]);
  });
});

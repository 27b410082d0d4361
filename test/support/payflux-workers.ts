/** PayFlux with `PAYFLUX_WORKERS` as a real process: started until every worker is ready, and its workers' pids. */
import { payfluxEnv } from './payflux-env.js';
import { startPayflux, type PayfluxProcess } from './payflux-process.js';
import { getJson } from './probes.js';
import { poll } from './poll.js';
import type { RedisSuite } from './use-redis.js';

/** Starts PayFlux with `PAYFLUX_WORKERS=2` (or `overrides`) and waits for its consumer process too. */
export async function startWorkers(suite: RedisSuite, overrides: Record<string, string> = {}) {
  const env = await payfluxEnv(suite, { PAYFLUX_WORKERS: '2', ...overrides });
  const pf = await startPayflux(suite, env, { readyTimeoutMs: 45_000 });
  // While the consumer process starts, the primary waits up to 2 s for its answer: as long as
  // getJson's own timeout, so a probe may time out then.
  await poll(
    'the consumer process ready too',
    () => getJson(`${pf.url}/ready`).catch(() => ({ status: 0 })),
    (r) => r.status === 200,
    { timeoutMs: 45_000, context: pf.stderrTail },
  );
  return { env, pf };
}

/** The pid of each worker the primary logged as started, latest last, by role. */
export function workerPids(pf: PayfluxProcess, role: 'ingest' | 'consumer'): number[] {
  return pf
    .stderrLines()
    .filter((l) => l.includes('"msg":"worker_started"'))
    .map((l) => JSON.parse(l) as { role: string; pid: number })
    .filter((l) => l.role === role)
    .map((l) => l.pid);
}

/**
 * `PAYFLUX_WORKERS=N` (N > 1): this process becomes a supervising primary that serves nothing
 * itself. It forks, with node:cluster, N-1 ingest workers (PAYFLUX_ROLE=ingest) that share the
 * HTTP port (the primary accepts and hands connections round-robin; a single ingest worker
 * accepts them itself) and one consumer process (PAYFLUX_ROLE=consumer, no HTTP port of its
 * own). With PAYFLUX_ROLE=ingest all N ingest; with PAYFLUX_ROLE=consumer all N consume, each
 * its own member of the consumer group (`<PAYFLUX_CONSUMER_NAME>-<index>`, see `balancedNames`)
 * holding its share of the partitions, and the first serves the ops port for them all.
 *
 * - A worker that dies is forked again after a backoff (200 ms doubling to 10 s, back to the
 *   start once a worker lived a minute); one that exits 78 (bad configuration) ends the primary
 *   with 78, as a retry cannot cure it.
 * - SIGTERM/SIGINT: the ingest workers shut down first (their queued appends land), then the
 *   consumer (it finishes and acknowledges its batch), each within PAYFLUX_SHUTDOWN_TIMEOUT_SEC;
 *   the primary exits 0 once every worker exited 0. SIGHUP is passed on to every worker.
 * - `/metrics`, on whichever ingest worker takes the scrape, is every worker's registry
 *   aggregated here (worker-link.ts asks; prom-client's AggregatorRegistry adds them up): see
 *   `aggregateMetrics`. `/ready` is the ingest worker's own readiness joined with the consumer's;
 *   on a consumer node, the first consumer's joined with every other consumer's.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { backoffMs } from './backoff.js';
import { balancedNames } from './rendezvous.js';
import type { Config } from './config.js';
import { WORKER_LISTENS_VAR, type Role } from './config-types.js';

/** A message between the primary and a worker (http/worker-link.ts is the worker's side). */
export interface LinkMessage {
  readonly type: string;
  readonly id: number;
  readonly value?: unknown;
}

export interface ReadyAnswer {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

/**
 * The consumer's readiness as the primary relays it: no consumer process, one not answering, or
 * its report; to a consumer that asks, the other consumers' (undefined: not answering).
 */
export type ConsumerReady =
  | { readonly kind: 'none' }
  | { readonly kind: 'down' }
  | { readonly kind: 'report'; readonly report: ReadyAnswer }
  | { readonly kind: 'peers'; readonly reports: readonly (ReadyAnswer | undefined)[] };

/** A worker answers the primary within this, or counts as gone for that request. */
export const REPLY_TIMEOUT_MS = 2000;

const EX_CONFIG = 78;
const RESTART_BASE_MS = 200;
const RESTART_MAX_MS = 10_000;
/** A worker that lived this long starts the backoff afresh when it dies. */
const HEALTHY_LIFE_MS = 60_000;

/** A metric as `registry.getMetricsAsJSON()` gives it (with the aggregator metrics.ts chose). */
type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/** Every worker's registry as one: counters, histograms and per-process gauges summed, shared figures once (metrics.ts). */
export function aggregateMetrics(perWorker: readonly MetricJson[][]): Registry {
  return AggregatorRegistry.aggregate([...perWorker]);
}

interface Slot {
  readonly role: Exclude<Role, 'all'>;
  readonly index: number;
  worker: Worker | undefined;
  startedAt: number;
  attempt: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * What each worker runs, in start order: the ingest workers, then the consumer. A node that
 * ingests too keeps one consumer: its other cores serve ingest (docs/decisions.md).
 */
export function workerRoles(config: Pick<Config, 'role' | 'workers'>): Exclude<Role, 'all'>[] {
  if (config.role === 'consumer') return Array<'consumer'>(config.workers).fill('consumer');
  const ingest = config.role === 'ingest' ? config.workers : config.workers - 1;
  return [...Array<'ingest'>(ingest).fill('ingest'), ...(config.role === 'ingest' ? [] : ['consumer' as const])];
}

/** Run the primary until SIGTERM/SIGINT; the process exits when its workers did. */
export function supervise(config: Config, logger: Logger): void {
  const roles = workerRoles(config);
  // One ingest worker accepts from the shared port itself. With node:cluster's round robin the
  // primary accepts and hands each connection over, and one it hands to the last ingest worker
  // as that worker closes is refused, then queued again with no worker left to take it: open
  // until the primary exits (node's RoundRobinHandle), which waits for the consumer. Several
  // ingest workers keep the round robin: accepting themselves, one took 5–71 % of 100 new
  // connections in runs where the round robin gave each 21–57 %.
  if (roles.filter((r) => r === 'ingest').length === 1) cluster.schedulingPolicy = cluster.SCHED_NONE;
  const slots: Slot[] = roles.map((role, index) => ({
    role,
    index,
    worker: undefined,
    startedAt: 0,
    attempt: 0,
    restart: undefined,
  }));
  // Each consumer keeps one name across restarts (`-<index>` when there are several, chosen to
  // split the partitions evenly among them): a restarted consumer adopts its own pending
  // entries and leases at once instead of waiting for them to go idle. Each worker is one
  // process of one role (it knows it is supervised by being a cluster worker).
  const consumers = roles.filter((r) => r === 'consumer').length;
  const names = balancedNames(config.consumer.name, consumers, config.ingest.processors);
  const childEnv = (slot: Slot): Record<string, string> => ({
    PAYFLUX_ROLE: slot.role,
    PAYFLUX_WORKERS: '1',
    ...(config.buffer.kind === 'auto' && { PAYFLUX_BUFFER: 'redis' }),
    ...(slot.role === 'consumer' && {
      PAYFLUX_CONSUMER_NAME: consumers > 1 ? (names[slot.index] ?? '') : config.consumer.name,
    }),
    ...(config.role === 'consumer' && slot.index === 0 && { [WORKER_LISTENS_VAR]: '1' }),
  });
  let stopping = false;
  let exitCode = 0;
  /** A failure the primary's exit reports: bad configuration (78) outranks any other (1). */
  const failWith = (code: 1 | typeof EX_CONFIG): void => {
    if (exitCode !== EX_CONFIG) exitCode = code;
  };
  const exits = new Map<Worker, Promise<number>>();

  const fork = (slot: Slot): void => {
    slot.restart = undefined;
    const worker = cluster.fork(childEnv(slot));
    slot.worker = worker;
    slot.startedAt = Date.now();
    exits.set(
      worker,
      new Promise((resolve) =>
        worker.once('exit', (code: number | null, signal: string | null) => {
          exits.delete(worker);
          if (slot.worker === worker) slot.worker = undefined;
          resolve(code ?? 1);
          onExit(slot, worker, code, signal);
        }),
      ),
    );
    worker.on('message', (m: LinkMessage) => void answer(worker, m));
    logger.info({ role: slot.role, worker: slot.index, pid: worker.process.pid }, 'worker_started');
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    if (stopping) {
      // Every worker reads the same configuration, so a second may fail on it while we stop;
      // our SIGTERM ends a worker still starting (before its handlers): it held nothing yet.
      if (code === EX_CONFIG) failWith(EX_CONFIG);
      else if (code !== 0 && signal !== 'SIGTERM') failWith(1);
      return;
    }
    if (code === EX_CONFIG) {
      logger.fatal({ role: slot.role, pid: worker.process.pid }, 'worker_config_error');
      failWith(EX_CONFIG);
      void stop('worker_config_error');
      return;
    }
    if (Date.now() - slot.startedAt >= HEALTHY_LIFE_MS) slot.attempt = 0;
    const delayMs = backoffMs(slot.attempt++, RESTART_BASE_MS, RESTART_MAX_MS);
    logger.error(
      { role: slot.role, worker: slot.index, pid: worker.process.pid, code, signal, restart_in_ms: delayMs },
      'worker_exited',
    );
    slot.restart = setTimeout(() => fork(slot), delayMs);
  };

  /** The workers running now (of `role`, when given). */
  const live = (role?: Slot['role']): Worker[] =>
    slots.flatMap((s) => (s.worker === undefined || (role !== undefined && s.role !== role) ? [] : [s.worker]));

  /** Ask `worker` and resolve with its reply, or undefined after REPLY_TIMEOUT_MS or on its exit. */
  let nextId = 0;
  const ask = <T>(worker: Worker, type: 'collect' | 'ready'): Promise<T | undefined> =>
    new Promise((resolve) => {
      const id = ++nextId;
      const done = (value: T | undefined): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onGone);
        resolve(value);
      };
      const onMessage = (m: LinkMessage): void => {
        if (m.type === `payflux:${type}:reply` && m.id === id) done(m.value as T);
      };
      const onGone = (): void => done(undefined);
      const timer = setTimeout(onGone, REPLY_TIMEOUT_MS);
      worker.on('message', onMessage);
      worker.once('exit', onGone);
      worker.send({ type: `payflux:${type}`, id } satisfies LinkMessage, (err: Error | null) => {
        if (err) onGone();
      });
    });

  const answer = async (from: Worker, m: LinkMessage): Promise<void> => {
    if (m.type === 'payflux:metrics') {
      const all = await Promise.all(live().map((w) => ask<MetricJson[]>(w, 'collect')));
      const registry = aggregateMetrics(all.filter((x): x is MetricJson[] => x !== undefined));
      const value = { text: await registry.metrics(), contentType: registry.contentType, workers: all.length };
      reply(from, { type: 'payflux:metrics:reply', id: m.id, value });
    } else if (m.type === 'payflux:consumer-ready' && slots.find((s) => s.worker === from)?.role === 'consumer') {
      const peers = slots.filter((s) => s.role === 'consumer' && s.worker !== from);
      const reports = await Promise.all(
        peers.map((s) => (s.worker === undefined ? Promise.resolve(undefined) : ask<ReadyAnswer>(s.worker, 'ready'))),
      );
      reply(from, { type: 'payflux:consumer-ready:reply', id: m.id, value: { kind: 'peers', reports } });
    } else if (m.type === 'payflux:consumer-ready') {
      const slot = slots.find((s) => s.role === 'consumer');
      const report = slot?.worker === undefined ? undefined : await ask<ReadyAnswer>(slot.worker, 'ready');
      const value: ConsumerReady =
        slot === undefined ? { kind: 'none' } : report === undefined ? { kind: 'down' } : { kind: 'report', report };
      reply(from, { type: 'payflux:consumer-ready:reply', id: m.id, value });
    }
  };
  const reply = (to: Worker, m: LinkMessage): void => {
    if (to.isConnected()) to.send(m, () => undefined);
  };

  const stopRole = async (role: Slot['role']): Promise<void> => {
    const ws = live(role);
    for (const w of ws) w.process.kill('SIGTERM');
    await Promise.all(ws.map((w) => exits.get(w) ?? Promise.resolve(0)));
  };

  let stopped: Promise<void> | undefined;
  const stop = (why: string): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      logger.info({ reason: why }, 'shutdown_started');
      for (const s of slots) clearTimeout(s.restart);
      // Past the workers' own deadline (they exit 1 then), whatever still runs is killed.
      const kill = setTimeout(
        () => {
          logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown_timed_out');
          failWith(1);
          for (const w of live()) w.process.kill('SIGKILL');
        },
        config.shutdownTimeoutMs * 2 + 5000,
      );
      kill.unref();
      // Ingest first: the consumer goes on reading what their last appends stored.
      await stopRole('ingest');
      await stopRole('consumer');
      clearTimeout(kill);
      logger.info({ code: exitCode }, 'shutdown_complete');
      logger.flush();
      process.exitCode = exitCode;
      // The cluster's listening handle and the signal handlers would hold the process.
      setTimeout(() => process.exit(exitCode), 100).unref();
    })());

  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of live()) w.process.kill('SIGHUP');
  });
  logger.info({ workers: slots.map((s) => s.role).join(','), pid: process.pid }, 'supervisor_started');
  for (const s of slots) fork(s);
}

/**
 * A worker's side of the supervisor (src/supervisor.ts): the messages between them over the
 * cluster's IPC channel, and what a worker's `/metrics` and `/ready` become.
 *
 *   worker ─ payflux:metrics ─▶ primary ─ payflux:collect ─▶ every worker ─ its registry as JSON ─▶
 *   primary: aggregated ─ text ─▶ the worker that was scraped
 *   worker ─ payflux:consumer-ready ─▶ primary ─ payflux:ready ─▶ the consumer ─ its /ready report ─▶ …
 *   (asked by the first consumer of a consumer node: every other consumer's report)
 */
import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import { WORKER_LISTENS_VAR } from '../config-types.js';
import { REPLY_TIMEOUT_MS, type ConsumerReady, type LinkMessage } from '../supervisor.js';
import type { MetricsSource, ReadyReport } from './ops-routes.js';

export interface WorkerOps {
  readonly registry: MetricsSource;
  readonly ready: () => Promise<ReadyReport>;
}

/** What `start()` wires into `/metrics` and `/ready` of a supervised worker. */
export interface WorkerLink {
  /** A consumer worker that serves the ops port for its node's consumers (the supervisor's first). */
  readonly listens: boolean;
  attach(registry: Registry, ready: () => Promise<ReadyReport>): WorkerOps;
}

/** The link of a worker the supervisor forked (`env`: its environment); undefined in any other process. */
export function workerLink(env: Readonly<Record<string, string | undefined>>): WorkerLink | undefined {
  if (!cluster.isWorker) return undefined;
  let nextId = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  const ask = (type: string): Promise<unknown> =>
    new Promise((resolve) => {
      const id = ++nextId;
      const timer = setTimeout(() => settle(undefined), REPLY_TIMEOUT_MS * 2);
      const settle = (value: unknown): void => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(value);
      };
      waiting.set(id, settle);
      process.send?.({ type, id } satisfies LinkMessage);
    });
  return {
    listens: env[WORKER_LISTENS_VAR] === '1',
    attach(registry, ready) {
      process.on('message', (m: LinkMessage) => {
        if (m.type === 'payflux:collect')
          void registry.getMetricsAsJSON().then((value) => reply({ type: 'payflux:collect:reply', id: m.id, value }));
        else if (m.type === 'payflux:ready')
          void ready().then((value) => reply({ type: 'payflux:ready:reply', id: m.id, value }));
        else if (m.type.endsWith(':reply')) waiting.get(m.id)?.(m.value);
      });
      return {
        registry: {
          contentType: registry.contentType,
          async metrics() {
            const got = (await ask('payflux:metrics')) as { text: string } | undefined;
            // The primary did not answer (it is going away): this worker's own figures.
            return got?.text ?? registry.metrics();
          },
        },
        async ready() {
          const [own, consumer] = await Promise.all([ready(), ask('payflux:consumer-ready')]);
          return joinReady(own, (consumer as ConsumerReady | undefined) ?? { kind: 'down' });
        },
      };
    },
  };
}

const reply = (m: LinkMessage): void => {
  if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
};

/**
 * An ingest worker's readiness with the consumer's: ready when both are. With PAYFLUX_ROLE=all
 * the node as a whole ingests and consumes, so it reports role `all` and the consumer's part.
 */
export function joinReady(own: ReadyReport, answer: ConsumerReady): ReadyReport {
  if (answer.kind === 'peers') return joinPeers(own, answer.reports);
  if (own.role !== 'ingest' || answer.kind === 'none') return own;
  if (answer.kind === 'down')
    return {
      ...own,
      ready: false,
      reason: own.reason ?? 'the consumer process is not running (restarting)',
      role: 'all',
      consumer: { enabled: true, running: false },
    };
  const consumer = answer.report;
  const reason = own.ready ? (consumer.ready ? undefined : `consumer process: ${String(consumer.reason)}`) : own.reason;
  return {
    ...own,
    ready: own.ready && consumer.ready,
    ...(reason !== undefined && { reason }),
    role: 'all',
    consumer: consumer.consumer,
    lag: consumer.lag,
    pending: consumer.pending,
    stream_length: consumer.stream_length,
    dlq_depth: consumer.dlq_depth,
    export: consumer.export,
  };
}

/**
 * A consumer node's readiness: the first consumer's own with every other consumer process's,
 * ready when all are. Lag, pending and the stream figures are the group's, read alike by each.
 */
function joinPeers(
  own: ReadyReport,
  peers: readonly ({ readonly ready: boolean; readonly [detail: string]: unknown } | undefined)[],
): ReadyReport {
  const consumer = (own.consumer ?? {}) as { readonly running?: boolean };
  const down = peers.filter((p) => p === undefined).length;
  const stuck = peers.find((p) => p !== undefined && !p.ready);
  const reason = !own.ready
    ? own.reason
    : down > 0
      ? `${down} of ${peers.length + 1} consumer processes not running (restarting)`
      : stuck !== undefined
        ? `consumer process: ${String(stuck.reason)}`
        : undefined;
  return {
    ...own,
    ready: reason === undefined,
    ...(reason !== undefined && { reason }),
    consumer: { ...consumer, processes: peers.length + 1, running: consumer.running === true && down === 0 },
  };
}

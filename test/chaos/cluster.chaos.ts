/**
 * `npm run chaos:cluster`: the scale-out chaos scenarios on a Redis Cluster (3 masters + 3
 * replicas) with 2 ingest + 3 consumer processes. Each asserts the live output equals `payflux
 * backtest` per event and per incident, nothing answered 2xx is lost, and duplicates come only
 * from batches in flight (with identical risk fields). failover.chaos.ts has the same faults on
 * a standalone Redis.
 */
import { describe, expect, it } from 'vitest';
import { partitionLayout } from '../../src/buffer/partitions.js';
import { delay, poll } from '../support/poll.js';
import { API_KEY } from '../support/payflux-env.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import {
  backtest,
  baseEnv,
  expectEqualsBacktest,
  expectWarningsEqualIncidents,
  exported,
  ownerOf,
  PROCESSORS,
  scenario,
  send,
  settled,
  startTopology,
} from '../support/scale-out.js';
import { useSuite } from '../support/use-suite.js';
import { record } from './chaos.js';

const cluster = useRedisCluster();
const suite = useSuite();
const EVENTS = scenario(300);
const READ_COUNT = 200;

const stripeSlot = (): number =>
  partitionLayout({ processors: PROCESSORS, keyPrefix: '', stream: 's', dlqStream: 'd' }).partitionOf('stripe')?.slot ??
  -1;

async function scenarioRun(
  name: string,
  env: Record<string, string>,
  fault: (t: Awaited<ReturnType<typeof startTopology>>, batch: number) => Promise<void>,
  maxDuplicates: number,
  note: () => string = () => '',
): Promise<void> {
  const t = await startTopology(suite, env, { ingest: 2, consumers: 3 });
  await settled(t);
  const truth = await backtest(suite.scratch(), EVENTS);
  const started = Date.now();
  const refused = await send(t.ingest, EVENTS, { size: 50, during: (b) => fault(t, b) });
  await poll(
    'every event exported',
    () => new Set(exported(t).map((l) => l.event_id)).size,
    (n) => n >= EVENTS.length,
    {
      timeoutMs: 120_000,
    },
  );
  const duplicates = expectEqualsBacktest(exported(t), truth);
  expect(duplicates).toBeLessThanOrEqual(maxDuplicates);
  await expectWarningsEqualIncidents(t.ingest[0] as (typeof t.ingest)[number], truth);
  record({
    scenario: name,
    sent: EVENTS.length,
    acked: EVENTS.length,
    exported: exported(t).length,
    lost: 0,
    duplicated: duplicates,
    fivexx: refused,
    peakRssMb: 0,
    recoverSec: null,
    note: `2 ingest + 3 consumers on a 3+3 Cluster, ${((Date.now() - started) / 1000).toFixed(1)} s; equal to the backtest${note() === '' ? '' : `; ${note()}`}`,
  });
}

describe('chaos on a Redis Cluster', { timeout: 300_000 }, () => {
  it('kill -9 of the stripe owner mid-episode', async () => {
    await scenarioRun(
      'cluster: kill -9 a partition owner',
      baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix),
      async (t, b) => {
        if (b === 22) await ownerOf(t, 'stripe')?.stop('SIGKILL');
      },
      READ_COUNT,
    );
  });

  it('SIGSTOP of the stripe owner past its lease, then SIGCONT', async () => {
    let stopped: ReturnType<typeof ownerOf>;
    await scenarioRun(
      'cluster: SIGSTOP past the lease',
      baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix),
      async (t, b) => {
        if (b === 18) {
          stopped = ownerOf(t, 'stripe');
          stopped?.signal('SIGSTOP');
        }
        if (b === 30) {
          await delay(4000);
          stopped?.signal('SIGCONT');
        }
      },
      READ_COUNT,
    );
  });

  it('the master of stripe’s slot killed with PAYFLUX_REDIS_WAIT_REPLICAS=1: 503 while no replica acknowledges, by itself 200 again once the killed node is back as a replica, no event answered 2xx lost', async () => {
    let restarted: Promise<void> | undefined;
    const at: Record<string, number> = {};
    const since = (ms: number | undefined): string => (((ms ?? 0) - (at.killed ?? 0)) / 1000).toFixed(1);
    await scenarioRun(
      'cluster: master killed, replica ack on',
      {
        ...baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix),
        PAYFLUX_REDIS_WAIT_REPLICAS: '1',
        PAYFLUX_REDIS_WAIT_TIMEOUT_MS: '500',
        PAYFLUX_LEASE_TTL_MS: '6000',
      },
      async (t, b) => {
        if (b !== 22) return;
        const killed = await cluster.cluster.masterOf(stripeSlot());
        killed.kill();
        at.killed = Date.now();
        // A stripe event sent before (a duplicate: stored nothing, changes no score) probes
        // stripe's ingest: the append runs, then WAIT for a replica.
        const probe = async (): Promise<string> => {
          const res = await fetch(`${t.ingest[0]?.url}/v1/events/batch`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify([EVENTS[0]]),
            signal: AbortSignal.timeout(5000),
          }).catch(() => undefined);
          const body = (await res?.json().catch(() => undefined)) as { error?: { code: string; message: string } };
          return `${res?.status ?? 'no answer'} ${body?.error?.code ?? ''} ${body?.error?.message ?? ''}`;
        };
        // The promoted replica has no replica of its own: stripe's ingest answers 503 until the
        // killed node, started again once its replica took over, has synced from it.
        restarted = (async () => {
          await poll(
            'stripe’s slot on the promoted replica',
            () => cluster.cluster.masterOf(stripeSlot()).then((m) => m.port),
            (port) => port !== killed.port,
            { timeoutMs: 60_000, everyMs: 200 },
          );
          at.promoted = Date.now();
          const refused = await poll('stripe’s ingest refused for want of a replica', probe, (r) =>
            /^503 PF_ERR_BUFFER_UNAVAILABLE .*0 of 1 replicas acknowledged/.test(r),
          );
          expect(refused).toContain('retry later');
          // Left without a replica a while: nothing changes until one attaches.
          await delay(2000);
          expect(await probe()).toMatch(/^503 /);
          await killed.restart();
          at.resynced = Date.now();
          await poll('stripe’s ingest accepting again by itself', probe, (r) => r.startsWith('200'), {
            timeoutMs: 10_000,
          });
          at.accepting = Date.now();
        })();
      },
      // The replica may lack the consumers' last commits: those batches are read again.
      READ_COUNT * 6,
      () =>
        `after the kill: promoted ${since(at.promoted)} s, restarted node in sync ${since(at.resynced)} s, ` +
        `stripe accepting ${since(at.accepting)} s`,
    );
    await restarted;
    expect(at.accepting).toBeGreaterThan(0);
  });

  it('stripe’s slot resharded to another master under load', async () => {
    await scenarioRun(
      'cluster: reshard a partition slot',
      baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix),
      async (_t, b) => {
        if (b === 22) await cluster.cluster.moveSlot(stripeSlot());
      },
      READ_COUNT,
    );
  });
});

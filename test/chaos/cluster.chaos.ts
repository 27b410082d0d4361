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
): Promise<void> {
  const t = await startTopology(suite, env, { ingest: 2, consumers: 3 });
  await settled(t);
  const truth = await backtest(suite.scratch(), EVENTS);
  const started = Date.now();
  await send(t.ingest, EVENTS, { size: 50, during: (b) => fault(t, b) });
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
    fivexx: 0,
    peakRssMb: 0,
    recoverSec: null,
    note: `2 ingest + 3 consumers on a 3+3 Cluster, ${((Date.now() - started) / 1000).toFixed(1)} s; equal to the backtest`,
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

  it('the master of stripe’s slot killed with PAYFLUX_REDIS_WAIT_REPLICAS=1: no event answered 2xx is lost', async () => {
    await scenarioRun(
      'cluster: master killed, replica ack on',
      {
        ...baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix),
        PAYFLUX_REDIS_WAIT_REPLICAS: '1',
        PAYFLUX_REDIS_WAIT_TIMEOUT_MS: '500',
        PAYFLUX_LEASE_TTL_MS: '6000',
      },
      async (_t, b) => {
        if (b === 22) (await cluster.cluster.masterOf(stripeSlot())).kill();
      },
      // The replica may lack the consumers' last commits: those batches are read again.
      READ_COUNT * 6,
    );
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

/**
 * Ground truth with 2 ingest + 3 consumer processes (`payflux serve`), on a standalone Redis and
 * on a Redis Cluster: every exported event carries the score, band and drivers `payflux
 * backtest` gives over the same events, and the warnings are exactly its incidents, one per
 * episode, whichever node is asked.
 */
import { describe, expect, it } from 'vitest';
import { rendezvousOwner } from '../../../src/buffer/ownership.js';
import { poll } from '../../support/poll.js';
import { useRedisCluster } from '../../support/redis-cluster.js';
import {
  backtest,
  baseEnv,
  expectEqualsBacktest,
  expectWarningsEqualIncidents,
  exported,
  scenario,
  send,
  settled,
  startTopology,
} from '../../support/scale-out.js';
import { useRedis } from '../../support/use-redis.js';
import { useSuite } from '../../support/use-suite.js';

const EVENTS = scenario(300);

async function groundTruth(s: ReturnType<typeof useSuite>, env: Record<string, string>): Promise<void> {
  // Steady state: the default lease, so that no partition moves on a loaded machine.
  const t = await startTopology(s, { ...env, PAYFLUX_LEASE_TTL_MS: '10000' }, { ingest: 2, consumers: 3 });
  await settled(t);
  const truth = await backtest(s.scratch(), EVENTS);
  await send(t.ingest, EVENTS);
  await poll(
    'every event exported',
    () => exported(t).length,
    (n) => n >= EVENTS.length,
    {
      timeoutMs: 60_000,
      context: () => t.consumers.map((c) => c.stderrTail()).join('\n'),
    },
  );
  expect(expectEqualsBacktest(exported(t), truth)).toBe(0);
  // Each consumer exported the partitions rendezvous hashing gave it, and only those.
  const members = ['c1', 'c2', 'c3'];
  for (const c of t.consumers) {
    const mine = new Set(c.exported().map((l) => String(l.processor)));
    expect([...mine].every((p) => rendezvousOwner(p, members) === c.env.PAYFLUX_CONSUMER_NAME)).toBe(true);
  }
  expect(truth.incidents.length).toBeGreaterThanOrEqual(1);
  for (const node of [...t.ingest, ...t.consumers]) await expectWarningsEqualIncidents(node, truth);
}

describe('ground truth on a standalone Redis', { timeout: 180_000 }, () => {
  const suite = useRedis();
  it('2 ingest + 3 consumer processes export what the backtest computes, per event and per incident', async () => {
    await groundTruth(suite, baseEnv({ addr: suite.server.addr }, suite.prefix));
  });
});

describe('ground truth on a Redis Cluster', { timeout: 180_000 }, () => {
  const cluster = useRedisCluster();
  const suite = useSuite();
  it('2 ingest + 3 consumer processes export what the backtest computes, per event and per incident', async () => {
    await groundTruth(suite, baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix));
  });
});

/**
 * Ground truth with 2 ingest + 3 consumer processes (`payflux serve`), on a standalone Redis and
 * on a Redis Cluster: every exported event carries the score, band and drivers `payflux
 * backtest` gives over the same events, and the warnings are exactly its incidents, one per
 * episode, whichever node is asked.
 */
import { describe, expect, it } from 'vitest';
import { delay, poll } from '../../support/poll.js';
import { useRedisCluster } from '../../support/redis-cluster.js';
import {
  backtest,
  baseEnv,
  expectEqualsBacktest,
  expectWarningsEqualIncidents,
  exported,
  scenario,
  send,
  startTopology,
} from '../../support/scale-out.js';
import { useRedis } from '../../support/use-redis.js';
import { useSuite } from '../../support/use-suite.js';

const EVENTS = scenario(300);

async function groundTruth(s: ReturnType<typeof useSuite>, env: Record<string, string>): Promise<void> {
  const t = await startTopology(s, env, { ingest: 2, consumers: 3 });
  // Let membership settle: each consumer sees the others before traffic starts.
  await delay(1500);
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
  // The partitions are spread: more than one consumer exported.
  expect(t.consumers.filter((c) => c.lines.length > 0).length).toBeGreaterThan(1);
  expect(truth.incidents.length).toBeGreaterThanOrEqual(1);
  for (const node of [...t.ingest, ...t.consumers]) await expectWarningsEqualIncidents(node, truth);
}

describe('ground truth on a standalone Redis', { timeout: 120_000 }, () => {
  const suite = useRedis();
  it('2 ingest + 3 consumer processes export what the backtest computes, per event and per incident', async () => {
    await groundTruth(suite, baseEnv({ addr: suite.server.addr }, suite.prefix));
  });
});

describe('ground truth on a Redis Cluster', { timeout: 120_000 }, () => {
  const cluster = useRedisCluster();
  const suite = useSuite();
  it('2 ingest + 3 consumer processes export what the backtest computes, per event and per incident', async () => {
    await groundTruth(suite, baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix));
  });
});

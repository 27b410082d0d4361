/**
 * Ground truth with 2 ingest + 3 consumer processes (test/support/ground-truth.ts), on a
 * standalone Redis and on a 3+3 Redis Cluster.
 */
import { describe, it } from 'vitest';
import { groundTruth } from '../../support/ground-truth.js';
import { useRedisCluster } from '../../support/redis-cluster.js';
import { baseEnv } from '../../support/scale-out.js';
import { useRedis } from '../../support/use-redis.js';
import { useSuite } from '../../support/use-suite.js';

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
    // One seed node, as operators often configure it: every other node's connection is then
    // made after the slot map arrives (cluster-ingest.test.ts: the partition readers' connections).
    const seed = cluster.cluster.nodes[0]?.addr ?? '';
    await groundTruth(suite, baseEnv({ clusterNodes: seed }, cluster.prefix));
  });
});

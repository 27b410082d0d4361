/**
 * Ground truth with 2 ingest + 3 consumer processes on a 3+3 Redis Cluster
 * (test/support/ground-truth.ts). Outside `npm test`: partitions on a Cluster do not always
 * settle on their rendezvous owners within a minute on a loaded machine (an open defect).
 */
import { describe, it } from 'vitest';
import { groundTruth } from '../support/ground-truth.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { baseEnv } from '../support/scale-out.js';
import { useSuite } from '../support/use-suite.js';

describe('ground truth on a Redis Cluster', { timeout: 180_000 }, () => {
  const cluster = useRedisCluster();
  const suite = useSuite();
  it('2 ingest + 3 consumer processes export what the backtest computes, per event and per incident', async () => {
    await groundTruth(suite, baseEnv({ clusterNodes: cluster.cluster.seeds }, cluster.prefix));
  });
});

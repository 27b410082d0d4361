/**
 * Partitions on a Redis Cluster (3 masters + 3 replicas) spread over the masters. Ingest and
 * export on a Cluster: ground-truth.test.ts (2 ingest + 3 consumer processes); replica
 * acknowledgement: wait-replicas.test.ts, and on a Cluster with a master killed in
 * `npm run chaos:cluster`.
 */
import { describe, expect, it } from 'vitest';
import { partitionLayout } from '../../../src/buffer/partitions.js';
import { useRedisCluster } from '../../support/redis-cluster.js';

const suite = useRedisCluster();
const PROCESSORS = ['stripe', 'adyen', 'checkout', 'internal'];

describe('on a Redis Cluster', { timeout: 60_000 }, () => {
  it('spreads the default processors’ partitions over every master', async () => {
    const layout = partitionLayout({ processors: PROCESSORS, keyPrefix: 'payflux:', stream: 's', dlqStream: 'd' });
    const owners = new Set<number>();
    for (const p of layout.partitions) owners.add((await suite.cluster.masterOf(p.slot)).port);
    expect(owners.size).toBe(3);
  });
});

/**
 * Ground truth with 2 ingest + 3 consumer processes on a standalone Redis (test/support/ground-truth.ts).
 * The same on a Redis Cluster runs in `npm run chaos:cluster` (test/chaos/ground-truth.chaos.ts).
 */
import { describe, it } from 'vitest';
import { groundTruth } from '../../support/ground-truth.js';
import { baseEnv } from '../../support/scale-out.js';
import { useRedis } from '../../support/use-redis.js';

describe('ground truth on a standalone Redis', { timeout: 180_000 }, () => {
  const suite = useRedis();
  it('2 ingest + 3 consumer processes export what the backtest computes, per event and per incident', async () => {
    await groundTruth(suite, baseEnv({ addr: suite.server.addr }, suite.prefix));
  });
});

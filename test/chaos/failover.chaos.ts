/**
 * `npm run chaos:cluster` (and `npm run chaos`): failover and rebalancing with real processes
 * on a standalone Redis (cluster.chaos.ts has the Cluster variants): kill -9 of a partition's
 * owner mid-episode, a SIGSTOP past the lease then SIGCONT, consumers added and removed under
 * load. Their fast core in `npm test` is the ownership simulator (test/unit/pipeline) and the
 * ground truth (test/integration/cluster/ground-truth.test.ts). Each time the live output still
 * equals `payflux backtest` per event (duplicates only from the batch in flight, with identical
 * risk fields), nothing is lost, and the warnings are exactly its incidents.
 */
import { describe, expect, it } from 'vitest';
import { delay, poll } from '../support/poll.js';
import {
  backtest,
  baseEnv,
  expectEqualsBacktest,
  expectWarningsEqualIncidents,
  exported,
  ownerOf,
  scenario,
  send,
  settled,
  startTopology,
} from '../support/scale-out.js';
import { startPayflux } from '../support/payflux-process.js';
import { freePort } from '../support/redis-server.js';
import { useRedis } from '../support/use-redis.js';

const suite = useRedis();
const EVENTS = scenario(300);
const LEASE_MS = 3000;
const READ_COUNT = 200;

describe('failover', { timeout: 120_000 }, () => {
  it('kill -9 of the stripe owner mid-episode: another consumer continues within the lease + 5 s, with the backtest’s scores', async () => {
    const env = baseEnv({ addr: suite.server.addr }, suite.prefix);
    const t = await startTopology(suite, env, { ingest: 2, consumers: 3 });
    await settled(t);
    const truth = await backtest(suite.scratch(), EVENTS);
    let killedAt = 0;
    await send(t.ingest, EVENTS, {
      size: 50,
      during: async (b) => {
        // In the middle of stripe's outage (30–55 % of 54 batches).
        if (b !== 22) return;
        const owner = ownerOf(t, 'stripe');
        expect(owner).toBeDefined();
        await owner?.stop('SIGKILL');
        killedAt = Date.now();
      },
    });
    await poll(
      'every event exported',
      () => new Set(exported(t).map((l) => l.event_id)).size,
      (n) => n >= EVENTS.length,
      {
        timeoutMs: 60_000,
      },
    );
    const movedIn = Math.min(
      ...t.consumers
        .filter((c) => c.alive())
        .flatMap((c) => c.stderrLines())
        .filter((l) => l.includes('partition_acquired') && l.includes('"partition":"stripe"'))
        .map((l) => Date.parse(/"time":"([^"]+)"/.exec(l)?.[1] ?? ''))
        .filter((at) => at >= killedAt),
    );
    expect(movedIn - killedAt).toBeLessThanOrEqual(LEASE_MS + 5000);
    expect(expectEqualsBacktest(exported(t), truth)).toBeLessThanOrEqual(READ_COUNT);
    await expectWarningsEqualIncidents(t.ingest[0] as (typeof t.ingest)[number], truth);
  });

  it('SIGSTOP of the stripe owner past its lease, then SIGCONT: its commit or read is refused, and nothing differs from the backtest', async () => {
    const env = baseEnv({ addr: suite.server.addr }, suite.prefix);
    const t = await startTopology(suite, env, { ingest: 2, consumers: 3 });
    await settled(t);
    const truth = await backtest(suite.scratch(), EVENTS);
    let stopped: (typeof t.consumers)[number] | undefined;
    await send(t.ingest, EVENTS, {
      size: 50,
      during: async (b) => {
        if (b === 18) {
          stopped = ownerOf(t, 'stripe');
          stopped?.signal('SIGSTOP');
        }
        if (b === 30) {
          // Past the lease: another consumer owns stripe by now.
          await delay(Math.max(0, LEASE_MS + 1000));
          stopped?.signal('SIGCONT');
        }
      },
    });
    expect(stopped).toBeDefined();
    await poll(
      'every event exported',
      () => new Set(exported(t).map((l) => l.event_id)).size,
      (n) => n >= EVENTS.length,
      {
        timeoutMs: 60_000,
      },
    );
    await poll(
      'the woken owner fenced',
      () => stopped?.stderrLines().some((l) => /partition_(commit|read)_fenced|"reason":"(fenced|lease_lost)"/.test(l)),
      (yes) => yes === true,
      { timeoutMs: 10_000 },
    );
    expect(expectEqualsBacktest(exported(t), truth)).toBeLessThanOrEqual(READ_COUNT);
    await expectWarningsEqualIncidents(t.ingest[1] as (typeof t.ingest)[number], truth);
  });

  it('a consumer added and one removed under load: partitions move, nothing is lost or scored differently', async () => {
    const env = baseEnv({ addr: suite.server.addr }, suite.prefix);
    const t = await startTopology(suite, env, { ingest: 2, consumers: 2 });
    await settled(t);
    const truth = await backtest(suite.scratch(), EVENTS);
    await send(t.ingest, EVENTS, {
      size: 50,
      during: async (b) => {
        if (b === 10)
          t.consumers.push(
            await startPayflux(suite, {
              ...env,
              HTTP_ADDR: `127.0.0.1:${await freePort()}`,
              PAYFLUX_ROLE: 'consumer',
              PAYFLUX_CONSUMER_NAME: 'c3',
            }),
          );
        if (b === 35) expect((await t.consumers[0]?.stop('SIGTERM'))?.code).toBe(0);
      },
    });
    await poll(
      'every event exported',
      () => new Set(exported(t).map((l) => l.event_id)).size,
      (n) => n >= EVENTS.length,
      {
        timeoutMs: 60_000,
      },
    );
    // A clean hand-over (release after the batch is committed) repeats nothing; a lease that
    // lapses on a loaded machine moves a partition like a failure would: a batch at most.
    expect(expectEqualsBacktest(exported(t), truth)).toBeLessThanOrEqual(READ_COUNT);
    expect(t.consumers[2]?.lines.length).toBeGreaterThan(0);
    await expectWarningsEqualIncidents(t.ingest[0] as (typeof t.ingest)[number], truth);
  });
});

/**
 * A silent partition's cooldown runs on the cluster's watermark: stripe, the one partition of
 * its consumer, stops sending a few seconds into its quiet spell after an outage; the others go
 * on, on another consumer, past the end of its cooldown. Its warning resolves all the same, at
 * the end of its cooldown, as the backtest over the same events says (pipeline/checkpoint-view.ts
 * publishes the newest committed event time; trackIncidents' clock).
 */
import { describe, expect, it } from 'vitest';
import { rendezvousOwner } from '../../../src/rendezvous.js';
import { startPayflux, type PayfluxProcess } from '../../support/payflux-process.js';
import { poll } from '../../support/poll.js';
import { freePort } from '../../support/redis-server.js';
import {
  backtest,
  baseEnv,
  expectEqualsBacktest,
  expectWarningsEqualIncidents,
  exported,
  PROCESSORS,
  scenario,
  send,
  settled,
  startTopology,
} from '../../support/scale-out.js';
import { useRedis } from '../../support/use-redis.js';

/** Two consumer names that give stripe a consumer of its own. */
function namesWithStripeAlone(): [string, string] {
  for (let n = 1; ; n++) {
    const names = [`c${n}`, `d${n}`].sort() as [string, string];
    const owner = rendezvousOwner('stripe', names);
    if (PROCESSORS.every((p) => p === 'stripe' || rendezvousOwner(p, names) !== owner)) return names;
  }
}

describe('a silent partition’s cooldown', { timeout: 180_000 }, () => {
  const suite = useRedis();
  it('resolves on the other partitions’ event time once its processor stops sending', async () => {
    const full = scenario(300);
    // Where stripe's quiet spell starts: its incident's resolution (by its own events) less the cooldown.
    const first = await backtest(suite.scratch(), full);
    const stripe = first.incidents.find((i) => i.processor === 'stripe');
    const quietSince = Date.parse(String(stripe?.resolved_at)) - 60_000;
    const lastMs = Math.max(...full.map((e) => Date.parse(String(e.event_timestamp))));
    expect(lastMs - quietSince).toBeGreaterThan(90_000);
    // stripe stops 5 s into its quiet spell; the others send on for over a minute.
    const events = full.filter(
      (e) => e.processor !== 'stripe' || Date.parse(String(e.event_timestamp)) <= quietSince + 5000,
    );
    const truth = await backtest(suite.scratch(), events);
    expect(truth.incidents.find((i) => i.processor === 'stripe')).toMatchObject({
      status: 'resolved',
      resolved_at: stripe?.resolved_at,
    });

    const [a, b] = namesWithStripeAlone();
    const env = { ...baseEnv({ addr: suite.server.addr }, suite.prefix), PAYFLUX_LEASE_TTL_MS: '10000' };
    const t = await startTopology(suite, env, { ingest: 1, consumers: 0 });
    for (const name of [a, b])
      t.consumers.push(
        await startPayflux(suite, {
          ...env,
          HTTP_ADDR: `127.0.0.1:${await freePort()}`,
          PAYFLUX_ROLE: 'consumer',
          PAYFLUX_CONSUMER_NAME: name,
        }),
      );
    await settled(t);
    await send(t.ingest, events);
    await poll(
      'every event exported',
      () => exported(t).length,
      (n) => n >= events.length,
      { timeoutMs: 60_000, context: () => t.consumers.map((c) => c.stderrTail()).join('\n') },
    );
    expect(expectEqualsBacktest(exported(t), truth)).toBe(0);
    // The resolution comes with the next batch or empty read after the watermark passes its end.
    let last = '';
    await poll(
      'stripe’s warning resolved',
      async () => {
        try {
          await expectWarningsEqualIncidents(t.consumers[0] as PayfluxProcess, truth);
          return true;
        } catch (err) {
          last = (err as Error).message;
          return false;
        }
      },
      (yes) => yes,
      { timeoutMs: 20_000, context: () => last },
    );
    for (const node of [...t.ingest, ...t.consumers]) await expectWarningsEqualIncidents(node, truth);
  });
});

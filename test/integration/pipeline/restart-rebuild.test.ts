/** A restart restores each processor's risk window from its partition's checkpoint, without exporting twice. */
import { describe, expect, it } from 'vitest';
import { post, startTestApp, TEST_KEY } from '../../support/app.js';
import { event } from '../../support/events.js';
import { defined, delay, poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

interface Snap {
  processor: string;
  band: string;
  window: { events: number };
}
const snapshot = async (url: string): Promise<Snap[]> =>
  (
    (await (await fetch(`${url}/v1/risk/processors`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as {
      processors: Snap[];
    }
  ).processors;

describe('restart', () => {
  it('restores the window from the checkpoint: same band and counts, and nothing exported again', async () => {
    // Both apps run under the test's prefix: the second finds the first one's stream.
    const env = { PAYFLUX_RATELIMIT_RPS: '0' };
    const first = await startTestApp(suite, env);
    const t0 = Date.now() - 90_000;
    const events = Array.from({ length: 80 }, (_, i) =>
      event({
        processor: 'checkout',
        failure_category: 'gateway_timeout',
        event_timestamp: new Date(t0 + i * 1000).toISOString(),
      }),
    );
    await post(`${first.url}/v1/events/batch`, events);
    await poll(
      'the first export',
      () => first.lines.length,
      (n) => n >= 80,
      { timeoutMs: 5000 },
    );
    const before = await poll(
      'the committed window',
      async () => (await snapshot(first.url)).find((s) => s.processor === 'checkout'),
      (s) => s?.window.events === 80,
      { timeoutMs: 5000 },
    );
    await first.close();

    const second = await startTestApp(suite, env);
    const after = await poll(
      'the rebuilt window',
      async () => (await snapshot(second.url)).find((s) => s.processor === 'checkout'),
      defined,
      { timeoutMs: 5000 },
    );
    expect(after.window.events).toBe(before?.window.events);
    expect(after.band).toBe(before?.band);
    expect(after.band).toBe('critical');
    await delay(300); // long enough for a re-export to show
    expect(second.lines).toHaveLength(0);
  });
});

/**
 * Bounded logging: per-request failures during a Redis outage are counted and summarised, one
 * line an interval with counts per code, never a line (with a stack) per request.
 */
import { describe, expect, it } from 'vitest';
import { captureLogs, post, startTestApp } from '../../support/app.js';
import { makeEvent } from '../../support/events.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('log flood', { timeout: 60_000 }, () => {
  it('writes no line per 503 while Redis is down, and one summary with the counts', async () => {
    const { logger, logs } = captureLogs();
    const { running, url } = await startTestApp(suite, { PAYFLUX_RATELIMIT_RPS: '0' }, { logger });
    const before = logs.length;
    suite.server.pause();
    let answers: number[];
    try {
      answers = [];
      for (let round = 0; round < 6; round++) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            post(`${url}/v1/events/payment_exhaust`, makeEvent(`flood-${round}-${i}`)).then((r) => r.status),
          ),
        );
        answers.push(...batch);
      }
    } finally {
      suite.server.resume();
    }
    await running.close();
    expect(answers.filter((s) => s === 503).length).toBeGreaterThanOrEqual(250);
    const during = logs.slice(before);
    expect(during.filter((l) => l.msg === 'request_failed')).toEqual([]);
    const summaries = during.filter((l) => l.msg === 'request_failures_summary');
    const counted = summaries.reduce(
      (n, l) => n + Object.values((l.counts as Record<string, number> | undefined) ?? {}).reduce((a, b) => a + b, 0),
      0,
    );
    expect(counted).toBe(answers.filter((s) => s === 503).length);
    // Everything else PayFlux logged meanwhile (the consumer's and the watchdog's state changes) is a few lines.
    expect(during.length).toBeLessThan(30);
  });
});

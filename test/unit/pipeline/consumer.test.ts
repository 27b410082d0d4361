import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBuffer } from '../../../src/buffer/memory-buffer.js';
import type { EventBuffer, StreamReader } from '../../../src/buffer/buffer.js';
import { loadConfig } from '../../../src/config.js';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { createMetrics } from '../../../src/metrics.js';
import { startConsumer } from '../../../src/pipeline/consumer.js';
import type { Exporter } from '../../../src/sinks/exporter.js';
import type { Batch } from '../../../src/pipeline/types.js';

const stored = JSON.stringify(
  toPaymentEvent({
    event_id: 'e1',
    event_type: 'payment_succeeded',
    event_timestamp: new Date().toISOString(),
    processor: 'stripe',
  }),
);

/** An exporter that keeps what it was given (our own sink interface). */
function fakeExporter(written: Batch[]): Exporter {
  return {
    write: (batch) => {
      written.push(batch);
      return Promise.resolve();
    },
    annotate: () => Promise.resolve(),
    reopen: () => Promise.resolve(),
    health: () => ({ healthy: true }) as unknown as ReturnType<Exporter['health']>,
    close: () => Promise.resolve(),
  };
}

const memoryBuffer = () =>
  createMemoryBuffer({ dedupWindowSec: 60, maxLen: 0, maxBacklog: 1000, maxDedupKeys: 1000, rawEventTtlDays: 7 });

// The consumer's waits (blocking reads, retry backoff) run on fake timers: time moves only when
// a test advances it, so "after a retry or two" is a number of milliseconds, not a sleep.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('startConsumer', () => {
  it('writes a batch’s dead letters once when the ack after them fails and is retried', async () => {
    const config = loadConfig({ PAYFLUX_BUFFER: 'memory', PAYFLUX_READ_BLOCK_MS: '50' });
    const memory = memoryBuffer();
    const calls = { deadLetter: 0, ack: 0 };
    // The real memory buffer, its reader's first ack failing as a dropped connection would.
    const buffer: EventBuffer = {
      ...memory,
      openReader: async (name: string): Promise<StreamReader> => {
        const r = await memory.openReader(name);
        return {
          ...r,
          deadLetter: (items) => {
            calls.deadLetter++;
            return r.deadLetter(items);
          },
          ack: (ids) =>
            ids.length > 0 && ++calls.ack === 1 ? Promise.reject(new Error('connection lost')) : r.ack(ids),
        };
      },
    };
    await buffer.append([
      { dedupKey: 'a', payload: stored },
      { dedupKey: 'b', payload: '{not json' },
    ]);
    const metrics = createMetrics();
    const written: Batch[] = [];
    const consumer = await startConsumer(config, {
      buffer,
      exporter: fakeExporter(written),
      metrics,
      logger: pino({ level: 'silent' }),
    });
    // The failed ack is retried after a backoff of at most 100 ms.
    await vi.advanceTimersByTimeAsync(1000);
    await consumer.stop();

    expect(calls).toEqual({ deadLetter: 1, ack: 2 });
    expect(await buffer.dlqList(10)).toHaveLength(1);
    expect((await buffer.stats()).pending).toBe(0);
    expect(written.flatMap((b) => b.entries.map((e) => e.event.event_id))).toEqual(['e1']);
    expect(await metrics.registry.getSingleMetricAsString('payflux_consumer_dlq_total')).toContain(
      'payflux_consumer_dlq_total{reason="decode_error"} 1',
    );
    await buffer.close();
  });

  it('reports the stage it keeps retrying, and clears it once the stage succeeds', async () => {
    const config = loadConfig({ PAYFLUX_BUFFER: 'memory', PAYFLUX_READ_BLOCK_MS: '50' });
    const buffer = memoryBuffer();
    await buffer.append([{ dedupKey: 'a', payload: stored }]);
    let failing = true;
    const metrics = createMetrics();
    const consumer = await startConsumer(config, {
      buffer,
      exporter: fakeExporter([]),
      metrics,
      logger: pino({ level: 'silent' }),
      afterExport: () => (failing ? Promise.reject(new Error('WRONGTYPE warnings key')) : Promise.resolve()),
    });
    const failures = async (): Promise<string> =>
      metrics.registry.getSingleMetricAsString('payflux_consumer_errors_total');
    // The first read, export and failing store need no time to pass.
    await vi.advanceTimersByTimeAsync(0);
    expect(consumer.stalled()).toMatchObject({ stage: 'after_export', error: 'WRONGTYPE warnings key' });
    const since = consumer.stalled()?.sinceMs;
    expect(since).toBe(Date.now());
    // Backoffs of 50–100 ms, then 100–200 ms: 150 ms later the stage has failed again, and the
    // stall still dates from the first failure.
    await vi.advanceTimersByTimeAsync(150);
    expect(await failures()).toMatch(/payflux_consumer_errors_total\{stage="after_export"\} [2-9]/);
    expect(consumer.stalled()?.sinceMs).toBe(since);
    expect((await buffer.stats()).pending).toBe(1);
    failing = false;
    // The next attempt comes within the backoff's ceiling of 800 ms.
    await vi.advanceTimersByTimeAsync(2000);
    expect(consumer.stalled()).toBeUndefined();
    expect((await buffer.stats()).pending).toBe(0);
    await consumer.stop();
    await buffer.close();
  });
});

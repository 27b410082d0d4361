import pino from 'pino';
import { describe, expect, it } from 'vitest';
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
    reopen: () => Promise.resolve(),
    health: () => ({ healthy: true }) as unknown as ReturnType<Exporter['health']>,
    close: () => Promise.resolve(),
  };
}

describe('startConsumer', () => {
  it('writes a batch’s dead letters once when the ack after them fails and is retried', async () => {
    const config = loadConfig({ PAYFLUX_BUFFER: 'memory', PAYFLUX_READ_BLOCK_MS: '50' });
    const memory = createMemoryBuffer({
      dedupWindowSec: 60,
      maxLen: 0,
      maxBacklog: 1000,
      maxDedupKeys: 1000,
      rawEventTtlDays: 7,
    });
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
    for (let i = 0; i < 100 && (calls.ack < 2 || (await buffer.stats()).pending > 0); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
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
    const buffer = createMemoryBuffer({
      dedupWindowSec: 60,
      maxLen: 0,
      maxBacklog: 1000,
      maxDedupKeys: 1000,
      rawEventTtlDays: 7,
    });
    await buffer.append([{ dedupKey: 'a', payload: stored }]);
    let failing = true;
    const consumer = await startConsumer(config, {
      buffer,
      exporter: fakeExporter([]),
      metrics: createMetrics(),
      logger: pino({ level: 'silent' }),
      afterExport: () => (failing ? Promise.reject(new Error('WRONGTYPE warnings key')) : Promise.resolve()),
    });
    const until = async (done: () => boolean | Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 200 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(() => consumer.stalled() !== undefined);
    expect(consumer.stalled()).toMatchObject({ stage: 'after_export', error: 'WRONGTYPE warnings key' });
    const since = consumer.stalled()?.sinceMs;
    await new Promise((resolve) => setTimeout(resolve, 150)); // a retry or two later, the stall still dates from the first failure
    expect(consumer.stalled()?.sinceMs).toBe(since);
    expect((await buffer.stats()).pending).toBe(1);
    failing = false;
    await until(async () => consumer.stalled() === undefined && (await buffer.stats()).pending === 0);
    expect(consumer.stalled()).toBeUndefined();
    expect((await buffer.stats()).pending).toBe(0);
    await consumer.stop();
    await buffer.close();
  });
});

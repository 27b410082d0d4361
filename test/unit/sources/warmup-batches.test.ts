import { describe, expect, it } from 'vitest';
import { createMemoryBuffer } from '../../../src/buffer/memory-buffer.js';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { warmupBatches } from '../../../src/sources/warmup-batches.js';

const T0 = Date.UTC(2026, 10, 24, 10);
const payload = (i: number): string =>
  JSON.stringify(
    toPaymentEvent({
      event_id: `e${i}`,
      event_type: 'payment_succeeded',
      event_timestamp: new Date(T0 + i * 1000).toISOString(),
      processor: 'stripe',
    }),
  );

describe('warmupBatches', () => {
  it('rebuilds the window as it stood at the group’s last read, however long ago, and stops there', async () => {
    let clock = T0;
    const buffer = createMemoryBuffer({
      dedupWindowSec: 3600,
      maxLen: 0,
      maxBacklog: 100_000,
      maxDedupKeys: 100_000,
      rawEventTtlDays: 7,
      now: () => clock,
    });
    // 600 events one second apart; the group reads the first 500 of them.
    for (let i = 0; i < 600; i++) {
      clock = T0 + i * 1000;
      await buffer.append([{ dedupKey: `k${i}`, payload: payload(i) }]);
    }
    const reader = await buffer.openReader('c1');
    expect(await reader.read(500, 0)).toHaveLength(500);
    // The consumer was down for an hour: a window measured back from now would be empty.
    const batches = await warmupBatches(buffer, {
      windowSec: 300,
      allowedLatenessSec: 30,
      now: T0 + 600_000 + 3_600_000,
    });
    const ids = batches.flatMap((b) => b.entries.map((e) => e.event.event_id));
    // Last read at event 499 (t0 + 499 s): the 330 s before it, none after it.
    expect(ids[0]).toBe('e169');
    expect(ids[ids.length - 1]).toBe('e499');
    expect(ids).toHaveLength(331);
    expect(batches.every((b) => b.warmup === true && b.ackIds.length === 0)).toBe(true);
    await buffer.close();
  });
});

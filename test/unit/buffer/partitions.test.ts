import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { partitionLayout, SLOTS, spreadTag } from '../../../src/buffer/partitions.js';

const layoutOf = (processors: string[]) =>
  partitionLayout({ processors, keyPrefix: 'payflux:', stream: 'events_stream', dlqStream: 'events_stream_dlq' });

describe('partitionLayout', () => {
  it('puts every key of a partition in its tag’s slot', () => {
    for (const p of layoutOf(['stripe', 'adyen', 'checkout', 'internal']).partitions) {
      for (const key of [p.stream, p.dlq, `${p.dedupPrefix}abc`, p.lease, p.epoch, p.checkpoint])
        expect(calculateSlot(key), key).toBe(p.slot);
      expect(p.stream).toBe(`events_stream:{${p.tag}}`);
    }
  });

  it('spreads partitions over the slot space, one per N-th, where plain tags would share a master', () => {
    const processors = ['stripe', 'adyen', 'internal'];
    // With default hashing all three fall in the first third of the slots (one master of three).
    expect(processors.map((p) => Math.floor(calculateSlot(`pf:${p}`) / (SLOTS / 3)))).toEqual([0, 0, 0]);
    const thirds = layoutOf(processors).partitions.map((p) => Math.floor(p.slot / (SLOTS / 3)));
    expect(thirds).toEqual([0, 1, 2]);
    for (const n of [1, 2, 5, 8, 16]) {
      const names = Array.from({ length: n }, (_, i) => `proc${i}`);
      const ranges = layoutOf(names).partitions.map((p) => Math.floor(p.slot / (SLOTS / n)));
      expect(ranges).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('is the same on every node whatever the order the processors are listed in', () => {
    const a = layoutOf(['stripe', 'adyen', 'checkout']);
    const b = layoutOf(['checkout', 'stripe', 'adyen', 'stripe']);
    expect(b.partitions).toEqual(a.partitions);
    expect(spreadTag('stripe', 2, 3)).toBe(spreadTag('stripe', 2, 3));
  });

  it('names the partition of a configured processor, and none of an unknown one', () => {
    const layout = layoutOf(['stripe']);
    expect(layout.partitionOf('stripe')?.name).toBe('stripe');
    expect(layout.partitionOf('paypal')).toBeUndefined();
    expect(layout.legacy).toMatchObject({ name: '', stream: 'events_stream', dlq: 'events_stream_dlq' });
  });
});

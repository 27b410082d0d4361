/**
 * What a reader hands out is the caller's alone: once the consumer has dropped a batch, nothing
 * in the reader keeps it reachable. A reader that kept every batch until its close grew the
 * consumer's heap by every event it read (a 10-minute soak ended at V8's heap limit).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('reader retention', () => {
  it('keeps no batch it returned reachable once the caller dropped it (reads, reclaims, empty reads)', async () => {
    const { buffer: b, stream } = await testBuffer(suite);
    const reader = await b.openReader('c1');
    /** Reads, acks, reads empty and reclaims `n` times; returns weak references to what it got. */
    const readSome = async (n: number): Promise<WeakRef<object>[]> => {
      const refs: WeakRef<object>[] = [];
      for (let i = 0; i < n; i++) {
        await suite.redis.xadd(stream, '*', 'e', JSON.stringify({ n: i, pad: 'x'.repeat(1000) }));
        const got = await reader.read(10, 50);
        expect(got).toHaveLength(1);
        refs.push(new WeakRef(got), new WeakRef(got[0] as object));
        await reader.ack(got.map((e) => e.id));
        refs.push(new WeakRef(await reader.read(10, 10)));
        refs.push(new WeakRef(await reader.reclaim(0, 10)));
      }
      return refs;
    };
    const refs = await readSome(20);
    // Let the calls' own promise reactions run, then collect twice (weak references clear after a full GC).
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
  });
});

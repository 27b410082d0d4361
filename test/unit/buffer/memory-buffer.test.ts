import { describe, expect, it } from 'vitest';
import { createMemoryBuffer } from '../../../src/buffer/memory-buffer.js';

const opts = { dedupWindowSec: 60, maxLen: 5, maxBacklog: 4, maxDedupKeys: 100, rawEventTtlDays: 1 };
const item = (k: string) => ({ dedupKey: k, payload: k });

describe('memory buffer', () => {
  it('dedups within the window and again accepts after it', async () => {
    let now = 1_000_000;
    const b = createMemoryBuffer({ ...opts, now: () => now });
    expect(await b.append([item('a'), item('a')])).toEqual(['accepted', 'duplicate']);
    now += 61_000;
    expect(await b.append([item('a')])).toEqual(['accepted']);
  });

  it('delivers in order, once, and keeps entries pending until acked', async () => {
    const b = createMemoryBuffer(opts);
    await b.append([item('a'), item('b'), item('c')]);
    const r = await b.openReader('c1');
    const first = await r.read(2, 10);
    expect(first.map((e) => e.payload)).toEqual(['a', 'b']);
    expect((await r.read(10, 10)).map((e) => e.payload)).toEqual(['c']);
    expect(await b.stats()).toMatchObject({ length: 3, pending: 3, lag: 0 });
    await r.ack(first.map((e) => e.id));
    expect((await b.stats()).pending).toBe(1);
  });

  it('wakes a blocked read when an event arrives', async () => {
    const b = createMemoryBuffer(opts);
    const r = await b.openReader('c1');
    const read = r.read(10, 5000);
    await b.append([item('x')]);
    expect((await read).map((e) => e.payload)).toEqual(['x']);
  });

  it('reclaims idle pending entries with a delivery count', async () => {
    let now = 0;
    const b = createMemoryBuffer({ ...opts, now: () => now });
    await b.append([item('a')]);
    const dead = await b.openReader('dead');
    await dead.read(10, 1);
    const live = await b.openReader('live');
    expect(await live.reclaim(1000, 10)).toEqual([]);
    now += 1001;
    const claimed = await live.reclaim(1000, 10);
    expect(claimed).toMatchObject([{ payload: 'a', deliveries: 2 }]);
  });

  it('refuses appends beyond the backlog bound instead of growing', async () => {
    const b = createMemoryBuffer(opts);
    await b.append([item('a'), item('b'), item('c'), item('d')]);
    await expect(b.append([item('e')])).rejects.toThrow('backlog is full');
  });

  it('trims acked entries over maxLen but never pending or undelivered ones', async () => {
    const b = createMemoryBuffer({ ...opts, maxLen: 2, maxBacklog: 100 });
    await b.append(['a', 'b', 'c', 'd', 'e'].map(item));
    const r = await b.openReader('c1');
    const got = await r.read(3, 1);
    await r.ack(got.slice(0, 2).map((e) => e.id)); // a, b acked; c pending; d, e undelivered
    const res = await b.trim(Date.now());
    expect(res).toEqual({ trimmedByLength: 2, trimmedByAge: 0, overCap: 1 });
    expect((await b.range(0, undefined, 10)).map((e) => e.payload)).toEqual(['c', 'd', 'e']);
  });

  it('with a retention of 0 days never trims by age', async () => {
    const b = createMemoryBuffer({ ...opts, rawEventTtlDays: 0, maxLen: 0, maxBacklog: 100 });
    await b.append(['a', 'b'].map(item));
    const r = await b.openReader('c1');
    await r.ack((await r.read(2, 1)).map((e) => e.id));
    expect(await b.trim(Date.now() + 10 * 365 * 86_400_000)).toEqual({
      trimmedByLength: 0,
      trimmedByAge: 0,
      overCap: 0,
    });
  });

  it('dead-letters and acks, then lists, replays and purges the DLQ', async () => {
    const b = createMemoryBuffer({ ...opts, maxBacklog: 100 });
    await b.append([item('bad')]);
    const r = await b.openReader('c1');
    const [e] = await r.read(1, 1);
    await r.deadLetter([{ id: e!.id, entryId: e!.id, data: e!.payload, reason: 'decode_error' }]);
    expect(await b.stats()).toMatchObject({ pending: 0, dlqDepth: 1 });
    expect(await b.dlqList(10)).toMatchObject([{ originalId: e!.id, data: 'bad', reason: 'decode_error' }]);
    expect(await b.dlqReplay(10)).toBe(1);
    expect((await r.read(10, 1)).map((x) => x.payload)).toEqual(['bad']);
    expect(await b.dlqPurge()).toBe(0);
  });
});

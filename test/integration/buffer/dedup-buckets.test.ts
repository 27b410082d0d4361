/**
 * Dedup marks as members of time-bucketed sets: an event id is refused for at least one window
 * and at most two, a failed append leaves no mark, duplicates inside one call are stored once,
 * old buckets are unlinked, and a dead letter replayed goes back past its mark.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { unpackEntry } from '../../../src/events/packed-entry.js';
import { testBuffer } from '../../support/buffer.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();
const WINDOW_SEC = 10;
const item = (key: string) => ({ dedupKey: key, payload: `{"event_id":"${key}"}` });

async function clockedBuffer() {
  let nowMs = 1_700_000_000_000 - (1_700_000_000_000 % (WINDOW_SEC * 1000));
  const t = await testBuffer(suite, { dedupWindowSec: WINDOW_SEC, now: () => nowMs });
  return { ...t, advance: (sec: number) => (nowMs += sec * 1000), bucket: () => Math.floor(nowMs / 1000 / WINDOW_SEC) };
}

describe('dedup buckets', () => {
  it('refuses an event id for at least one window and at most two, and unlinks buckets two windows old', async () => {
    const { buffer: b, prefix, advance, bucket } = await clockedBuffer();
    advance(9); // the last second of a bucket
    expect(await b.append([item('a')])).toEqual(['accepted']);
    const first = bucket();
    expect(await suite.redis.ttl(`${prefix}d:bucket:${first}`)).toBeGreaterThan(WINDOW_SEC);
    advance(WINDOW_SEC); // the next bucket: the mark is in the previous one
    expect(await b.append([item('a'), item('b')])).toEqual(['duplicate', 'accepted']);
    advance(WINDOW_SEC); // two buckets on: `a` is over a window old, `b` is not
    expect(await b.append([item('a'), item('b')])).toEqual(['accepted', 'duplicate']);
    expect(await suite.redis.exists(`${prefix}d:bucket:${first}`)).toBe(0);
  });

  it('stores an event id twice in one call once, and the rest of a call whose events are partly known', async () => {
    const { buffer: b, stream } = await clockedBuffer();
    expect(await b.append([item('a'), item('b'), item('a')])).toEqual(['accepted', 'accepted', 'duplicate']);
    expect(await b.append([item('c'), item('a'), item('d'), item('b')])).toEqual([
      'accepted',
      'duplicate',
      'accepted',
      'duplicate',
    ]);
    const entries = await suite.redis.xrange(stream, '-', '+');
    expect(entries.map(([, f]) => unpackEntry(f[1]!))).toEqual([
      [item('a').payload, item('b').payload],
      [item('c').payload, item('d').payload],
    ]);
  });

  it('leaves no mark when the append fails, so the retry is accepted', async () => {
    const { buffer: b, stream } = await clockedBuffer();
    await suite.redis.del(stream);
    await suite.redis.set(stream, 'not a stream');
    await expect(b.append([item('a'), item('b')])).rejects.toThrow(/WRONGTYPE/);
    await suite.redis.del(stream);
    expect(await b.append([item('a'), item('b')])).toEqual(['accepted', 'accepted']);
  });

  it('replays a dead letter into the stream although its event id is marked', async () => {
    const { buffer: b, stream, prefix } = await clockedBuffer();
    expect(await b.append([item('a')])).toEqual(['accepted']);
    await suite.redis.xadd(
      `${prefix}dlq`,
      '*',
      'data',
      item('a').payload,
      'original_id',
      '1-0/3',
      'reason',
      'x',
      'timestamp',
      't',
    );
    expect(await b.dlqReplay(10)).toBe(1);
    expect((await suite.redis.xrange(stream, '-', '+')).map(([, f]) => f[1])).toEqual([
      item('a').payload,
      item('a').payload,
    ]);
    expect(await b.append([item('a')])).toEqual(['duplicate']);
  });

  it('warns at start when Redis would free an expiring bucket on its main thread, and not once lazyfree-lazy-expire is on', async () => {
    const warnings = async (): Promise<string[]> => {
      const logs: string[] = [];
      const logger = pino(
        { level: 'warn' },
        { write: (line: string) => logs.push((JSON.parse(line) as { msg: string }).msg) },
      );
      await testBuffer(suite, { logger });
      return logs;
    };
    await suite.redis.config('SET', 'lazyfree-lazy-expire', 'no');
    expect(await warnings()).toContain('redis_lazyfree_lazy_expire_off');
    await suite.redis.config('SET', 'lazyfree-lazy-expire', 'yes');
    try {
      expect(await warnings()).not.toContain('redis_lazyfree_lazy_expire_off');
    } finally {
      await suite.redis.config('SET', 'lazyfree-lazy-expire', 'no');
    }
  });
});

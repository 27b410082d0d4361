/**
 * One stream's share of an append: its events packed into one entry, deduplicated against the
 * time-bucketed dedup sets (`APPEND_PACKED_SCRIPT`, events/packed-entry.ts), in one script call
 * (two when some events turn out to be marked already).
 */
import type { Cluster, Redis } from 'ioredis';
import { packEvents } from '../events/packed-entry.js';
import type { AppendItem } from './buffer.js';
import { APPEND_PACKED_SCRIPT } from './lua.js';
import { runScript } from './redis-script.js';

export interface PackedAppendTarget {
  readonly stream: string;
  /** Dedup keys start with it; the bucket sets are `<dedupPrefix>bucket:<n>` (same hash tag). */
  readonly dedupPrefix: string;
}

/** The dedup bucket of a moment: window-long spans of time since the epoch. */
export function dedupBucketOf(nowMs: number, windowSec: number): number {
  return Math.floor(nowMs / 1000 / windowSec);
}

/**
 * Dedup and append `items` to `target.stream` as one entry. Resolves to 1 (stored) or 0
 * (duplicate) per item, in order: an event id twice in `items` is stored once, and events
 * already marked are dropped and the rest sent again. Rejects with the script's error, nothing
 * stored and no mark left.
 */
export async function appendPacked(
  redis: Redis | Cluster,
  target: PackedAppendTarget,
  items: readonly AppendItem[],
  bucket: number,
  windowSec: number,
): Promise<number[]> {
  const out = new Array<number>(items.length).fill(0);
  let live: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const key = (items[i] as AppendItem).dedupKey;
    // The script takes the members joined by commas (lua.ts); dedupKeyFor's never hold one.
    if (key === '' || key.includes(',')) throw new Error(`dedup key ${JSON.stringify(key)}: empty or with a comma`);
    if (seen.has(key)) continue;
    seen.add(key);
    live.push(i);
  }
  const sets = `${target.dedupPrefix}bucket:`;
  const keys = [target.stream, sets + bucket, sets + (bucket - 1), sets + (bucket - 2)];
  while (live.length > 0) {
    // ARGV: the bucket's TTL, the events joined, their dedup members joined (one argument each:
    // ioredis encodes each argument on its own).
    const payloads = new Array<string>(live.length);
    const members = new Array<string>(live.length);
    for (let j = 0; j < live.length; j++) {
      const item = items[live[j] as number] as AppendItem;
      payloads[j] = item.payload;
      members[j] = item.dedupKey;
    }
    const args = [2 * windowSec, packEvents(payloads), members.join(',')];
    const res = await runScript(redis, APPEND_PACKED_SCRIPT, keys, args);
    if (res[0] === 1) {
      for (const i of live) out[i] = 1;
      break;
    }
    const marked = new Set(res.slice(1).map((pos) => live[pos - 1]));
    live = live.filter((i) => !marked.has(i));
  }
  return out;
}

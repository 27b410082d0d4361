/**
 * Rebuilding the risk window after a restart: each partition's entries of the last window (plus
 * the allowed lateness) up to its group's last-delivered id, decoded into batches marked `warmup`,
 * which the stages count but the sinks never see. Entries the group has not delivered yet are
 * left to the live read (a backlog can be far larger than the redelivery memory); delivered but
 * unacknowledged ones come back as redeliveries and are recognised by stream id.
 */
import type { EventBuffer } from '../buffer/buffer.js';
import { decodeEntries } from '../operators/decode-entries.js';
import { compareStreamIds, streamIdMs } from '../stream-id.js';
import type { Batch } from '../pipeline/types.js';
import { firstValueFrom, of } from 'rxjs';

const PAGE = 5000;

export async function warmupBatches(
  buffer: EventBuffer,
  o: { windowSec: number; allowedLatenessSec: number; now: number; maxEntries?: number },
): Promise<Batch[]> {
  const stats = await buffer.stats();
  const parts = stats.partitions ?? [{ partition: '', lastDeliveredId: stats.lastDeliveredId }];
  const out: Batch[] = [];
  let left = o.maxEntries ?? 2_000_000;
  for (const p of parts) {
    const got = await partitionWarmup(buffer, p.partition, p.lastDeliveredId, { ...o, maxEntries: left });
    for (const b of got) left -= b.entries.length;
    out.push(...got);
  }
  return out;
}

async function partitionWarmup(
  buffer: EventBuffer,
  partition: string,
  lastDeliveredId: string,
  o: { windowSec: number; allowedLatenessSec: number; now: number; maxEntries: number },
): Promise<Batch[]> {
  const lastMs = streamIdMs(lastDeliveredId, lastDeliveredId.indexOf('-'));
  const delivered = (id: string): boolean => compareStreamIds(id, lastDeliveredId) <= 0;
  // The window as it stood when the group last read, not as of now: after a long stop (or with
  // the consumer behind) a window measured back from now would miss what the group had seen.
  const anchor = lastMs > 0 ? Math.min(o.now, lastMs) : o.now;
  const since = anchor - (o.windowSec + o.allowedLatenessSec) * 1000;
  const limit = o.maxEntries;
  const decode = decodeEntries({ maxDeliveries: Number.MAX_SAFE_INTEGER });
  const out: Batch[] = [];
  let after: string | undefined;
  let total = 0;
  while (total < limit) {
    const page = await buffer.range(since, after, PAGE, partition);
    if (page.length === 0) break;
    after = page[page.length - 1]?.id;
    const upTo = page.filter((e) => delivered(e.id));
    const batch = await firstValueFrom(of(upTo).pipe(decode));
    total += batch.entries.length + batch.dead.length;
    if (batch.entries.length > 0) out.push({ entries: batch.entries, dead: [], ackIds: [], warmup: true });
    if (upTo.length < page.length) break;
  }
  return out;
}

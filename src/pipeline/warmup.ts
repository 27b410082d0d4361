/**
 * Rebuilding the risk window after a restart: the stream's entries of the last window (plus the
 * allowed lateness), decoded into batches marked `warmup`, which the stages count but the sinks
 * never see. Entries that are also redelivered later are recognised by stream id and not counted
 * twice.
 */
import type { EventBuffer } from '../buffer/buffer.js';
import { decodeEntries } from '../operators/decode-entries.js';
import type { Batch } from './types.js';
import { firstValueFrom, of } from 'rxjs';

const PAGE = 5000;

export async function warmupBatches(buffer: EventBuffer, o: { windowSec: number; allowedLatenessSec: number; now: number; maxEntries?: number }): Promise<Batch[]> {
  const since = o.now - (o.windowSec + o.allowedLatenessSec) * 1000;
  const limit = o.maxEntries ?? 2_000_000;
  const decode = decodeEntries({ maxDeliveries: Number.MAX_SAFE_INTEGER });
  const out: Batch[] = [];
  let after: string | undefined;
  let total = 0;
  while (total < limit) {
    const page = await buffer.range(since, after, PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]?.id;
    total += page.length;
    const batch = await firstValueFrom(of(page).pipe(decode));
    out.push({ entries: batch.entries, dead: [], ackIds: [], warmup: true });
  }
  return out;
}

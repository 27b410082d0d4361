/**
 * Events per stream entry, as this node last saw them appended and read: what turns Redis's
 * counts of entries (XLEN, the group's lag, XREADGROUP COUNT, XTRIM MAXLEN) into counts of
 * events once entries are packed (events/packed-entry.ts). Exact for a stream of one-event
 * entries (1), and for packed ones a mean over the recent appends and reads, weighted by entries
 * and decaying so that a change of batch sizes shows within a few thousand entries.
 */
import { isPacked } from '../events/packed-entry.js';

export interface EntrySize {
  /** Mean events per entry (≥ 1); `fallback` until anything was observed. */
  perEntry(fallback?: number): number;
  /** Whether anything was observed yet. */
  readonly known: boolean;
  observe(events: number, entries: number): void;
}

/** Weight of the past against one new observation, in entries. */
const HALF_LIFE_ENTRIES = 2000;

export function createEntrySize(): EntrySize {
  let events = 0;
  let entries = 0;
  return {
    get known() {
      return entries > 0;
    },
    perEntry(fallback = 1) {
      return entries === 0 ? fallback : Math.max(1, events / entries);
    },
    observe(e, n) {
      if (n <= 0) return;
      if (entries > HALF_LIFE_ENTRIES) {
        const keep = HALF_LIFE_ENTRIES / entries;
        events *= keep;
        entries *= keep;
      }
      events += e;
      entries += n;
    },
  };
}

/** Events in an entry's `e` value: its newlines + 1 when packed, else 1. */
export function eventsIn(payload: string | undefined): number {
  if (payload === undefined || !isPacked(payload)) return 1;
  let n = 1;
  for (let at = payload.indexOf('\n'); at >= 0; at = payload.indexOf('\n', at + 1)) n++;
  return n;
}

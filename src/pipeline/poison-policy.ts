/**
 * When an entry is dead-lettered for its deliveries: the one decision, which the consumer calls
 * on every read (and any other way of reading, such as leased partitions, can call the same).
 *
 * Redis counts a delivery on every read of an entry, also when the entry is not at fault: a
 * restart re-reads the consumer's pending entries, XAUTOCLAIM re-delivers a dead consumer's,
 * and a destination or Redis failing across restarts keeps a batch pending through all of
 * them. So the count alone never dead-letters a valid event. It only makes the entry a
 * *suspect* once it passes PAYFLUX_MAX_DELIVERIES:
 *
 *   read ─▶ deliveries ≤ max ───────────────────────────────────▶ the read's batch (as always)
 *        └▶ deliveries > max ─▶ strikes an earlier run left ≥ PROBATION_STRIKES? ─ yes ─▶ dead letter
 *                                          │ no                                      (max_deliveries)
 *                                          ▼
 *               mark (strikes + 1) ─▶ a batch of its own ─▶ stages passed ─▶ mark cleared ─▶ export, ack
 *
 * A mark is set in the buffer just before the suspect enters the stages alone and cleared as
 * soon as it has passed them, before it is exported; the next suspect is marked only once the
 * one before was delivered, so at most one mark at a time waits to be cleared. Whatever happens
 * to the export (a full disk, a restart), an entry that passed the stages proved it can be
 * processed. A mark still there on a later read means the run that processed that entry alone
 * never got past it: the entry crashed the process or the pipeline, or the process was killed
 * in those few milliseconds for reasons of its own (a deploy, the OOM killer). One strike cannot
 * tell the two apart; PROBATION_STRIKES runs in a row ending on the same entry can. Entries that
 * cannot be decoded are dead-lettered at once (`decode_error`, decodeEntries).
 */
import type { ProbationMarks, StreamEntry } from '../buffer/buffer.js';

/** Runs that must each end while a suspect was alone in the stages before it is a dead letter. */
export const PROBATION_STRIKES = 3;

/** One read, cut into what goes through the pipeline together. */
export interface ReadUnit {
  readonly entries: readonly StreamEntry[];
  /** Suspects on which PROBATION_STRIKES earlier runs ended: dead letters (`max_deliveries`). */
  readonly poisoned: readonly StreamEntry[];
  /** The suspect this unit holds alone, under its mark; its mark is cleared once it passed the stages. */
  readonly probation: string | undefined;
  /** The read's last unit: only after it does the consumer read again. */
  readonly last: boolean;
}

/**
 * Cut one read into units: first the entries delivered at most `maxDeliveries` times (with the
 * poisoned suspects), then each other suspect alone, marked just before it is yielded; the next
 * is marked only once `delivered(id)` of the one before resolved (its batch was exported and
 * acknowledged, or the consumer stopped). Yields at least one unit (the last), empty when the
 * read was.
 */
export async function* readUnits(
  entries: readonly StreamEntry[],
  maxDeliveries: number,
  marks: ProbationMarks,
  delivered: (id: string) => Promise<unknown> = () => Promise.resolve(),
): AsyncGenerator<ReadUnit> {
  const regular: StreamEntry[] = [];
  const suspects: StreamEntry[] = [];
  for (const e of entries) (e.deliveries > maxDeliveries ? suspects : regular).push(e);
  if (suspects.length === 0) {
    yield { entries: regular, poisoned: [], probation: undefined, last: true };
    return;
  }
  const strikes = await marks.strikes(suspects.map((s) => s.id));
  const struck = (s: StreamEntry): number => strikes.get(s.id) ?? 0;
  const poisoned = suspects.filter((s) => struck(s) >= PROBATION_STRIKES);
  const trial = suspects.filter((s) => struck(s) < PROBATION_STRIKES);
  if (regular.length > 0 || poisoned.length > 0 || trial.length === 0)
    yield { entries: regular, poisoned, probation: undefined, last: trial.length === 0 };
  for (let i = 0; i < trial.length; i++) {
    const s = trial[i] as StreamEntry;
    await marks.mark(s.id, struck(s) + 1);
    yield { entries: [s], poisoned: [], probation: s.id, last: i === trial.length - 1 };
    await delivered(s.id);
  }
}

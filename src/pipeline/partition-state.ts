/**
 * A partition's state in the consumer, as its checkpoint: the processor's risk window, its open
 * incident, and the last stream id applied to them. The owning reader (buffer/ownership.ts)
 * asks for it with every commit and hands it back when this consumer takes the partition over.
 *
 *   checkpoint = {"v":1,"lastId":"…","window":{…},"incident":{…}|null}   (~4 KB)
 *
 * The scorer and the incident book are the pipeline's own (`riskStages`' `onScorer` / `onBook`):
 * the stages run one batch at a time, so between batches they hold exactly the state after the
 * batch being committed.
 */
import type { OwnershipHooks } from '../buffer/buffer.js';
import type { Plain } from '../operators/risk/plain-state.js';
import type { RiskScorer } from '../operators/risk/risk-scorer.js';
import type { IncidentBook } from '../operators/track-incidents.js';

export interface Checkpoint {
  readonly v: 1;
  readonly lastId: string;
  readonly window: Plain | null;
  readonly incident: Plain;
}

export interface PartitionState {
  readonly hooks: OwnershipHooks;
  /** Give it the live scorer and book (riskStages' callbacks). */
  setScorer(scorer: RiskScorer): void;
  setBook(book: IncidentBook): void;
}

/** Parses a stored checkpoint; undefined for none or one of another format. */
export function parseCheckpoint(text: string | undefined): Checkpoint | undefined {
  if (text === undefined) return undefined;
  try {
    const c = JSON.parse(text) as Checkpoint;
    return c.v === 1 ? c : undefined;
  } catch {
    return undefined;
  }
}

export function createPartitionState(): PartitionState {
  let scorer: RiskScorer | undefined;
  let book: IncidentBook | undefined;
  return {
    setScorer: (s) => (scorer = s),
    setBook: (b) => (book = b),
    hooks: {
      restore(partition, text) {
        const c = parseCheckpoint(text);
        // No checkpoint yet: whatever this consumer holds for the processor (from draining the
        // single-stream layout) is the best state there is.
        if (c === undefined) return;
        if (c.window === null) scorer?.window.forget(partition);
        else scorer?.window.importProcessor(partition, c.window);
        book?.importProcessor(partition, c.incident);
      },
      forget(partition) {
        scorer?.window.forget(partition);
        book?.importProcessor(partition, null);
      },
      checkpoint(partition, lastId) {
        const c: Checkpoint = {
          v: 1,
          lastId,
          window: scorer?.window.exportProcessor(partition) ?? null,
          incident: book?.exportProcessor(partition) ?? null,
        };
        return JSON.stringify(c);
      },
    },
  };
}

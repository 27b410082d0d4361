/**
 * A partition's state in the consumer, as its checkpoint: the processor's risk window, its open
 * incident, and the last stream id applied to them. The owning reader (buffer/ownership.ts)
 * asks for it with every commit and hands it back when this consumer takes the partition over.
 *
 *   checkpoint = {"v":1,"lastId":"…","window":{…},"incident":{…}|null}   (~8 KB)
 *
 * The scorer and the incident book are the pipeline's own (`riskStages`' `onScorer` / `onBook`):
 * the stages run one batch at a time, so between batches they hold exactly the state after the
 * batch being committed.
 */
import type { CommitRecord, OwnershipHooks } from '../buffer/buffer.js';
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
  /** Records (a batch's warnings, by processor) for the partitions' next commits. */
  stage(records: ReadonlyMap<string, readonly CommitRecord[]>): void;
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

/**
 * `forgotten`: called with a partition this consumer gave up, after its state is dropped, for
 * what else describes it (its per-processor gauges: the new owner reports them now).
 */
export function createPartitionState(forgotten?: (partition: string) => void): PartitionState {
  let scorer: RiskScorer | undefined;
  let book: IncidentBook | undefined;
  /** Partitions this consumer held and gave up: what it still has of them is no one's state. */
  const dropped = new Set<string>();
  let staged = new Map<string, CommitRecord[]>();
  const reset = (partition: string): void => {
    scorer?.window.forget(partition);
    book?.importProcessor(partition, null);
  };
  return {
    setScorer: (s) => (scorer = s),
    setBook: (b) => (book = b),
    stage(records) {
      for (const [processor, list] of records) {
        const cur = staged.get(processor);
        if (cur === undefined) staged.set(processor, [...list]);
        else cur.push(...list);
      }
    },
    hooks: {
      takeRecords() {
        const out = staged;
        staged = new Map();
        return out;
      },
      restore(partition, text) {
        const c = parseCheckpoint(text);
        // No checkpoint yet: what this consumer holds for the processor from draining the
        // single-stream layout is the best state there is; what it kept of an earlier hold of
        // the partition may include batches never committed, which the new hold replays.
        if (c === undefined) {
          if (dropped.has(partition)) reset(partition);
          return;
        }
        if (c.window === null) scorer?.window.forget(partition);
        else scorer?.window.importProcessor(partition, c.window);
        book?.importProcessor(partition, c.incident);
      },
      forget(partition) {
        dropped.add(partition);
        reset(partition);
        forgotten?.(partition);
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

/**
 * `streamBatches`: one read of the consumer group per demand signal.
 *
 * Emits one array of entries (possibly empty, after a BLOCK timeout) for each value of
 * `demand$`, in order, and never reads ahead: the pipeline signals demand only after the
 * previous batch was exported and acknowledged, so backpressure is the source itself.
 * Entries idle in the group for over `claimIdleMs` (a dead consumer's) are reclaimed first,
 * checked every `claimIdleMs / 2`. Read errors are retried with backoff (logged, counted).
 * Once `stopped()` says so, no read is started or retried: a demand then yields nothing.
 * Completes when `demand$` completes; unsubscribing abandons the read or backoff in flight.
 */
import { concatMap, EMPTY, from, Observable } from 'rxjs';
import type { StreamEntry, StreamReader } from '../buffer/buffer.js';
import { backoffMs, sleep } from '../backoff.js';

export interface StreamBatchesOptions {
  readonly count: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly stopped: () => boolean;
  readonly signal: AbortSignal;
  readonly onError?: (err: Error, attempt: number) => void;
  readonly onReclaimed?: (n: number) => void;
  readonly now?: () => number;
}

export function streamBatches(
  reader: StreamReader,
  demand$: Observable<unknown>,
  o: StreamBatchesOptions,
): Observable<StreamEntry[]> {
  return new Observable<StreamEntry[]>((subscriber) => {
    // Per subscription: when we last looked for abandoned entries, and its own end.
    const ended = new AbortController();
    const signal = AbortSignal.any([o.signal, ended.signal]);
    const done = (): boolean => ended.signal.aborted || o.stopped();
    const now = o.now ?? Date.now;
    let lastClaimMs = 0;
    const claimEveryMs = Math.max(100, Math.floor(o.claimIdleMs / 2));

    const readOnce = async (): Promise<StreamEntry[] | undefined> => {
      for (let attempt = 0; ; attempt++) {
        if (done()) return undefined;
        try {
          if (now() - lastClaimMs >= claimEveryMs) {
            lastClaimMs = now();
            const claimed = await reader.reclaim(o.claimIdleMs, o.count);
            if (claimed.length > 0) {
              o.onReclaimed?.(claimed.length);
              return claimed;
            }
          }
          return await reader.read(o.count, o.blockMs);
        } catch (err) {
          if (done()) return undefined;
          o.onError?.(err as Error, attempt);
          await sleep(backoffMs(attempt), signal);
        }
      }
    };

    const subscription = demand$
      .pipe(concatMap(() => from(readOnce()).pipe(concatMap((entries) => (entries === undefined ? EMPTY : [entries])))))
      .subscribe(subscriber);
    return () => {
      ended.abort();
      subscription.unsubscribe();
    };
  });
}

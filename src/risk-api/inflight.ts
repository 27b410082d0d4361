/**
 * In-flight deduplication: concurrent requests for the same key share one run (the leader's);
 * the others (followers) await the same promise. The entry is removed when the run settles, so
 * a later request starts fresh (and normally finds the answer in the cache first).
 *
 * Bounded: at most `max` distinct runs at once; one more is refused with `null` so the caller
 * can shed load instead of queueing without limit. Per process: nodes do not share runs.
 */
export interface Inflight<T> {
  /** Join the run for `key` or lead a new one; `null` when `max` distinct runs are in flight. */
  run(key: string, fn: () => Promise<T>): { readonly promise: Promise<T>; readonly joined: boolean } | null;
  readonly size: number;
}

export function createInflight<T>(max: number): Inflight<T> {
  const runs = new Map<string, Promise<T>>();
  return {
    run(key, fn) {
      const existing = runs.get(key);
      if (existing !== undefined) return { promise: existing, joined: true };
      if (runs.size >= max) return null;
      // fn starts on a later tick, after the entry exists: even a synchronous throw in fn
      // reaches the finally and removes the entry.
      const promise = Promise.resolve()
        .then(fn)
        .finally(() => runs.delete(key));
      runs.set(key, promise);
      return { promise, joined: false };
    },
    get size() {
      return runs.size;
    },
  };
}

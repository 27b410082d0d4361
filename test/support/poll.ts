/**
 * The one way integration tests wait: poll a probe until a condition holds, with a deadline.
 * A fixed sleep standing in for "long enough" is either slow or flaky on a loaded machine.
 */

export interface PollOptions {
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between probes (default 50 ms). */
  readonly everyMs?: number;
  /** Shown with a timeout, e.g. a process's last log lines. */
  readonly context?: () => string;
}

/**
 * Call `probe` every `everyMs` until `done(value)`; resolve with that value. A probe that throws
 * rejects at once. On timeout, rejects naming `what` with the last value (and `context()`).
 */
export function poll<T, U extends T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (v: T) => v is U,
  o?: PollOptions,
): Promise<U>;
export function poll<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (v: T) => boolean,
  o?: PollOptions,
): Promise<T>;
export async function poll<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (v: T) => boolean,
  o: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) {
      const shown = typeof v === 'object' ? JSON.stringify(v)?.slice(0, 500) : String(v);
      throw new Error(`timed out waiting for ${what}; last: ${shown}${o.context ? `\n${o.context()}` : ''}`);
    }
    await delay(o.everyMs ?? 50);
  }
}

/** A `done` for probes that answer `undefined` until what they look for exists. */
export const defined = <T>(v: T): v is NonNullable<T> => v !== undefined && v !== null;

/**
 * A plain pause, for what polling cannot express: that something does *not* happen within a
 * time, or a pace a test sets on purpose (a producer between batches).
 */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

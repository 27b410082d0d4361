/**
 * Exponential backoff with half jitter (a wait in [ceiling/2, ceiling]), for every retry loop:
 * the consumer's stages, the stream reader, Redis reconnects, the buffer at start, alert delivery.
 * `random` is injectable for tests.
 */
export function backoffMs(attempt: number, baseMs = 100, maxMs = 5000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Sleep that an AbortSignal cuts short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

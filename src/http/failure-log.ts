/**
 * Per-request failures answered 5xx, logged as a summary rather than one line each: a 6-s Redis
 * outage at 3,000 req/s wrote 20,329 error lines with stack traces (14.6 MB), and with stderr
 * stalled they piled up in memory.
 *
 * - Expected failures (our own 503s: the buffer or a store unavailable, overloaded, the body
 *   budget, shutting down) are counted by code; each interval with any writes one line,
 *   `request_failures_summary`, with the counts.
 * - Unexpected ones (a bug: anything rendered as PF_ERR_INTERNAL) are logged with their stack,
 *   at most `maxDetailed` per interval; the rest are counted in the summary.
 * Their metrics (`payflux_ingest_rejected_total` and the like) count every one as before.
 */
/** The two levels used: pino's logger and Fastify's both fit. */
export interface FailureLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface FailureLog {
  /** An expected failure, answered with `code`. */
  expected(code: string): void;
  /** An unexpected error: logged with its stack while this interval has room, else counted. */
  unexpected(err: Error & { code?: string }, reqId: string): void;
  /** Write what is counted and stop the timer. */
  close(): void;
}

export interface FailureLogOptions {
  readonly intervalMs?: number;
  readonly maxDetailed?: number;
}

export function createFailureLog(logger: FailureLogger, o: FailureLogOptions = {}): FailureLog {
  const intervalMs = o.intervalMs ?? 10_000;
  const maxDetailed = o.maxDetailed ?? 5;
  let counts = new Map<string, number>();
  let detailed = 0;
  let suppressed = 0;

  const flush = (): void => {
    if (counts.size > 0 || suppressed > 0) {
      logger.warn(
        {
          interval_sec: intervalMs / 1000,
          counts: Object.fromEntries(counts),
          ...(suppressed > 0 && { unexpected_not_logged: suppressed }),
        },
        'request_failures_summary',
      );
    }
    counts = new Map();
    detailed = 0;
    suppressed = 0;
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();

  return {
    expected(code) {
      counts.set(code, (counts.get(code) ?? 0) + 1);
    },
    unexpected(err, reqId) {
      counts.set('PF_ERR_INTERNAL', (counts.get('PF_ERR_INTERNAL') ?? 0) + 1);
      if (detailed >= maxDetailed) {
        suppressed++;
        return;
      }
      detailed++;
      logger.error({ reqId, err: { message: err.message, code: err.code, stack: err.stack } }, 'request_failed');
    },
    close() {
      clearInterval(timer);
      flush();
    },
  };
}

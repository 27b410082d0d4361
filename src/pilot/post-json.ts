/**
 * One webhook delivery attempt with undici, classified for the retry loop. The body is always
 * drained so the connection goes back to the pool.
 */
import { request } from 'undici';

/** What one attempt means for the next: done, try again later, or give up. */
export interface PostVerdict {
  readonly result: 'ok' | 'retry' | 'fatal';
  /** The receiver's Retry-After, in ms (0 when absent). */
  readonly retryAfterMs: number;
}

/** POST a JSON body; 2xx is ok, 408/429/5xx and network errors are retryable, other statuses are final. */
export async function postJson(
  url: string,
  body: string,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<PostVerdict> {
  try {
    const res = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'payflux-alerts',
        'idempotency-key': idempotencyKey,
      },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    const s = res.statusCode;
    if (s >= 200 && s < 300) return { result: 'ok', retryAfterMs: 0 };
    const retryAfter = Number(res.headers['retry-after']);
    const retryAfterMs = Number.isFinite(retryAfter) ? retryAfter * 1000 : 0;
    // A rejected webhook (bad token, deleted channel) does not heal by itself: no retry storm.
    return { result: s === 408 || s === 429 || s >= 500 ? 'retry' : 'fatal', retryAfterMs };
  } catch {
    return { result: 'retry', retryAfterMs: 0 };
  }
}

/**
 * Producers for tests against a PayFlux child: batches posted once, or back to back until
 * stopped, recording which event ids the server accepted and which requests failed.
 */
import { makeEvent, type TestEvent } from './events.js';
import { API_KEY } from './payflux-env.js';
import { delay } from './poll.js';

/** POST one batch; the ids of the events the server accepted (all of them, or none). */
export async function postBatch(url: string, events: readonly TestEvent[]): Promise<string[]> {
  const res = await fetch(`${url}/v1/events/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { accepted?: number; duplicates?: number; rejected?: unknown[] };
  if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${JSON.stringify(body)}`);
  if (body.rejected?.length !== 0 || body.accepted !== events.length) {
    throw new Error(`batch not wholly accepted: ${JSON.stringify(body)}`);
  }
  return events.map((e) => e.event_id);
}

/** POST `n` events in batches of `size`; the accepted ids. */
export async function sendEvents(url: string, n: number, nextId: () => string, size = 100): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += size) {
    const batch = Array.from({ length: Math.min(size, n - i) }, () => makeEvent(nextId()));
    ids.push(...(await postBatch(url, batch)));
  }
  return ids;
}

export interface Producer {
  /** Ids of events answered as accepted, in order. */
  readonly accepted: readonly string[];
  /** Requests that failed (refused, reset, 503): their events count as not accepted. */
  readonly failures: number;
  /** Ids of the events of failed requests: maybe stored (the answer was lost), maybe not. */
  readonly unconfirmed: readonly string[];
  /** Stop sending; resolves once the request in flight settled. */
  stop(): Promise<void>;
}

/**
 * Keep posting batches of `size` events back to back until stopped. A failed request is
 * counted and retried with new ids after a short pause (the server may be restarting).
 */
export function startProducer(
  url: () => string,
  nextId: () => string,
  o: { size?: number; pauseMs?: number } = {},
): Producer {
  const accepted: string[] = [];
  const unconfirmed: string[] = [];
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const batch = Array.from({ length: o.size ?? 25 }, () => makeEvent(nextId()));
      try {
        accepted.push(...(await postBatch(url(), batch)));
        if (o.pauseMs !== undefined) await delay(o.pauseMs);
      } catch {
        failures++;
        for (const e of batch) unconfirmed.push(e.event_id);
        await delay(20);
      }
    }
  })();
  return {
    accepted,
    unconfirmed,
    get failures() {
      return failures;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

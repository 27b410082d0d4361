/**
 * The live feed behind the dashboard's stream: one reader per node, however many dashboards are
 * open. While at least one subscriber listens, it reads the snapshot every `intervalMs` (never
 * two reads at once) and sends it as a server-sent event when it changed, and at least every
 * `heartbeatMs` anyway, so that a quiet feed is told apart from a dead one.
 *
 *   subscribe ─▶ (first) start ─▶ read ─▶ changed or heartbeat due? ─▶ frame to every subscriber
 *                                   ▲                                          │
 *                                   └────────────── wait intervalMs ◀──────────┘   (last unsubscribe stops it)
 */
import type { Logger } from 'pino';

export interface LiveHubOptions {
  /** The state to send; a rejection skips the round (logged once per failing spell). */
  readonly read: () => Promise<unknown>;
  readonly intervalMs: number;
  readonly heartbeatMs: number;
  /** Subscribers at most; `subscribe` refuses more. */
  readonly maxSubscribers: number;
  readonly log: Logger;
  /** Called with the number of subscribers whenever it changes. */
  readonly onCount?: (n: number) => void;
}

/** Receives whole SSE frames (`event: …\ndata: …\n\n`). */
export type FrameListener = (frame: string) => void;

export interface LiveHub {
  /** Adds a subscriber, which gets the latest frame at once if there is one; undefined when full. */
  subscribe(listener: FrameListener): (() => void) | undefined;
  /** Stops reading and drops every subscriber. */
  close(): void;
}

export function createLiveHub(o: LiveHubOptions): LiveHub {
  const listeners = new Set<FrameListener>();
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let last = '';
  let lastSentAt = 0;
  let failing = false;
  let closed = false;

  const broadcast = (frame: string): void => {
    for (const l of listeners) l(frame);
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    if (listeners.size === 0 || closed) return;
    reading = true;
    try {
      const json = JSON.stringify(await o.read());
      failing = false;
      const t = Date.now();
      if (json !== last || t - lastSentAt >= o.heartbeatMs) {
        last = json;
        lastSentAt = t;
        broadcast(`event: state\ndata: ${json}\n\n`);
      }
    } catch (err) {
      if (!failing) o.log.warn({ err: (err as Error).message }, 'dashboard_feed_read_failed');
      failing = true;
    } finally {
      reading = false;
    }
    schedule(o.intervalMs);
  };

  const schedule = (ms: number): void => {
    if (timer !== undefined || reading || listeners.size === 0 || closed) return;
    timer = setTimeout(() => void tick(), ms);
  };

  return {
    subscribe(listener) {
      if (closed || listeners.size >= o.maxSubscribers) return undefined;
      listeners.add(listener);
      o.onCount?.(listeners.size);
      if (last !== '') listener(`event: state\ndata: ${last}\n\n`);
      schedule(0);
      return () => {
        if (!listeners.delete(listener)) return;
        o.onCount?.(listeners.size);
        if (listeners.size > 0) return;
        clearTimeout(timer);
        timer = undefined;
        // The next first subscriber starts from a fresh read, not a frame from long ago.
        last = '';
      };
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      listeners.clear();
      o.onCount?.(0);
    },
  };
}

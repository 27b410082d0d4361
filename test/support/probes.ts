/**
 * Looking at a running PayFlux from outside: its JSON endpoints, its Prometheus samples, and
 * its consumer group's progress straight from Redis.
 */
import type { Cluster, Redis } from 'ioredis';
import { unpackEntry } from '../../src/events/packed-entry.js';
import { compareStreamIds } from '../../src/stream-id.js';
import { dlqsOf, streamsOf } from './payflux-env.js';
import { poll, type PollOptions } from './poll.js';

/** GET `url`: its status and JSON body. */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The value of the first sample of `name` carrying `labels` (others may be present), 0 when absent. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter((s) => s !== '');
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

export interface GroupState {
  /** Events delivered and not acknowledged (in XPENDING's entries). */
  readonly pending: number;
  /** Events not yet delivered to the group (in the entries after the group's last-delivered id). */
  readonly lag: number;
  /** Pending events per consumer name. */
  readonly consumers: Readonly<Record<string, number>>;
}

/**
 * The consumer group's progress, straight from Redis, as one snapshot in events (an entry may
 * carry several: src/events/packed-entry.ts): XPENDING, XINFO GROUPS and the stream's entries
 * in one MULTI, or a read landing between them would show "nothing pending" (before it) and
 * "nothing undelivered" (after it) at once.
 */
export async function groupState(
  redis: Redis,
  env: { readonly PAYFLUX_STREAM: string; readonly PAYFLUX_CONSUMER_GROUP: string; readonly [name: string]: string },
): Promise<GroupState> {
  const state: { pending: number; lag: number; consumers: Record<string, number> } = {
    pending: 0,
    lag: 0,
    consumers: {},
  };
  for (const stream of streamsOf(env)) {
    const replies = await redis
      .multi()
      .xpending(stream, env.PAYFLUX_CONSUMER_GROUP, '-', '+', 100_000)
      .xinfo('GROUPS', stream)
      .xrange(stream, '-', '+')
      .exec();
    const failed = replies?.find(([err]) => err !== null);
    // A partition nobody has created yet (no consumer started) has no group: nothing in it.
    if (failed !== undefined && /no such key|NOGROUP/i.test(String(failed[0]))) continue;
    if (replies === null || failed) throw failed?.[0] ?? new Error('group state transaction aborted');
    const pendingList = replies[0]?.[1] as [string, string, number, number][];
    const groups = replies[1]?.[1] as unknown[][];
    const entries = replies[2]?.[1] as [string, string[]][];
    const events = new Map<string, number>();
    for (const [id, fields] of entries) events.set(id, eventsOf(fields[1]));
    let lastDelivered: string | undefined;
    for (const g of groups) {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
      if (f.get('name') === env.PAYFLUX_CONSUMER_GROUP) lastDelivered = String(f.get('last-delivered-id'));
    }
    let lag = 0;
    if (lastDelivered === undefined) lag = -1;
    else for (const [id, n] of events) if (compareStreamIds(id, lastDelivered) > 0) lag += n;
    state.lag = state.lag < 0 || lag < 0 ? -1 : state.lag + lag;
    for (const [id, consumer] of pendingList) {
      // An entry deleted while pending carries nothing: counted as one, as XPENDING counts it.
      const n = events.get(id) ?? 1;
      state.pending += n;
      state.consumers[consumer] = (state.consumers[consumer] ?? 0) + n;
    }
  }
  return state;
}

const eventsOf = (e: string | undefined): number => (e === undefined ? 1 : unpackEntry(e).length);

/** Pending and lag both 0: everything stored has been delivered and acknowledged. */
export const drained = (s: GroupState): boolean => s.pending === 0 && s.lag === 0;

/** Wait until the group is `drained`; `what` names the wait in a timeout. */
export function untilDrained(
  redis: Redis,
  env: Parameters<typeof groupState>[1],
  o: PollOptions & { readonly what?: string } = {},
): Promise<GroupState> {
  return poll(o.what ?? 'the group drained', () => groupState(redis, env), drained, o);
}

/** Wait until GET `url` answers `status`; its status and JSON body. */
export function untilStatus(
  url: string,
  status: number,
  o: PollOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return poll(
    `${url.replace(/^https?:\/\/[^/]+/, '')} ${status}`,
    () => getJson(url),
    (r) => r.status === status,
    o,
  );
}

/** Events stored in `stream` (XLEN counts entries, and an entry may carry several). */
export async function streamEvents(redis: Redis | Cluster, stream: string): Promise<number> {
  let n = 0;
  for (const [, fields] of await redis.xrange(stream, '-', '+')) n += eventsOf(fields[1]);
  return n;
}

/** Entries in every dead-letter stream of a PayFlux child with `env` (the single stream's and each partition's). */
export async function deadLettered(
  redis: Redis,
  env: { readonly [name: string]: string | undefined },
): Promise<number> {
  let n = 0;
  for (const dlq of dlqsOf(env)) n += await redis.xlen(dlq);
  return n;
}

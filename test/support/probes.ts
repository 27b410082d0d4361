/**
 * Looking at a running PayFlux from outside: its JSON endpoints, its Prometheus samples, and
 * its consumer group's progress straight from Redis.
 */
import type { Redis } from 'ioredis';
import { streamsOf } from './payflux-env.js';

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
  /** Entries delivered and not acknowledged (XPENDING). */
  readonly pending: number;
  /** Entries not yet delivered to the group (XINFO GROUPS lag). */
  readonly lag: number;
  /** Pending entries per consumer name. */
  readonly consumers: Readonly<Record<string, number>>;
}

/**
 * The consumer group's progress, straight from Redis, as one snapshot: XPENDING and XINFO GROUPS
 * in one MULTI, or a read landing between the two would show "nothing pending" (before it) and
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
    const replies = await redis.multi().xpending(stream, env.PAYFLUX_CONSUMER_GROUP).xinfo('GROUPS', stream).exec();
    const failed = replies?.find(([err]) => err !== null);
    // A partition nobody has created yet (no consumer started) has no group: nothing in it.
    if (failed !== undefined && /no such key|NOGROUP/i.test(String(failed[0]))) continue;
    if (replies === null || failed) throw failed?.[0] ?? new Error('group state transaction aborted');
    const [count, , , perConsumer] = replies[0]?.[1] as [number, unknown, unknown, [string, string][] | null];
    const groups = replies[1]?.[1] as unknown[][];
    let lag = -1;
    for (const g of groups) {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
      if (f.get('name') === env.PAYFLUX_CONSUMER_GROUP) lag = Number(f.get('lag'));
    }
    state.pending += count;
    state.lag = state.lag < 0 || lag < 0 ? -1 : state.lag + lag;
    for (const [name, n] of perConsumer ?? []) state.consumers[name] = (state.consumers[name] ?? 0) + Number(n);
  }
  return state;
}

/** Pending and lag both 0: everything stored has been delivered and acknowledged. */
export const drained = (s: GroupState): boolean => s.pending === 0 && s.lag === 0;

/**
 * A randomized simulator of partition ownership, without Redis: nodes own partitions, score
 * batches, commit checkpoints (the consumer's own `createPartitionState`, through JSON), crash
 * before committing, are paused and fenced, and hand partitions over; the new owner restores
 * the last checkpoint and replays what was not committed. Warnings are written by the commit, as
 * buffer/ownership.ts does: a refused commit writes none, and those of another partition the
 * node holds (an incident resolved on the batch's clock) go under that partition's fence. Every exported line must carry the
 * risk fields one scorer gives over the same events (the backtest), duplicates identical, and
 * the warnings must end as the backtest's incidents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelope } from '../../../src/pipeline/envelope.js';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { RiskScorer } from '../../../src/operators/risk/risk-scorer.js';
import { IncidentBook, type Incident } from '../../../src/operators/track-incidents.js';
import { createPartitionState, type PartitionState } from '../../../src/pipeline/partition-state.js';
import type { Envelope } from '../../../src/pipeline/types.js';

const PROCESSORS = ['adyen', 'checkout', 'stripe'];
const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
const COOLDOWN_MS = 60_000;
const OPTIONS = { model: 'adaptive', thresholds: [0.3, 0.6, 0.8], windowSec: 300, allowedLatenessSec: 30 } as const;

interface Entry {
  readonly id: string;
  readonly json: string;
}

/** Seeded traffic: every processor sends each second; each has outages (timeouts) at its own times. */
function traffic(seed: number, seconds: number): Map<string, Entry[]> {
  let s = seed >>> 0 || 1;
  const rand = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const out = new Map<string, Entry[]>(PROCESSORS.map((p) => [p, []]));
  const outages = new Map(PROCESSORS.map((p) => [p, Math.floor(rand() * seconds * 0.6)]));
  let n = 0;
  for (let sec = 0; sec < seconds; sec++) {
    for (const p of PROCESSORS) {
      const start = outages.get(p) ?? 0;
      const outage = sec >= start && sec < start + 90;
      const count = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < count; k++) {
        const failed = rand() < (outage ? 0.85 : 0.06);
        const e = toPaymentEvent({
          event_id: `e${n}`,
          // A little lateness inside the allowed 30 s.
          event_timestamp: new Date(T0 + sec * 1000 + k * 100 - Math.floor(rand() * 3000)).toISOString(),
          event_type: failed ? 'payment_failed' : 'payment_succeeded',
          processor: p,
          failure_category: failed ? (outage ? 'gateway_timeout' : 'card_declined') : undefined,
          retry_count: failed ? 1 : 0,
          geo_bucket: ['US', 'CA', 'GB', 'DE'][Math.floor(rand() * 4)],
        });
        const list = out.get(p) as Entry[];
        // Each partition's stream has its own ids, overlapping the others' (as on one Redis).
        list.push({ id: `${T0 + sec * 1000}-${list.length}`, json: JSON.stringify(e) });
        n++;
      }
    }
  }
  return out;
}

const toEnv = (e: Entry): Envelope => envelope(e.id, JSON.parse(e.json) as ReturnType<typeof toPaymentEvent>);
const riskOf = (env: Envelope): string =>
  JSON.stringify([env.risk?.score, env.risk?.band, env.risk?.drivers, env.risk?.trajectory]);
const incidentKey = (i: Incident): string =>
  JSON.stringify([i.warning_id, i.status, i.opened_at, i.resolved_at, i.peak_score, i.peak_band, i.event_count]);

/** The backtest: one scorer and one incident book over all events in time order, batches of 100. */
function backtest(parts: Map<string, Entry[]>): { risk: Map<string, string>; incidents: Map<string, string> } {
  const all = [...parts.values()].flat().map(toEnv);
  all.sort((a, b) => Number(a.id.split('-')[0]) - Number(b.id.split('-')[0]));
  const scorer = new RiskScorer(OPTIONS);
  const book = new IncidentBook(COOLDOWN_MS, () => 0);
  const risk = new Map<string, string>();
  const incidents = new Map<string, string>();
  for (let i = 0; i < all.length; i += 100) {
    const batch = all.slice(i, i + 100);
    scorer.scoreAll(batch);
    for (const e of batch) risk.set(e.event.event_id, riskOf(e));
    for (const t of book.apply(batch)) incidents.set(t.incident.warning_id, incidentKey(t.incident));
  }
  return { risk, incidents };
}

interface Node {
  readonly scorer: RiskScorer;
  readonly book: IncidentBook;
  readonly state: PartitionState;
  /** Partitions held and the epoch each was taken under. */
  readonly held: Map<string, number>;
  /** A scored batch not yet committed: [partition, epoch, next index, its warnings by processor]. */
  inFlight: [string, number, number, Map<string, [string, string][]>] | undefined;
}

function newNode(): Node {
  const scorer = new RiskScorer(OPTIONS);
  const book = new IncidentBook(COOLDOWN_MS, () => 0);
  const state = createPartitionState();
  state.setScorer(scorer);
  state.setBook(book);
  return { scorer, book, state, held: new Map(), inFlight: undefined };
}

/** Runs the cluster to the end with `seed` choosing every step; returns what was exported and stored. */
function simulate(parts: Map<string, Entry[]>, seed: number) {
  let s = seed >>> 0 || 7;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  // What Redis holds per partition: the committed position, the checkpoint, the fencing epoch.
  const redis = new Map(
    PROCESSORS.map((p) => [p, { committed: 0, checkpoint: undefined as string | undefined, epoch: 0 }]),
  );
  const nodes: Node[] = [newNode(), newNode(), newNode()];
  const exported = new Map<string, string[]>();
  const warnings = new Map<string, string>();
  const stats = { takeovers: 0, crashes: 0, fenced: 0, duplicates: 0 };

  const takeOver = (p: string, node: Node): void => {
    const r = redis.get(p);
    if (r === undefined) return;
    r.epoch++;
    // A consumer still holding it (paused, not yet told) drops it before it can take it again.
    if (node.held.has(p)) node.state.hooks.forget(p);
    node.state.hooks.restore(p, r.checkpoint);
    node.held.set(p, r.epoch);
    stats.takeovers++;
  };
  for (const p of PROCESSORS) takeOver(p, pick(nodes));

  const commit = (node: Node): void => {
    const f = node.inFlight;
    if (f === undefined) return;
    node.inFlight = undefined;
    const [p, epoch, next, staged] = f;
    const r = redis.get(p);
    if (r === undefined) return;
    // Another held partition's warnings (an incident resolved on this batch's clock) land first,
    // under that partition's own fence and with its checkpoint, as buffer/ownership.ts does.
    for (const [q, list] of staged) {
      const rq = redis.get(q);
      if (q === p || rq === undefined) continue;
      if (rq.epoch !== node.held.get(q)) {
        stats.fenced++;
        node.held.delete(q);
        node.state.hooks.forget(q);
        continue;
      }
      rq.checkpoint = JSON.stringify(
        JSON.parse(node.state.hooks.checkpoint(q, parts.get(q)?.[rq.committed - 1]?.id ?? '')),
      );
      for (const [id, w] of list) warnings.set(id, w);
    }
    if (r.epoch !== epoch) {
      // Fenced: another node owns it now; this one drops what it had.
      stats.fenced++;
      if (node.held.get(p) === epoch) {
        node.held.delete(p);
        node.state.hooks.forget(p);
      }
      return;
    }
    const list = parts.get(p) ?? [];
    r.checkpoint = JSON.stringify(JSON.parse(node.state.hooks.checkpoint(p, list[next - 1]?.id ?? '')));
    r.committed = next;
    for (const [id, w] of staged.get(p) ?? []) warnings.set(id, w);
  };

  for (let step = 0; step < 100_000; step++) {
    if (PROCESSORS.every((p) => redis.get(p)?.committed === parts.get(p)?.length)) break;
    const node = pick(nodes);
    const roll = rand();
    if (node.inFlight !== undefined) {
      if (roll < 0.9) commit(node);
      else {
        // Crash before the commit: the node loses everything; its partitions go elsewhere.
        stats.crashes++;
        const lost = [...node.held.keys()];
        nodes[nodes.indexOf(node)] = newNode();
        for (const p of lost) takeOver(p, pick(nodes.filter((n) => n !== node)));
      }
      continue;
    }
    if (roll < 0.08) {
      // A rebalance or a pause past the lease: a partition moves; its old owner may still hold
      // a batch in flight, whose commit will be refused.
      const p = pick(PROCESSORS);
      const from = nodes.find((n) => n.held.has(p));
      const to = pick(nodes.filter((n) => n !== from));
      if (from !== undefined && from.inFlight?.[0] !== p && rand() < 0.5) {
        from.held.delete(p);
        from.state.hooks.forget(p);
      }
      takeOver(p, to);
      continue;
    }
    const mine = [...node.held.keys()];
    if (mine.length === 0) continue;
    const p = pick(mine);
    const r = redis.get(p);
    const list = parts.get(p) ?? [];
    if (r === undefined || r.committed >= list.length) continue;
    if (r.epoch !== node.held.get(p)) {
      // The fenced read: a paused owner that lost the partition reads nothing more of it.
      stats.fenced++;
      node.held.delete(p);
      node.state.hooks.forget(p);
      continue;
    }
    const size = 1 + Math.floor(rand() * 60);
    const batch = list.slice(r.committed, r.committed + size).map(toEnv);
    node.scorer.scoreAll(batch);
    for (const e of batch) {
      const seen = exported.get(e.event.event_id) ?? [];
      if (seen.length > 0) stats.duplicates++;
      seen.push(riskOf(e));
      exported.set(e.event.event_id, seen);
    }
    const staged = new Map<string, [string, string][]>();
    for (const t of node.book.apply(batch)) {
      const list = staged.get(t.incident.processor) ?? [];
      list.push([t.incident.warning_id, incidentKey(t.incident)]);
      staged.set(t.incident.processor, list);
    }
    node.inFlight = [p, node.held.get(p) ?? -1, r.committed + batch.length, staged];
  }
  return { exported, warnings, stats };
}

describe('ownership simulator (no Redis)', () => {
  it('exports every event with the backtest’s risk fields through crashes, fencing and takeovers', () => {
    const parts = traffic(11, 900);
    const reference = backtest(parts);
    // The traffic has incidents for the simulation to carry across owners.
    expect([...reference.incidents.values()].length).toBeGreaterThanOrEqual(3);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const { exported, warnings, stats } = simulate(parts, seed);
        expect(stats.takeovers).toBeGreaterThan(PROCESSORS.length);
        expect(exported.size).toBe(reference.risk.size);
        for (const [id, lines] of exported) for (const r of lines) expect(r, id).toBe(reference.risk.get(id));
        expect(warnings).toEqual(reference.incidents);
      }),
      { numRuns: 12 },
    );
  });

  it('restores a window that scores the next events exactly as the original does', () => {
    const parts = traffic(5, 400);
    const events = (parts.get('stripe') ?? []).map(toEnv);
    const original = new RiskScorer(OPTIONS);
    original.scoreAll(events.slice(0, 250));
    const state = createPartitionState();
    state.setScorer(original);
    const text = state.hooks.checkpoint('stripe', events[249]?.id ?? '');
    const restored = new RiskScorer(OPTIONS);
    const other = createPartitionState();
    other.setScorer(restored);
    other.hooks.restore('stripe', JSON.stringify(JSON.parse(text)));
    const rest = (parts.get('stripe') ?? []).slice(250);
    const a = rest.map(toEnv);
    const b = rest.map(toEnv);
    original.scoreAll(a);
    restored.scoreAll(b);
    expect(b.map(riskOf)).toEqual(a.map(riskOf));
    expect(restored.snapshot()).toEqual(original.snapshot());
    expect(text.length).toBeLessThan(16_000);
  });
});

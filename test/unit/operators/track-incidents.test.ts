import { describe, expect, it } from 'vitest';
import { Subject, firstValueFrom, from, lastValueFrom, throwError, toArray, concat } from 'rxjs';
import {
  IncidentBook,
  WARNING_HOLD_SEC,
  trackIncidents,
  type Incident,
  type IncidentBatch,
} from '../../../src/operators/track-incidents.js';
import type { Band } from '../../../src/risk-terms.js';
import type { Batch, Envelope } from '../../../src/pipeline/types.js';
import type { Plain } from '../../../src/operators/risk/plain-state.js';
import { envelope } from './fixtures.js';

const T0 = Date.parse('2024-05-01T09:00:00Z');
const NOW = Date.parse('2024-05-01T09:00:03Z');
let seq = 0;

function env(processor: string, atSec: number, score: number, band: Band, tier = false): Envelope {
  seq += 1;
  const t = T0 + atSec * 1000;
  const e = envelope({ at: t, processor, category: 'card_declined', merchant: 'm1', id: `${t}-${seq}` });
  e.risk = {
    score,
    band,
    drivers: band === 'low' ? ['nominal_behavior'] : ['high_failure_rate'],
    trajectory: 'stable',
    trajectoryRatio: 1,
  };
  e.tier = tier ? { playbookContext: `context ${score}`, riskTrajectory: 'Pattern accelerating.' } : undefined;
  return e;
}

const batch = (...entries: Envelope[]): Batch => ({ entries, dead: [], ackIds: entries.map((e) => e.id) });
const kinds = (b: IncidentBatch): string[] => b.transitions.map((t) => `${t.kind}:${t.incident.processor}`);

/**
 * Runs the operator over `batches`. Most cases below are about what happens once an incident is
 * open, so they run without a hold (`holdSec` 0: the first elevated event opens); the hold has
 * its own cases at the end, with the default.
 */
async function run(batches: Batch[], cooldownSec = 120, seed: Incident[] = [], holdSec = 0): Promise<IncidentBatch[]> {
  return lastValueFrom(from(batches).pipe(trackIncidents({ cooldownSec, now: () => NOW, seed, holdSec }), toArray()));
}

describe('trackIncidents', () => {
  it('opens one incident when the band has held elevated for holdSec, with the event that completes it as the warning', async () => {
    const opener = env('stripe', 10, 0.31, 'elevated', true);
    const [first, second] = await run(
      [
        batch(env('stripe', -1, 0.1, 'low'), env('stripe', 0, 0.33, 'elevated'), env('stripe', 9.9, 0.35, 'elevated')),
        batch(opener),
      ],
      120,
      [],
      WARNING_HOLD_SEC,
    );
    expect(kinds(first!)).toEqual([]);
    expect(kinds(second!)).toEqual(['open:stripe']);
    expect(second!.transitions[0]!.incident).toEqual({
      warning_id: `stripe:${opener.event.event_id}`,
      event_id: opener.event.event_id,
      processor: 'stripe',
      merchant_id_hash: 'm1',
      processed_at: '2024-05-01T09:00:03.000Z',
      event_timestamp: '2024-05-01T09:00:10.000Z',
      processor_risk_score: 0.31,
      processor_risk_band: 'elevated',
      processor_risk_drivers: ['high_failure_rate'],
      processor_risk_focus: null,
      processor_playbook_context: 'context 0.31',
      risk_trajectory: 'Pattern accelerating.',
      status: 'open',
      opened_at: '2024-05-01T09:00:10.000Z',
      resolved_at: null,
      peak_score: 0.31,
      peak_band: 'elevated',
      event_count: 1,
    });
  });

  it('does not flood: 500 elevated events give one open and one coalesced update per batch', async () => {
    const first = Array.from({ length: 500 }, (_, i) => env('stripe', i / 10, 0.4, 'elevated'));
    const second = Array.from({ length: 500 }, (_, i) => env('stripe', 50 + i / 10, 0.45, 'elevated'));
    const [a, b] = await run([batch(...first), batch(...second)]);
    expect(kinds(a!)).toEqual(['open:stripe', 'update:stripe']);
    expect(a!.transitions[1]!.incident.event_count).toBe(500);
    expect(kinds(b!)).toEqual(['update:stripe']);
    expect(b!.transitions[0]!.incident).toMatchObject({
      event_count: 1000,
      peak_score: 0.45,
      warning_id: a!.transitions[0]!.incident.warning_id,
    });
  });

  it('escalates when the band passes its peak, and only then', async () => {
    const [out] = await run([
      batch(
        env('adyen', 0, 0.35, 'elevated'),
        env('adyen', 1, 0.65, 'high'),
        env('adyen', 2, 0.5, 'elevated'),
        env('adyen', 3, 0.85, 'critical'),
        env('adyen', 4, 0.62, 'high'),
      ),
    ]);
    expect(kinds(out!)).toEqual(['open:adyen', 'escalate:adyen', 'escalate:adyen', 'update:adyen']);
    expect(out!.transitions[1]!.incident).toMatchObject({
      processor_risk_band: 'high',
      peak_band: 'high',
      peak_score: 0.65,
      event_count: 2,
    });
    expect(out!.transitions[3]!.incident).toMatchObject({
      processor_risk_band: 'high',
      processor_risk_score: 0.62,
      peak_band: 'critical',
      peak_score: 0.85,
      event_count: 5,
    });
  });

  it('snapshots do not change when the incident does afterwards', async () => {
    const [out] = await run([batch(env('stripe', 0, 0.35, 'elevated'), env('stripe', 1, 0.9, 'critical'))]);
    expect(out!.transitions[0]!.incident.peak_band).toBe('elevated');
  });

  it('stays open through a quiet spell shorter than the cooldown, resolves once it reaches it', async () => {
    const [a, b, c] = await run([
      batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 10, 0.1, 'low'), env('stripe', 129, 0.1, 'low')),
      batch(env('stripe', 129.5, 0.2, 'low')),
      batch(env('stripe', 130, 0.1, 'low'), env('stripe', 131, 0.1, 'low')),
    ]);
    expect(kinds(a!)).toEqual(['open:stripe']);
    expect(kinds(b!)).toEqual([]);
    expect(kinds(c!)).toEqual(['resolve:stripe']);
    expect(c!.transitions[0]!.incident).toMatchObject({
      status: 'resolved',
      resolved_at: '2024-05-01T09:02:10.000Z',
      event_count: 1,
    });
  });

  it('restarts the cooldown when the band rises again during it, without a new incident', async () => {
    const [a] = await run([
      batch(
        env('stripe', 0, 0.4, 'elevated'),
        env('stripe', 100, 0.1, 'low'),
        env('stripe', 110, 0.4, 'elevated'),
        env('stripe', 230, 0.1, 'low'),
        env('stripe', 349, 0.1, 'low'),
      ),
    ]);
    expect(kinds(a!)).toEqual(['open:stripe', 'update:stripe']);
  });

  it('resolves a processor that went quiet and then silent, by the batch watermark', async () => {
    const [, b] = await run([
      batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 5, 0.1, 'low')),
      batch(env('adyen', 125, 0.1, 'low')),
    ]);
    expect(kinds(b!)).toEqual(['resolve:stripe']);
    expect(b!.transitions[0]!.incident.resolved_at).toBe('2024-05-01T09:02:05.000Z');
  });

  it('resolves a silent processor on the clock given (the cluster’s watermark) at the end of its cooldown, also with nothing read', async () => {
    let clock = -1;
    const out = await lastValueFrom(
      from([
        batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 5, 0.1, 'low')),
        batch(),
        batch(),
        batch(env('stripe', 130, 0.1, 'low')),
      ]).pipe(
        trackIncidents({
          cooldownSec: 120,
          now: () => NOW,
          holdSec: 0,
          // Read once per batch: behind the cooldown's end, then past it, then far past it.
          clock: () => [T0 + 100_000, T0 + 124_999, T0 + 125_000, T0 + 900_000][++clock] ?? -1,
        }),
        toArray(),
      ),
    );
    expect(out.map(kinds)).toEqual([['open:stripe'], [], ['resolve:stripe'], []]);
    expect(out[2]!.transitions[0]!.incident.resolved_at).toBe('2024-05-01T09:02:05.000Z');
  });

  it('an elevated event after a full quiet spell opens a new incident, whether or not a low event showed the end of the spell first', async () => {
    const opener = (): Batch => batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 5, 0.1, 'low'));
    const shown = await run([opener(), batch(env('stripe', 126, 0.1, 'low')), batch(env('stripe', 130, 0.7, 'high'))]);
    const unseen = await run([opener(), batch(env('stripe', 130, 0.7, 'high'))]);
    expect(shown.map(kinds)).toEqual([['open:stripe'], ['resolve:stripe'], ['open:stripe']]);
    expect(unseen.map(kinds)).toEqual([['open:stripe'], ['resolve:stripe', 'open:stripe']]);
    for (const out of [shown, unseen]) {
      const [resolved, reopened] = out.flatMap((b) => b.transitions).slice(1);
      expect(resolved!.incident.resolved_at).toBe('2024-05-01T09:02:05.000Z');
      expect(reopened!.incident.opened_at).toBe('2024-05-01T09:02:10.000Z');
      expect(reopened!.incident.warning_id).not.toBe(resolved!.incident.warning_id);
    }
  });

  it('runs the cooldown on the processor’s own events while it has some: another processor’s later clock does not cut it short', async () => {
    // adyen's event is 200 s ahead (clock skew is allowed up to 300 s); stripe is only 10 s into its quiet spell.
    const [a, b, c] = await run([
      batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 5, 0.1, 'low')),
      batch(env('stripe', 15, 0.1, 'low'), env('adyen', 205, 0.1, 'low')),
      batch(env('stripe', 125, 0.1, 'low')),
    ]);
    expect(kinds(a!)).toEqual(['open:stripe']);
    expect(kinds(b!)).toEqual([]);
    // 120 s of its own events after the first low one.
    expect(kinds(c!)).toEqual(['resolve:stripe']);
    expect(c!.transitions[0]!.incident.resolved_at).toBe('2024-05-01T09:02:05.000Z');
  });

  it('with cooldown 0, resolves on the first low event and a new incident gets a new id', async () => {
    const [a] = await run(
      [batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 1, 0.1, 'low'), env('stripe', 2, 0.4, 'elevated'))],
      0,
    );
    expect(kinds(a!)).toEqual(['open:stripe', 'resolve:stripe', 'open:stripe']);
    expect(a!.transitions[0]!.incident.warning_id).not.toBe(a!.transitions[2]!.incident.warning_id);
  });

  it('keeps processors independent', async () => {
    const [a] = await run([
      batch(env('stripe', 0, 0.4, 'elevated'), env('adyen', 0, 0.7, 'high'), env('stripe', 1, 0.1, 'low')),
    ]);
    expect(kinds(a!)).toEqual(['open:stripe', 'open:adyen']);
  });

  it('continues a seeded incident after a restart instead of opening a new one', async () => {
    const [before] = await run([batch(env('stripe', 0, 0.4, 'elevated'))]);
    const seeded = before!.transitions[0]!.incident;
    const [after] = await run([batch(env('stripe', 60, 0.7, 'high'))], 120, [seeded]);
    expect(kinds(after!)).toEqual(['escalate:stripe']);
    expect(after!.transitions[0]!.incident).toMatchObject({
      warning_id: seeded.warning_id,
      processed_at: seeded.processed_at,
      event_count: 2,
      peak_band: 'high',
    });
  });

  it('ignores resolved incidents in the seed and envelopes without risk', async () => {
    const [before] = await run([batch(env('stripe', 0, 0.4, 'elevated'), env('stripe', 1, 0.1, 'low'))], 0);
    const unscored = { ...env('stripe', 2, 0.9, 'critical'), risk: undefined };
    const [after] = await run([batch(unscored, env('stripe', 3, 0.1, 'low'))], 0, [before!.transitions[1]!.incident]);
    expect(kinds(after!)).toEqual([]);
  });

  it('keeps state per subscription', async () => {
    const tracked$ = from([batch(env('stripe', 0, 0.7, 'high'))]).pipe(
      trackIncidents({ cooldownSec: 120, now: () => NOW }),
    );
    expect(kinds(await firstValueFrom(tracked$))).toEqual(['open:stripe']);
    expect(kinds(await firstValueFrom(tracked$))).toEqual(['open:stripe']);
  });

  it('emits one value per batch, even an empty one, and completes with the source', async () => {
    const out = await run([batch(), batch(env('stripe', 0, 0.1, 'low'))]);
    expect(out.map((b) => b.transitions.length)).toEqual([0, 0]);
  });

  it('passes source errors through after the values before them', () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const failing$ = concat(
      from([batch(env('stripe', 0, 0.7, 'high'))]),
      throwError(() => new Error('boom')),
    );
    failing$
      .pipe(trackIncidents({ cooldownSec: 1, now: () => NOW }))
      .subscribe({ next: (b) => seen.push(...kinds(b)), error: (e: unknown) => errors.push(e) });
    expect(seen).toEqual(['open:stripe']);
    expect(errors).toEqual([new Error('boom')]);
  });

  it('completes when the source completes', () => {
    const source = new Subject<Batch>();
    let completed = false;
    source.pipe(trackIncidents({ cooldownSec: 1, now: () => NOW })).subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(false);
    source.complete();
    expect(completed).toBe(true);
  });

  it('errors the stream when now() throws, and stops consuming the source', () => {
    const source = new Subject<Batch>();
    const errors: unknown[] = [];
    source
      .pipe(
        trackIncidents({
          cooldownSec: 1,
          now: () => {
            throw new Error('clock');
          },
        }),
      )
      .subscribe({ error: (e: unknown) => errors.push(e) });
    source.next(batch(env('stripe', 0, 0.7, 'high')));
    expect(errors).toHaveLength(1);
    expect(source.observed).toBe(false);
  });

  it('rejects a negative cooldown or hold up front', () => {
    expect(() => trackIncidents({ cooldownSec: -1, now: () => NOW })).toThrow(RangeError);
    expect(() => trackIncidents({ cooldownSec: 1, holdSec: -1, now: () => NOW })).toThrow(RangeError);
  });
});

describe('trackIncidents: the hold (default holdSec)', () => {
  const held = (batches: Batch[]) =>
    lastValueFrom(from(batches).pipe(trackIncidents({ cooldownSec: 120, now: () => NOW }), toArray()));

  it('has a default of 10 s', () => {
    expect(WARNING_HOLD_SEC).toBe(10);
  });

  it('opens nothing on touches of elevated that a low event ends within the hold', async () => {
    const out = await held([
      batch(env('stripe', 0, 0.31, 'elevated'), env('stripe', 6, 0.34, 'elevated'), env('stripe', 9, 0.2, 'low')),
      // A new run starts its own hold: 9.5 s after its first event is not enough.
      batch(env('stripe', 12, 0.32, 'elevated'), env('stripe', 21.5, 0.4, 'elevated'), env('stripe', 22, 0.1, 'low')),
    ]);
    expect(out.flatMap(kinds)).toEqual([]);
  });

  it('opens at once on high or worse, in the middle of an elevated run too', async () => {
    const [a] = await held([batch(env('adyen', 0, 0.65, 'high'))]);
    expect(kinds(a!)).toEqual(['open:adyen']);
    const [b] = await held([batch(env('stripe', 0, 0.35, 'elevated'), env('stripe', 2, 0.85, 'critical'))]);
    expect(kinds(b!)).toEqual(['open:stripe']);
    expect(b!.transitions[0]!.incident).toMatchObject({ opened_at: '2024-05-01T09:00:02.000Z', peak_band: 'critical' });
  });

  it('holds runs per processor: another processor’s low events do not end one', async () => {
    const [a] = await held([
      batch(env('stripe', 0, 0.35, 'elevated'), env('adyen', 5, 0.1, 'low'), env('stripe', 10, 0.35, 'elevated')),
    ]);
    expect(kinds(a!)).toEqual(['open:stripe']);
  });

  it('carries an elevated run over a checkpoint: export, import into a fresh book, same opening', () => {
    const one = new IncidentBook(120_000, () => NOW);
    expect(one.apply([env('stripe', 0, 0.35, 'elevated')])).toEqual([]);
    const state = JSON.parse(JSON.stringify(one.exportProcessor('stripe'))) as Plain;
    expect(state).toEqual({ pendingSinceMs: T0 });
    const two = new IncidentBook(120_000, () => NOW);
    two.importProcessor('stripe', state);
    const next = env('stripe', 10, 0.36, 'elevated');
    expect(two.apply([next]).map((t) => t.kind)).toEqual(['open']);
    expect(one.apply([next]).map((t) => t.kind)).toEqual(['open']);
    // Importing null drops the run.
    const three = new IncidentBook(120_000, () => NOW);
    three.importProcessor('stripe', state);
    three.importProcessor('stripe', null);
    expect(three.apply([env('stripe', 10, 0.36, 'elevated')])).toEqual([]);
  });
});

describe('IncidentBook memory bound', () => {
  it('holds one entry per processor with an open incident and drops resolved ones', () => {
    const book = new IncidentBook(0, () => NOW);
    for (let i = 0; i < 1000; i += 1) {
      book.apply([env(`p${i % 4}`, i, 0.4, 'elevated')]);
      expect(book.openCount).toBeLessThanOrEqual(4);
    }
    expect(book.openCount).toBe(4);
    book.apply([0, 1, 2, 3].map((p) => env(`p${p}`, 2000, 0.1, 'low')));
    expect(book.openCount).toBe(0);
  });

  it('carries the segment in focus of its latest elevated event', async () => {
    const opener = env('stripe', 0, 0.4, 'elevated', true);
    const focused = env('stripe', 1, 0.5, 'elevated');
    focused.risk = { ...focused.risk!, drivers: ['geo_failure_concentration'], focus: { geo_bucket: 'BR' } };
    const [out] = await run([batch(opener, focused)]);
    expect(out!.transitions.at(-1)!.incident.processor_risk_focus).toEqual({ geo_bucket: 'BR' });
  });
});

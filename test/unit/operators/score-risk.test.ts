import { EMPTY, Subject, concat, from, lastValueFrom, of, throwError, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { RiskBatchReport, RiskScorer } from '../../../src/operators/risk/risk-scorer.js';
import { scoreRisk } from '../../../src/operators/score-risk.js';
import type { ScoreRiskOptions } from '../../../src/operators/score-risk.js';
import type { Batch, Envelope } from '../../../src/pipeline/types.js';
import { T0, batchOf, envelope, inBucket, redelivered } from './fixtures.js';

const OPTIONS: ScoreRiskOptions = {
  model: 'adaptive',
  windowSec: 300,
  allowedLatenessSec: 30,
  thresholds: [0.3, 0.6, 0.8],
};

/**
 * Ten minutes of calm traffic, then on stripe an authentication-failure cluster and, from
 * 13.3 minutes, a timeout outage; two processors interleaved.
 */
function traffic(): Envelope[] {
  const out: Envelope[] = [];
  for (let i = 0; i < 9_000; i++) {
    const at = T0 + i * 100;
    const stripe = i % 2 === 0;
    const category =
      stripe && i >= 8_000
        ? 'gateway_timeout'
        : stripe && i >= 6_000 && i % 7 === 0
          ? '3ds_failed'
          : i % 13 === 0
            ? 'card_declined'
            : undefined;
    out.push(envelope({ at, processor: stripe ? 'stripe' : 'adyen', category, geo: i % 3 === 0 ? 'US' : 'GB' }));
  }
  return out;
}

function chunks(envs: Envelope[], size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < envs.length; i += size) out.push(batchOf(envs.slice(i, i + size)));
  return out;
}

function fresh(envs: Envelope[]): Envelope[] {
  return envs.map((e) => ({ ...e, risk: undefined, tier: undefined }));
}

async function scored(batches: Batch[], o: Partial<ScoreRiskOptions> = {}): Promise<Batch[]> {
  return lastValueFrom(from(batches).pipe(scoreRisk({ ...OPTIONS, ...o }), toArray()));
}

describe('scoreRisk', () => {
  it('fills envelope.risk on every envelope and re-emits the same batches in order', async () => {
    const batches = chunks(traffic(), 500);
    const out = await scored(batches);
    expect(out).toHaveLength(batches.length);
    out.forEach((b, i) => expect(b).toBe(batches[i]));
    expect(out.flatMap((b) => b.entries).every((e) => e.risk !== undefined)).toBe(true);
    const last = out
      .at(-1)!
      .entries.filter((e) => e.event.processor === 'stripe')
      .at(-1)!.risk!;
    expect(last.band).toBe('critical');
    expect(last.drivers).toContain('timeout_clustering');
    const calm = out
      .at(-1)!
      .entries.filter((e) => e.event.processor === 'adyen')
      .at(-1)!.risk!;
    expect(calm.band).toBe('low');
  });

  it('gives the same scores whatever the batch boundaries (live and backtest agree)', async () => {
    const envs = traffic();
    const a = (await scored(chunks(envs, 500))).flatMap((b) => b.entries.map((e) => e.risk));
    const again = fresh(envs);
    const b = (await scored(chunks(again, 37))).flatMap((x) => x.entries.map((e) => e.risk));
    expect(b).toEqual(a);
  });

  it('keeps state per subscription: two subscriptions of one operator share nothing', async () => {
    const op = scoreRisk(OPTIONS);
    const first = fresh(traffic());
    await lastValueFrom(from(chunks(first, 500)).pipe(op, toArray()));
    const second = fresh(traffic());
    await lastValueFrom(from(chunks(second, 500)).pipe(op, toArray()));
    expect(second.map((e) => e.risk)).toEqual(first.map((e) => e.risk));
  });

  it('does not count a redelivered entry twice', async () => {
    const envs = inBucket(0, 20, { category: 'card_declined' });
    envs.push(...inBucket(1, 20));
    const reports: RiskBatchReport[] = [];
    await scored([batchOf(envs), batchOf(envs.slice(0, 20).map(redelivered))], { onScored: (r) => reports.push(r) });
    expect(reports[1]!.duplicates).toBe(20);
    expect(reports[1]!.processors[0]!.window.events).toBe(40);
    expect(reports[1]!.processors[0]!.window.failures).toBe(20);
  });

  describe('rebuild on start', () => {
    /** Scores `tail` after the whole history, and again after a restart that rebuilds from the last window. */
    async function restart(model: 'adaptive' | 'classic') {
      const envs = traffic();
      // The restart falls in the middle of the auth cluster, before the outage.
      const head = envs.slice(0, 7_000);
      const tail = envs.slice(7_000, 8_000);
      const live: RiskBatchReport[] = [];
      await scored([...chunks(head, 500), batchOf(tail)], { model, onScored: (r) => live.push(r) });
      // After the restart: the stream's last window (plus lateness) of entries, then the last
      // batch, delivered before the crash and never acked, comes again, then new entries.
      const since = head.at(-1)!.eventTimeMs - 330_000;
      const rebuild = fresh(head.filter((e) => e.eventTimeMs >= since));
      const pending = head.slice(-500).map(redelivered);
      const again = fresh(tail);
      const rebuilt: RiskBatchReport[] = [];
      await scored([...chunks(rebuild, 500), batchOf(pending), batchOf(again)], {
        model,
        onScored: (r) => rebuilt.push(r),
      });
      return {
        live: live.at(-1)!,
        rebuilt: rebuilt.at(-1)!,
        before: tail.map((e) => e.risk!),
        after: again.map((e) => e.risk!),
        pending: rebuilt.at(-2)!,
      };
    }

    it('restores the window exactly and does not count the pending batch twice', async () => {
      const r = await restart('adaptive');
      expect(r.pending.duplicates).toBe(500);
      expect(r.rebuilt.processors.map((p) => p.window)).toEqual(r.live.processors.map((p) => p.window));
    });

    it('gives the classic model the same scores after a restart', async () => {
      const r = await restart('classic');
      expect(r.after).toEqual(r.before);
    });

    it('gives the adaptive model the same alarms after a restart (its long baseline is approximated)', async () => {
      const r = await restart('adaptive');
      expect(r.before.filter((a) => a.band !== 'low').length).toBeGreaterThan(100);
      // Alarmed or not, event by event, as before the restart; the band itself may differ by a
      // step where the score sits on a threshold.
      expect(r.after.map((a) => a.band !== 'low')).toEqual(r.before.map((a) => a.band !== 'low'));
      // The scores within 0.2: the baseline is rebuilt from the last window, and the sequential
      // test, which weighs minutes of history, starts afresh (it is off until the baseline holds
      // 200 events); during the auth cluster it had added to the failure signal.
      const drift = Math.max(...r.after.map((a, i) => Math.abs(a.score - r.before[i]!.score)));
      expect(drift).toBeLessThanOrEqual(0.2);
    });
  });

  it('reports once per batch: counts, bands per processor and every processor state', async () => {
    const reports: RiskBatchReport[] = [];
    const envs = [...inBucket(0, 10, { processor: 'stripe' }), ...inBucket(0, 3, { processor: 'adyen' })];
    envs.push(envelope({ at: T0 - 60_000, processor: 'stripe' }));
    await scored([batchOf(envs), batchOf([])], { onScored: (r) => reports.push(r) });
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ scored: 14, late: 1, duplicates: 0 });
    expect(reports[0]!.bands).toEqual([
      { processor: 'stripe', band: 'low', count: 11 },
      { processor: 'adyen', band: 'low', count: 3 },
    ]);
    expect(reports[0]!.processors.map((p) => p.processor)).toEqual(['adyen', 'stripe']);
    expect(reports[0]!.processors[0]!.drivers).toEqual(['insufficient_data']);
    expect(reports[0]!.processors[1]!.totals).toMatchObject({ counted: 11, tooLate: 1, scoredByBand: { low: 11 } });
    expect(reports[1]).toMatchObject({ scored: 0, bands: [] });
  });

  it('hands each subscription its own live scorer for snapshots', async () => {
    const scorers: RiskScorer[] = [];
    const op = scoreRisk({ ...OPTIONS, onScorer: (s) => scorers.push(s) });
    await lastValueFrom(of(batchOf(inBucket(0, 8))).pipe(op, toArray()));
    await lastValueFrom(of(batchOf(inBucket(0, 2))).pipe(op, toArray()));
    expect(scorers).toHaveLength(2);
    expect(scorers[0]).not.toBe(scorers[1]);
    expect(scorers.map((s) => s.snapshot()[0]!.window.events)).toEqual([8, 2]);
  });

  it('propagates a source error and completion', async () => {
    const boom = new Error('source failed');
    await expect(
      lastValueFrom(
        concat(
          of(batchOf(inBucket(0, 3))),
          throwError(() => boom),
        ).pipe(scoreRisk(OPTIONS)),
      ),
    ).rejects.toBe(boom);
    await expect(lastValueFrom(EMPTY.pipe(scoreRisk(OPTIONS)), { defaultValue: 'completed' })).resolves.toBe(
      'completed',
    );
  });

  it('ends the stream with the error of a throwing callback', async () => {
    const boom = new Error('metrics failed');
    const input = new Subject<Batch>();
    const seen: unknown[] = [];
    input
      .pipe(
        scoreRisk({
          ...OPTIONS,
          onScored: () => {
            throw boom;
          },
        }),
      )
      .subscribe({ error: (e: unknown) => seen.push(e) });
    input.next(batchOf(inBucket(0, 3)));
    expect(seen).toEqual([boom]);
  });

  it('rejects invalid options when the operator is created', () => {
    expect(() => scoreRisk({ ...OPTIONS, thresholds: [0.6, 0.3, 0.8] })).toThrow(RangeError);
    expect(() => scoreRisk({ ...OPTIONS, windowSec: 0 })).toThrow(/windowSec/);
    expect(() => scoreRisk({ ...OPTIONS, maxProcessors: 0 })).toThrow(/maxProcessors/);
    expect(() => scoreRisk({ ...OPTIONS, model: 'magic' as 'adaptive' })).toThrow(/model/);
  });
});

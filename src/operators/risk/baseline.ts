/**
 * The processor baseline's arithmetic, shared by the window (which feeds it) and the adaptive
 * model (which reads it): priors, winsorised learning, and the learned drift of a rate.
 */

/**
 * What a processor is assumed to do before its own history says otherwise, as pseudo-events
 * added to every baseline rate: a new processor starts from typical behaviour and its own
 * traffic outweighs the prior within a few buckets.
 */
export const BASELINE_PRIOR = Object.freeze({
  events: 200,
  failureRate: 0.1,
  timeoutRate: 0.01,
  authRate: 0.01,
  avgRetry: 0.2,
});

/**
 * Winsorising of what a bucket teaches the baseline: a count above
 * `e·(p·(1 + relative) + absolute) + sd·√(e·p·(1−p)) + 1` (p the baseline rate before the bucket)
 * is fed at that cap, so an outage moves the baseline by a small step per bucket, while a real
 * change of normal (or a thin baseline at cold start) is still learned.
 */
export const BASELINE_WINSOR = Object.freeze({ relative: 0.25, absolute: 0.01, sd: 2 });

/**
 * Drift beyond binomial noise: the processor's 10 s rates scatter around its baseline by τ. The
 * prior `τ₀ = relative·p + absolute` (with `weight` buckets) gives way to the decayed mean of
 * what buckets show, `(r − p)² − p(1−p)/e`, each capped at `cap·τ²` and skipped for buckets
 * scored elevated or worse, so an incident can neither teach it nor inflate it. Floored at
 * `floor·τ₀`.
 */
export const DRIFT = Object.freeze({ relative: 0.15, absolute: 0.005, weight: 30, cap: 4, floor: 0.25 });

/** τ² of a rate `p` from its decayed drift sum and weight (see DRIFT). */
export function driftSq(sum: number, weight: number, p: number): number {
  const t0 = DRIFT.relative * p + DRIFT.absolute;
  const t0sq = t0 * t0;
  const v = (sum + DRIFT.weight * t0sq) / (weight + DRIFT.weight);
  const lo = DRIFT.floor * DRIFT.floor * t0sq;
  return v > lo ? v : lo;
}

export function driftSample(count: number, events: number, p: number, sum: number, weight: number): number {
  const dev = count / events - p;
  const v = dev * dev - (p * (1 - p)) / events;
  const cap = DRIFT.cap * driftSq(sum, weight, p);
  return v < cap ? v : cap;
}

/** The baseline rate of a count with its prior, before a bucket is fed. */
export function baselineRate(count: number, events: number, prior: number): number {
  return (count + BASELINE_PRIOR.events * prior) / (events + BASELINE_PRIOR.events);
}

/** `count` of `events` capped as BASELINE_WINSOR says, against baseline rate `p`. */
export function winsorised(count: number, events: number, p: number): number {
  const cap =
    events * (p * (1 + BASELINE_WINSOR.relative) + BASELINE_WINSOR.absolute) +
    BASELINE_WINSOR.sd * Math.sqrt(events * p * (1 - p)) +
    1;
  return count < cap ? count : cap;
}

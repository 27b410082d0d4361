/**
 * `enrichTier`: tier gating. Tier 1 carries detection only; tier 2 adds the playbook
 * context and the trajectory sentence, derived from `envelope.risk`.
 */
import { defer, map } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import type { Batch, RiskAssessment, TierContext } from '../pipeline/types.js';
import { BAND_RANK, TIERS, type RiskDriverOrStatus, type Tier } from '../risk-terms.js';
import { DRIVER_LISTS } from './risk/risk-model.js';
import { playbookContext, trajectoryText } from './playbook-sentences.js';

export interface EnrichTierOptions {
  /** PAYFLUX_TIER. */
  readonly tier: Tier;
  /** PAYFLUX_RISK_SCORE_WINDOW_SEC, named in the trajectory sentence. */
  readonly windowSec: number;
}

/**
 * The tier 2 context of one assessment. Contexts are shared, immutable objects cached by band,
 * driver set, trajectory and ratio (few distinct values), so most events cost one map lookup
 * and no allocation. Bounded: the cache is cleared when it reaches `capacity`.
 */
export function createTierContexts(windowSec: number, capacity = 4096): (risk: RiskAssessment) => TierContext {
  const byKey = new Map<number, TierContext>();
  const build = (risk: RiskAssessment): TierContext => ({
    playbookContext: playbookContext(risk.band, risk.drivers, risk.focus),
    riskTrajectory: trajectoryText(risk.trajectory, risk.trajectoryRatio, windowSec),
  });
  // A focused assessment (a segment incident) is built once per assessment object: the scorer
  // interns them per focus, and a WeakMap lets them go with their cell.
  const focused = new WeakMap<RiskAssessment, TierContext>();
  // The scorer reuses an assessment object while nothing it reports changes, and interns the
  // rest: consecutive events of a processor mostly carry the same one, which then costs no
  // lookup. The last few are kept, since a batch can interleave processors (a backtest's does).
  const recentRisks: (RiskAssessment | undefined)[] = new Array<RiskAssessment | undefined>(RECENT).fill(undefined);
  const recentContexts: (TierContext | undefined)[] = new Array<TierContext | undefined>(RECENT).fill(undefined);
  let next = 0;
  const contextOf = (risk: RiskAssessment): TierContext => {
    if (risk.focus !== undefined) {
      let context = focused.get(risk);
      if (context === undefined) {
        context = build(risk);
        focused.set(risk, context);
      }
      return context;
    }
    const mask = MASK_OF_LIST.get(risk.drivers);
    const tenths = Math.round(risk.trajectoryRatio * 10);
    // Only scorer-made assessments (shared driver lists, ratios in tenths) are cached.
    if (mask === undefined || tenths / 10 !== risk.trajectoryRatio || tenths < 0 || tenths > 255) return build(risk);
    const b = BAND_RANK[risk.band];
    const t = risk.trajectory === 'stable' ? 0 : risk.trajectory === 'accelerating' ? 1 : 2;
    const key = ((b * DRIVER_LISTS.length + mask) * 3 + t) * 256 + tenths;
    let context = byKey.get(key);
    if (context === undefined) {
      if (byKey.size >= capacity) byKey.clear();
      context = build(risk);
      byKey.set(key, context);
    }
    return context;
  };
  return (risk) => {
    for (let i = 0; i < RECENT; i++) {
      const context = recentContexts[i];
      if (recentRisks[i] === risk && context !== undefined) return context;
    }
    const context = contextOf(risk);
    recentRisks[next] = risk;
    recentContexts[next] = context;
    next = next + 1 === RECENT ? 0 : next + 1;
    return context;
  };
}

/** Assessments `createTierContexts` remembers with their context: the last few it was asked for. */
const RECENT = 4;

/** Scorer-made assessments share the frozen DRIVER_LISTS arrays: identity gives the mask. */
const MASK_OF_LIST = new Map<readonly RiskDriverOrStatus[], number>(DRIVER_LISTS.map((list, mask) => [list, mask]));

/**
 * Sets `envelope.tier` on every envelope of every batch and re-emits the same batch.
 *
 * Tier 1: `tier` is set to undefined, whatever an earlier stage left there, so tier 1 exports
 * never carry interpretation. Tier 2: the context of `envelope.risk` (undefined when the
 * envelope was not scored). Caches live in the subscription. Errors and completion pass through.
 */
export function enrichTier(options: EnrichTierOptions): OperatorFunction<Batch, Batch> {
  const { tier, windowSec } = options;
  if (!TIERS.includes(tier)) throw new RangeError(`tier must be one of ${TIERS.join(', ')} (got ${String(tier)})`);
  if (!(windowSec > 0)) throw new RangeError(`windowSec must be > 0 (got ${windowSec})`);
  if (tier === 'tier1') {
    return map((batch) => {
      for (const env of batch.entries) env.tier = undefined;
      return batch;
    });
  }
  return (source) =>
    defer(() => {
      const contextOf = createTierContexts(windowSec);
      return source.pipe(
        map((batch) => {
          const entries = batch.entries;
          for (let i = 0; i < entries.length; i++) {
            const env = entries[i];
            if (env === undefined) continue;
            const risk = env.risk;
            env.tier = risk === undefined ? undefined : contextOf(risk);
          }
          return batch;
        }),
      );
    });
}

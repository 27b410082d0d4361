/**
 * The original PayFlux weights, kept bit-for-bit so old dashboards and the reference
 * vectors still hold:
 *
 *   0.25·failRate + 0.20·min(1, avgRetry/3) + 0.15·timeoutMix
 *     + 0.15·min(1, currentBucket/avgOtherBuckets/2) + 0.10·authMix + 0.15·min(1, geos/10)
 *
 * `avgOtherBuckets` averages over every other bucket of the window, empty ones included (that is
 * what the reference vectors require), so the spike term reads high until the window has filled.
 */
import type { WindowView } from './processor-window.js';
import type { RiskModel } from './risk-model.js';

/** Component thresholds above which a driver is named, in RISK_DRIVERS order. */
export const CLASSIC_DRIVER_THRESHOLDS = [0.4, 0.5, 0.5, 0.5, 0.5, 0.5] as const;

export const classicModel: RiskModel = {
  name: 'classic',

  evaluate(w: WindowView, c: Float64Array): number {
    const events = w.windowEvents;
    const failures = w.windowFailures;
    const current = w.bucketEvents(0);
    const avgOther = (events - current) / Math.max(1, w.bucketCount - 1);
    const failRate = failures / events;
    const retryPressure = Math.min(1, w.windowRetrySum / events / 3);
    const timeoutMix = failures > 0 ? w.windowTimeouts / failures : 0;
    // No other traffic: nothing to call a spike against.
    const spike = avgOther > 0 ? Math.min(1, current / avgOther / 2) : 0;
    const authMix = failures > 0 ? w.windowAuthFailures / failures : 0;
    const geo = Math.min(1, w.windowGeos / 10);
    c[0] = failRate;
    c[1] = retryPressure;
    c[2] = timeoutMix;
    c[3] = spike;
    c[4] = authMix;
    c[5] = geo;
    // No segment signals: the original formula has none.
    c[6] = 0;
    c[7] = 0;
    return 0.25 * failRate + 0.2 * retryPressure + 0.15 * timeoutMix + 0.15 * spike + 0.1 * authMix + 0.15 * geo;
  },

  driverMask(c: Float64Array): number {
    let mask = 0;
    for (let i = 0; i < CLASSIC_DRIVER_THRESHOLDS.length; i++)
      if ((c[i] ?? 0) > (CLASSIC_DRIVER_THRESHOLDS[i] ?? 1)) mask |= 1 << i;
    return mask;
  },
};

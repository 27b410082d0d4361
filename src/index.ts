/**
 * The library API: PayFlux's operators, to compose pipelines of your own in TypeScript.
 * Every operator is pure over event time and works on `Batch` values; see docs/library.md.
 */
export type { PaymentEvent } from './events/payment-event.js';
export { canonicalEventId, paymentEventSchema, toPaymentEvent } from './events/payment-event.js';
export { isFailure, isTimeout, isAuthFailure } from './events/failure-kinds.js';
export { eventMembers } from './events/stored-form.js';
export { parseEventTime } from './events/event-time.js';
export type { Batch, Envelope, DeadLetter, RiskAssessment, TierContext } from './pipeline/types.js';
export { BANDS, RISK_DRIVERS, type Band, type RiskDriver } from './risk-terms.js';
export { decodeEntries, decodeEnvelope, type EncodedEntry } from './operators/decode-entries.js';
export { scoreRisk, type ScoreRiskOptions } from './operators/score-risk.js';
export { enrichTier, type EnrichTierOptions } from './operators/enrich-tier.js';
export {
  trackIncidents,
  type Incident,
  type IncidentBatch,
  type IncidentTransition,
  type TrackIncidentsOptions,
} from './operators/track-incidents.js';
export { RiskScorer, type RiskBatchReport } from './operators/risk/risk-scorer.js';
export type { RiskModel } from './operators/risk/risk-model.js';
export type { ProcessorRiskSnapshot } from './operators/risk/risk-snapshot.js';
export { riskStages, type RiskStagesOptions } from './pipeline/risk-stages.js';
export { createLineSerializer } from './sinks/export-line.js';
export { createEventValidator, type EventValidator } from './events/validate-event.js';
export { loadConfig, type Config } from './config.js';
export { start, type Running } from './main.js';
export type { Metrics } from './metrics.js';
export type { BucketHistogram, HistogramSeries } from './bucket-histogram.js';

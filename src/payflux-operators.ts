/**
 * `payflux/operators`: the operators and what a pipeline of your own needs around them, without
 * the server. Nothing here loads Fastify, ioredis, Stripe, pino or prom-client (a test holds
 * this to what Node actually loads); `payflux` itself adds `start()` and the server.
 * Every operator is pure over event time and works on `Batch` values; see docs/library.md.
 */
export type { PaymentEvent } from './events/payment-event.js';
export { canonicalEventId, paymentEventSchema, toPaymentEvent } from './events/payment-event.js';
export { isFailure, isTimeout, isAuthFailure } from './events/failure-kinds.js';
export { eventMembers } from './events/stored-form.js';
export { entryIdOf, isPacked, packEvents, packedEventId, unpackEntry } from './events/packed-entry.js';
export { parseEventTime } from './events/event-time.js';
export { createEventValidator, type EventValidator } from './events/validate-event.js';
export type { Batch, Envelope, DeadLetter, RiskAssessment, TierContext } from './pipeline/types.js';
export { envelope, type EnvelopeOptions } from './pipeline/envelope.js';
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

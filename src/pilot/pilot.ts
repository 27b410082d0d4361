/**
 * Pilot mode and the Stripe integration, assembled for the composition root:
 * - the warnings store (incidents persisted per batch, before the ack), seeded on start;
 * - the alert outbox (Slack / generic webhook) and its delivery loop;
 * - the per-processor risk history, written after each exported batch on consumer nodes;
 * - the pilot routes and dashboard, the Stripe webhook and checkout routes.
 * Everything here keeps state in Redis; on the memory buffer pilot mode is refused with a log.
 */
import type { CommitRecord } from '../buffer/buffer.js';
import { partitionTags } from '../buffer/partitions.js';
import { clusterTag, type RedisClient as Redis } from '../buffer/redis-client.js';
import type { Logger } from 'pino';
import type { onRequestHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { EventBuffer } from '../buffer/buffer.js';
import type { PaymentEvent } from '../events/payment-event.js';
import type { Metrics } from '../metrics.js';
import { routeGroup, type RouteGroup } from '../http/server.js';
import { pilotRoutes } from './routes.js';
import { stripeRoutes } from './stripe-routes.js';
import type { Incident, IncidentBatch } from '../operators/track-incidents.js';
import { createAlertSink, type AlertSink } from './alert-sink.js';
import { createOutcomeRecorder } from './outcome-recorder.js';
import { createWarningStore, warningSegments } from './warning-store.js';
import { createRiskHistory } from './risk-history.js';
import { createRiskRecorder } from './risk-recorder.js';
import { createLiveState } from './live-state.js';
import { liveRoutes } from './live-routes.js';

export interface Pilot {
  /** Incidents to seed `trackIncidents` with; undefined when warnings are off. */
  readonly incidents: { readonly cooldownSec: number; readonly seed: readonly Incident[] } | undefined;
  readonly afterExport: ((staged: IncidentBatch) => Promise<void>) | undefined;
  /**
   * On a buffer with partitions: a batch's warnings as records for the partitions' commits
   * (written with the acks, under the fence), which `afterExport` then leaves alone.
   */
  readonly records: ((transitions: IncidentBatch['transitions']) => Map<string, CommitRecord[]>) | undefined;
  readonly routes: readonly RouteGroup[];
  close(): Promise<void>;
}

export interface PilotDeps {
  readonly redis: Redis | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Writes one line to every export destination (the exporter's `annotate`). */
  readonly annotate: (line: string) => Promise<void>;
  readonly guard: onRequestHookHandler;
  /** The ingest path (dedup + append) for events mapped from Stripe webhooks. */
  readonly ingest: (events: readonly PaymentEvent[]) => Promise<unknown>;
  /** Whether this node runs the consumer (incidents come from its pipeline). */
  readonly consumer: boolean;
  /** On a buffer with partitions (and so a leader lease), alerts are delivered by its holder alone. */
  readonly buffer: Pick<EventBuffer, 'owned' | 'isLeader'>;
}

export async function createPilot(config: Config, d: PilotDeps): Promise<Pilot> {
  const pilotOn = config.pilot.enabled && d.redis !== undefined;
  if (config.pilot.enabled && d.redis === undefined)
    d.logger.error('PAYFLUX_PILOT_MODE needs Redis: pilot mode is off on the memory buffer');
  const stripe = config.stripe;
  const checkout =
    stripe.apiKey === undefined
      ? undefined
      : {
          apiKey: stripe.apiKey,
          priceCents: stripe.priceCents,
          productName: stripe.productName,
          siteUrl: stripe.siteUrl,
          perMinute: stripe.checkoutPerMinute,
          trustProxy: stripe.trustProxy,
        };

  if (!pilotOn || d.redis === undefined) {
    const routes: RouteGroup[] =
      stripe.webhookSecret !== undefined || checkout !== undefined
        ? [routeGroup(stripeRoutes, { webhookSecret: stripe.webhookSecret, ingest: d.ingest, checkout })]
        : [];
    return { incidents: undefined, afterExport: undefined, records: undefined, routes, close: async () => undefined };
  }

  const redis = d.redis;
  // Warnings, outcomes and alerts share one slot on a Cluster: their scripts index across them.
  const pilotPrefix = config.buffer.keyPrefix + clusterTag(redis, 'pf');
  const store = createWarningStore({
    redis,
    keyPrefix: pilotPrefix,
    maxWarnings: config.pilot.maxWarnings,
    retentionDays: config.pilot.retentionDays,
    segments: d.buffer.owned
      ? warningSegments(config.buffer.keyPrefix, partitionTags(config.ingest.processors))
      : undefined,
  });
  // Annotation lines go where export lines go; each is one write, so they never interleave.
  const outcomes = createOutcomeRecorder({
    store,
    registry: d.metrics.registry,
    writeLine: (line) => void d.annotate(`${JSON.stringify(line)}\n`),
  });
  const isLeader = d.buffer.owned ? () => d.buffer.isLeader() : undefined;
  const alertsOn = config.alerts.slackWebhookUrl !== undefined || config.alerts.webhookUrl !== undefined;
  const alerts: AlertSink | undefined = alertsOn
    ? createAlertSink({
        redis,
        keyPrefix: pilotPrefix,
        slackWebhookUrl: config.alerts.slackWebhookUrl,
        webhookUrl: config.alerts.webhookUrl,
        minBand: config.alerts.minBand,
        maxPerHour: config.alerts.maxPerHour,
        registry: d.metrics.registry,
        log: d.logger,
        shouldDeliver: isLeader,
      })
    : undefined;
  // Delivery is once-per-cluster work: every node runs the loop, the leader lease's holder delivers.
  if (d.consumer || isLeader !== undefined) alerts?.start();

  const warningsOn = d.consumer && config.pilot.warningsEnabled;
  const committed = warningsOn && d.buffer.owned;
  const seed = warningsOn ? await store.loadOpen() : [];
  if (seed.length > 0) d.logger.info({ open: seed.length }, 'pilot_incidents_resumed');
  const history = createRiskHistory({ redis, keyPrefix: config.buffer.keyPrefix, hours: config.pilot.historyHours });
  const recordRisk = createRiskRecorder({ history, registry: d.metrics.registry, log: d.logger });

  // Processors with an open incident, for payflux_incidents_open.
  const open = new Set(seed.map((i) => i.processor));
  d.metrics.incidentsOpen.set(open.size);

  return {
    incidents: warningsOn ? { cooldownSec: config.pilot.cooldownSec, seed } : undefined,
    records: committed ? (transitions) => store.records(transitions) : undefined,
    afterExport: d.consumer
      ? async ({ batch, transitions }) => {
          if (warningsOn && transitions.length > 0) {
            // Partitions: the records are staged for the commit (consumer-node.ts); trimming is
            // retention's, and a batch that changed a warning is a rare enough moment for it.
            if (committed) await store.trim();
            else await store.applyTransitions(transitions);
            await alerts?.enqueue(transitions);
            for (const t of transitions)
              if (t.kind === 'open') open.add(t.incident.processor);
              else if (t.kind === 'resolve') open.delete(t.incident.processor);
            d.metrics.incidentsOpen.set(open.size);
          }
          // Last and never throwing: a retry of the steps above must not count the batch twice.
          await recordRisk(batch);
        }
      : undefined,
    routes: [
      routeGroup(pilotRoutes, { enabled: true, store, outcomes, authenticate: d.guard }),
      routeGroup(liveRoutes, {
        state: createLiveState({
          history,
          store,
          processors: config.ingest.processors,
          tier: config.risk.tier,
          thresholds: config.risk.thresholds,
          historyHours: config.pilot.historyHours,
        }),
        processors: config.ingest.processors,
        authenticate: d.guard,
        registry: d.metrics.registry,
        log: d.logger,
      }),
      routeGroup(stripeRoutes, {
        webhookSecret: stripe.webhookSecret,
        ingest: d.ingest,
        pilot: { store, outcomes },
        checkout,
      }),
    ],
    async close() {
      await alerts?.close();
    },
  };
}

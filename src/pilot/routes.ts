/**
 * Pilot mode routes: the warnings API behind bearer auth, outcome annotations, and the
 * dashboard page, which loads without a key and then asks for one. Nothing is registered when
 * pilot mode is off, so every path answers the root's 404.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifySchemaCompiler,
  onRequestAsyncHookHandler,
  onRequestHookHandler,
} from 'fastify';
import { PayFluxError } from '../errors.js';
import { validationError } from '../http/validation-error.js';
import { isCalendarTime } from '../events/event-time.js';
import { RFC3339_PATTERN } from '../events/payment-event.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../operators/track-incidents.js';
import { OUTCOME_SOURCES, OUTCOME_TYPES, type OutcomeSource, type OutcomeType } from './warning.js';
import type { WarningStore } from './warning-store.js';
import type { OutcomeRecorder } from './outcome-recorder.js';

export interface PilotRoutesOptions {
  /** `config.pilot.enabled`: when false the plugin registers nothing. */
  readonly enabled: boolean;
  readonly store: WarningStore;
  readonly outcomes: OutcomeRecorder;
  /**
   * Bearer-key check for the API routes (not the dashboard page itself), run as their `onRequest`
   * hook so that an unauthenticated caller cannot make us read a body: the ingest guard fits.
   */
  readonly authenticate: onRequestHookHandler | onRequestAsyncHookHandler;
  /** Wall clock, epoch ms: outcomes may not be observed in the future. */
  readonly now?: () => number;
  /** Directory holding the dashboard's files (DASHBOARD_ASSETS); defaults to the package's `public/`. */
  readonly publicDir?: string;
}

/** Clock skew tolerated on `observed_at`, as for events. */
const FUTURE_SKEW_MS = 300_000;
const DEFAULT_LIMIT = 50;

interface ListQuery {
  processor?: string;
  status?: IncidentStatus;
  limit?: number;
  cursor?: string;
}
interface OutcomeBody {
  outcome_type: OutcomeType;
  observed_at: string;
  source?: OutcomeSource;
  notes?: string;
}

const listSchema = {
  querystring: {
    type: 'object',
    properties: {
      processor: { type: 'string', minLength: 1, maxLength: 100 },
      status: { type: 'string', enum: [...INCIDENT_STATUSES] },
      limit: { type: 'integer', minimum: 1, maximum: 500 },
      cursor: { type: 'string', minLength: 1, maxLength: 512 },
    },
  },
} as const;

const idSchema = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 300 } } } as const;

const outcomeSchema = {
  params: idSchema,
  body: {
    type: 'object',
    required: ['outcome_type', 'observed_at'],
    properties: {
      outcome_type: { type: 'string', enum: [...OUTCOME_TYPES] },
      observed_at: { type: 'string', maxLength: 40, pattern: RFC3339_PATTERN },
      source: { type: 'string', enum: [...OUTCOME_SOURCES] },
      notes: { type: 'string', maxLength: 2000 },
    },
  },
} as const;

const RFC3339 = new RegExp(RFC3339_PATTERN);

/** Epoch ms of a valid RFC 3339 timestamp (the pattern plus a date and time that exist), else undefined. */
export function parseRfc3339(s: string): number | undefined {
  if (!RFC3339.test(s) || !isCalendarTime(s)) return undefined;
  const ms = Date.parse(s.replace(/[t ]/, 'T').replace(/z$/, 'Z'));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The outcome route's validator: Fastify's default Ajv coerces types (`"notes": 123` would be
 * stored as "123", `["review"]` taken for "review"); an annotation is a record people rely on,
 * so a wrong type is a 400 naming the field.
 */
const strictAjv = new Ajv({ coerceTypes: false, allErrors: false });
const strictValidator: FastifySchemaCompiler<unknown> = ({ schema }) => strictAjv.compile(schema as object);

/** The dashboard's files, served under /pilot/ (the page's ES modules import each other by name). */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard-api.js': 'text/javascript; charset=utf-8',
  'dashboard-chart.js': 'text/javascript; charset=utf-8',
  'dashboard-dom.js': 'text/javascript; charset=utf-8',
  'dashboard-incidents.js': 'text/javascript; charset=utf-8',
  'dashboard-tiles.js': 'text/javascript; charset=utf-8',
};

/** The page loads its own script and style only and talks to its own origin only. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function sendAsset(reply: FastifyReply, type: string, body: string): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .type(type)
    .send(body);
}

export const pilotRoutes: FastifyPluginAsync<PilotRoutesOptions> = async (app, opts) => {
  if (!opts.enabled) return;
  const { store, outcomes } = opts;
  const now = opts.now ?? Date.now;
  // Read once at start: a missing asset is a deployment error worth failing fast on.
  const dir = opts.publicDir ?? fileURLToPath(new URL('../../public/', import.meta.url));
  const html = readFileSync(join(dir, 'dashboard.html'), 'utf8');
  app.get('/pilot/dashboard', (_req, reply) => sendAsset(reply, 'text/html; charset=utf-8', html));
  // The page's own files are not API: left out of the OpenAPI document.
  for (const [name, type] of Object.entries(DASHBOARD_ASSETS)) {
    const body = readFileSync(join(dir, name), 'utf8');
    app.get(`/pilot/${name}`, { schema: { hide: true } }, (_req, reply) => sendAsset(reply, type, body));
  }

  await app.register(async (api) => {
    api.addHook('onRequest', opts.authenticate as onRequestAsyncHookHandler);

    // attachValidation: validation errors surface in the handler, after auth, with our field name.
    api.get<{ Querystring: ListQuery }>(
      '/pilot/warnings',
      { schema: listSchema, attachValidation: true },
      async (req) => {
        if (req.validationError) throw validationError(req.validationError, 'query');
        const q = req.query;
        const page = await store.list({
          processor: q.processor,
          status: q.status,
          limit: q.limit ?? DEFAULT_LIMIT,
          cursor: q.cursor,
        });
        return { warnings: page.warnings, next_cursor: page.nextCursor };
      },
    );

    api.get<{ Params: { id: string } }>(
      '/pilot/warnings/:id',
      { schema: { params: idSchema }, attachValidation: true },
      async (req) => {
        const w = req.validationError ? undefined : await store.get(req.params.id);
        if (w === undefined) throw new PayFluxError('PF_ERR_NOT_FOUND', 'no warning with this id');
        return w;
      },
    );

    api.post<{ Params: { id: string }; Body: OutcomeBody }>(
      '/pilot/warnings/:id/outcome',
      { schema: outcomeSchema, attachValidation: true, validatorCompiler: strictValidator },
      async (req) => {
        if (req.validationError) {
          if (req.validationError.validationContext === 'params')
            throw new PayFluxError('PF_ERR_NOT_FOUND', 'no warning with this id');
          throw validationError(req.validationError, 'body');
        }
        const b = req.body;
        const observedMs = parseRfc3339(b.observed_at);
        if (observedMs === undefined)
          throw new PayFluxError('PF_ERR_VALIDATION', 'observed_at must be an RFC 3339 date-time with a zone', {
            field: 'observed_at',
          });
        if (observedMs > now() + FUTURE_SKEW_MS)
          throw new PayFluxError('PF_ERR_VALIDATION', 'observed_at must not be in the future', {
            field: 'observed_at',
          });
        const r = await outcomes.record(req.params.id, {
          outcome_type: b.outcome_type,
          observed_at: b.observed_at,
          source: b.source ?? 'manual',
          notes: b.notes ?? null,
        });
        if (r.status === 'unknown') throw new PayFluxError('PF_ERR_NOT_FOUND', 'no warning with this id');
        return { warning: r.warning, stored: r.status === 'stored', lead_time_seconds: r.leadTimeSeconds };
      },
    );
  });
};

/**
 * A small app the way the composition root builds it: Fastify with request ids, the error
 * contract, then the Risk API plugin — with a log sink the tests can read. Exercised through
 * `app.inject()`, on the suite's redis-server.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Config } from '../../../src/config.js';
import { installErrorHandling, requestIdFor } from '../../../src/http/error-handler.js';
import type { RiskApiLimitsInput } from '../../../src/risk-api/limits.js';
import { riskApiRoutes } from '../../../src/risk-api/routes.js';
import type { Resolver } from '../../../src/risk-api/ssrf-guard.js';
import type { RedisSuite } from '../../support/use-redis.js';

export const FREE_KEY = 'pf_test_freekey123';
export const PRO_KEY = 'pf_live_prokey4567';

export interface RiskApp {
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly logs: Record<string, unknown>[];
  readonly rawLogs: string[];
  events(name: string): Record<string, unknown>[];
  /** Idempotent: a test may close the app early, the suite closes it again. */
  close(): Promise<void>;
}

export interface RiskAppOptions {
  /** By default the suite's current prefix. */
  readonly keyPrefix?: string;
  readonly config?: Partial<Config['riskApi']>;
  readonly resolver?: Resolver;
  readonly now?: () => number;
  readonly limits?: RiskApiLimitsInput;
}

/** A resolver that knows only `table` and records every call; unknown names fail like NXDOMAIN. */
export function tableResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn: Resolver = async (host) => {
    calls.push(host);
    const addrs = table[host];
    if (addrs === undefined) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

/** The Risk API app on its own connection to the suite's server; closed after the test (or file). */
export async function buildRiskApp(s: RedisSuite, o: RiskAppOptions = {}): Promise<RiskApp> {
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const redis = new Redis(s.server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const registry = new Registry();
  const app = Fastify({ genReqId: requestIdFor });
  installErrorHandling(app);
  await app.register(riskApiRoutes, {
    config: { enabled: true, keys: [FREE_KEY, PRO_KEY], trustProxy: false, allowHosts: ['127.0.0.1'], ...o.config },
    redis,
    keyPrefix: o.keyPrefix ?? s.prefix,
    registry,
    logger,
    ...(o.resolver === undefined ? {} : { resolver: o.resolver }),
    ...(o.now === undefined ? {} : { now: o.now }),
    ...(o.limits === undefined ? {} : { limits: o.limits }),
  });
  await app.ready();
  let closed: Promise<void> | undefined;
  const risk: RiskApp = {
    app,
    registry,
    logs,
    rawLogs,
    events: (name) => logs.filter((l) => l.event === name),
    close: () =>
      (closed ??= (async () => {
        await app.close();
        redis.disconnect();
      })()),
  };
  s.defer(() => risk.close());
  return risk;
}

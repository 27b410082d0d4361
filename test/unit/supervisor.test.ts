import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { aggregateMetrics, workerRoles } from '../../src/supervisor.js';
import { joinReady } from '../../src/http/worker-link.js';

/** A worker's registry as JSON: `accepted` counted here, the shared lag read from Redis here too. */
async function worker(accepted: number, lag: number, connections: number) {
  const m = createMetrics({ defaultMetrics: false });
  m.ingestAccepted.inc(accepted);
  m.consumerLag.set(lag);
  m.readHttpConnectionsFrom(() => connections);
  return m.registry.getMetricsAsJSON();
}

describe('aggregateMetrics', () => {
  it('adds up counters and per-process gauges, and takes a figure every worker reads from Redis once', async () => {
    const text = await aggregateMetrics([
      await worker(10, 40, 3),
      await worker(5, 40, 2),
      await worker(0, 0, 0),
    ]).metrics();
    expect(text).toContain('payflux_ingest_accepted_total 15');
    expect(text).toContain('payflux_http_connections 5');
    expect(text).toContain('payflux_consumer_lag_messages 40');
  });
});

describe('workerRoles', () => {
  it('is N-1 ingest workers and one consumer for role all, N ingest workers for role ingest', () => {
    expect(workerRoles({ role: 'all', workers: 2 })).toEqual(['ingest', 'consumer']);
    expect(workerRoles({ role: 'all', workers: 4 })).toEqual(['ingest', 'ingest', 'ingest', 'consumer']);
    expect(workerRoles({ role: 'ingest', workers: 2 })).toEqual(['ingest', 'ingest']);
  });

  it('is N consumers for role consumer', () => {
    expect(workerRoles({ role: 'consumer', workers: 3 })).toEqual(['consumer', 'consumer', 'consumer']);
  });
});

describe('joinReady', () => {
  const own = { ready: true, role: 'ingest', buffer: 'redis', consumer: { enabled: false } };
  const consumer = {
    ready: true,
    role: 'consumer',
    buffer: 'redis',
    consumer: { enabled: true, running: true },
    lag: 7,
  };

  it("is the ingest worker's readiness with the consumer's part, ready when both are", () => {
    expect(joinReady(own, { kind: 'report', report: consumer })).toMatchObject({
      ready: true,
      role: 'all',
      consumer: { enabled: true, running: true },
      lag: 7,
    });
    const stuck = { ...consumer, ready: false, reason: 'the consumer is not running' };
    expect(joinReady(own, { kind: 'report', report: stuck })).toMatchObject({
      ready: false,
      reason: 'consumer process: the consumer is not running',
    });
  });

  it('is not ready while the consumer process is down, and its own when there is no consumer process', () => {
    expect(joinReady(own, { kind: 'down' })).toMatchObject({ ready: false, consumer: { running: false } });
    expect(joinReady(own, { kind: 'none' })).toBe(own);
  });

  it("is a consumer node's first consumer with every other one, ready when all are", () => {
    const first = { ...consumer, consumer: { enabled: true, name: 'c-0', running: true } };
    expect(joinReady(first, { kind: 'peers', reports: [consumer] })).toMatchObject({
      ready: true,
      role: 'consumer',
      consumer: { name: 'c-0', processes: 2, running: true },
      lag: 7,
    });
    expect(joinReady(first, { kind: 'peers', reports: [consumer, undefined] })).toMatchObject({
      ready: false,
      reason: '1 of 3 consumer processes not running (restarting)',
      consumer: { processes: 3, running: false },
    });
    const stuck = { ...consumer, ready: false, reason: 'export destination unhealthy' };
    expect(joinReady(first, { kind: 'peers', reports: [stuck] })).toMatchObject({
      ready: false,
      reason: 'consumer process: export destination unhealthy',
    });
  });
});

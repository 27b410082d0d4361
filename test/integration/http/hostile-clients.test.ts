/**
 * Slow and idle clients cannot hold the server: a request without a valid key is answered 401
 * and its connection closed without its body being read; slow headers time out; connections
 * are capped; request bodies in flight have a global byte budget (503 before reading beyond it).
 * Real HTTP on loopback, sockets written by hand.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { post, startTestApp, TEST_KEY } from '../../support/app.js';
import { makeEvent } from '../../support/events.js';
import { metric } from '../../support/probes.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

interface Exchange {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  text(): string;
  /** Resolves with the time (ms since open) at which the server closed the connection. */
  readonly closed: Promise<number>;
}

function open(url: string, first: string): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(first);
      resolve({ socket, text: () => received, closed });
    });
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - t0)));
    socket.once('error', reject);
  });
}

const slowPost = (path: string, length: number, auth = ''): string =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${auth}\r\n{`;

describe('hostile clients', { timeout: 30_000 }, () => {
  it('answers a request without a key 401 and closes the connection without reading its body', async () => {
    const app = await startTestApp(suite);
    const ex = await open(app.url, slowPost('/v1/events/payment_exhaust', 1_000_000));
    // One more byte a second, as a dribbling client would: the server must not wait for them.
    const dribble = setInterval(() => ex.socket.writable && ex.socket.write(' '), 1000);
    const closedAfter = await ex.closed;
    clearInterval(dribble);
    expect(ex.text()).toMatch(/^HTTP\/1\.1 401 /);
    expect(ex.text().toLowerCase()).toContain('connection: close');
    expect(ex.text()).toContain('PF_ERR_UNAUTHORIZED');
    expect(closedAfter).toBeLessThan(2000);
    // A legitimate request on a new connection is answered as usual.
    expect((await post(`${app.url}/v1/events/payment_exhaust`, makeEvent('after-401'))).status).toBe(202);
  });

  it('closes a connection whose headers do not arrive within PAYFLUX_HTTP_HEADERS_TIMEOUT_MS', async () => {
    const app = await startTestApp(suite, { PAYFLUX_HTTP_HEADERS_TIMEOUT_MS: '1000' });
    const ex = await open(app.url, 'GET /health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => ex.socket.writable && ex.socket.write('X-A: b\r\n'), 300);
    const closedAfter = await ex.closed;
    clearInterval(drip);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(5000);
    expect(ex.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('at PAYFLUX_HTTP_MAX_CONNECTIONS, a new connection takes the place of the oldest one still sending its headers', async () => {
    const app = await startTestApp(suite, { PAYFLUX_HTTP_MAX_CONNECTIONS: '4' });
    const slow: Exchange[] = [];
    for (let i = 0; i < 4; i++) slow.push(await open(app.url, 'GET /health HTTP/1.1\r\nHost: x\r\n'));
    const legit = await open(app.url, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await legit.closed;
    expect(legit.text()).toMatch(/^HTTP\/1\.1 200 /);
    // The oldest slow client made room for it; the others still hold theirs.
    expect(await slow[0]?.closed).toBeLessThan(5000);
    expect(slow.slice(1).every((s) => !s.socket.destroyed)).toBe(true);
    expect(await metric(app.url, 'payflux_http_connections_refused_total')).toBeGreaterThanOrEqual(1);
    for (const s of slow) s.socket.destroy();
  });

  it('at PAYFLUX_HTTP_MAX_CONNECTIONS with a request in progress on every connection, closes the new one and serves again once they end', async () => {
    const app = await startTestApp(suite, { PAYFLUX_HTTP_MAX_CONNECTIONS: '4' });
    const auth = `Authorization: Bearer ${TEST_KEY}\r\n`;
    const busy: Exchange[] = [];
    for (let i = 0; i < 4; i++) busy.push(await open(app.url, slowPost('/v1/events/payment_exhaust', 500, auth)));
    suite.defer(() => busy.forEach((b) => b.socket.destroy()));
    // All four requests under way (their bodies reserved), not merely connected: read in-process,
    // since a metrics request would need a connection of its own.
    const inFlight = async (): Promise<number> =>
      (await app.running.metrics.httpBodyBytesInFlight.get()).values[0]?.value ?? 0;
    await poll('four requests in progress', inFlight, (n) => n === 2000);
    const extra = await open(app.url, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await extra.closed).toBeLessThan(2000);
    expect(extra.text()).toBe('');
    for (const b of busy) b.socket.destroy();
    await poll(
      'a connection is accepted again',
      () =>
        fetch(`${app.url}/health`).then(
          (r) => r.status,
          () => 0,
        ),
      (st) => st === 200,
    );
    expect(await metric(app.url, 'payflux_http_connections_refused_total')).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 PF_ERR_BODY_BUDGET with Retry-After, body unread, once the bodies in flight fill PAYFLUX_HTTP_BODY_BUDGET_BYTES', async () => {
    const mib = 1_048_576;
    const app = await startTestApp(suite, {
      PAYFLUX_MAX_BATCH_BODY_BYTES: String(mib),
      PAYFLUX_HTTP_BODY_BUDGET_BYTES: String(mib + 1000),
    });
    const auth = `Authorization: Bearer ${TEST_KEY}\r\n`;
    // Holds 900,000 bytes of the budget while its body dribbles in.
    const holder = await open(app.url, slowPost('/v1/events/batch', 900_000, auth));
    await poll(
      'the first body reserved',
      () => metric(app.url, 'payflux_http_body_bytes_in_flight'),
      (n) => n === 900_000,
    );
    const refused = await open(app.url, slowPost('/v1/events/batch', 900_000, auth));
    expect(await refused.closed).toBeLessThan(2000);
    expect(refused.text()).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused.text().toLowerCase()).toContain('retry-after: 1');
    expect(refused.text()).toContain('PF_ERR_BODY_BUDGET');
    // A chunked body is counted as it streams: refused once its chunks pass what is left.
    const chunked = await open(
      app.url,
      `POST /v1/events/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${auth}\r\n`,
    );
    const piece = 'x'.repeat(60_000);
    for (let i = 0; i < 3 && chunked.socket.writable; i++)
      chunked.socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    expect(await chunked.closed).toBeLessThan(5000);
    expect(chunked.text()).toMatch(/^HTTP\/1\.1 503 /);
    // Once the first request ends, its bytes are free again and a batch goes through.
    holder.socket.destroy();
    await poll(
      'the budget released',
      () => metric(app.url, 'payflux_http_body_bytes_in_flight'),
      (n) => n === 0,
    );
    const ok = await post(`${app.url}/v1/events/batch`, [makeEvent('budget-1')]);
    expect(ok.status).toBe(200);
    expect(await metric(app.url, 'payflux_http_body_budget_refused_total')).toBe(2);
  });
});

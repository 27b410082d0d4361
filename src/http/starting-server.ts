/**
 * The HTTP port while PayFlux starts: opened at once, before Redis answers, so that a liveness
 * probe sees a process that is up and says why it is not ready, rather than a closed port it
 * reads as a crash loop.
 *
 * - `GET /health` → 503 `{"status":"unhealthy","reason":…}`, `GET /ready` → 503 with the reason;
 * - `GET /metrics` → the registry (the process is there to scrape);
 * - anything else → 503 `PF_ERR_BUFFER_UNAVAILABLE` with `Retry-After`, as ingest answers
 *   whenever the buffer is down.
 *
 * Every answer closes its connection, so no client keeps a socket to this server. The port is
 * never closed and opened again: Fastify builds the full server on this same listening server
 * (`serverFactory`), and `handOver()` sends every request from then on to it. A connection
 * opened at any moment is answered by one or the other; closing the port and listening again
 * would refuse or reset the connections in between, and leave one the cluster's primary had
 * handed to a worker that just closed unanswered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { errorBody } from '../errors.js';
import { requestIdFor } from './error-handler.js';
import type { Config } from '../config.js';
import { connectionCap } from './connection-limits.js';

export interface StartingServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Fields `/ready` shows while starting (role, tier…). */
  readonly detail: Readonly<Record<string, unknown>>;
  /** The same header and request timeouts and connection cap as the full server's. */
  readonly http?: Config['http'];
}

export interface StartingServer {
  /** The port it listens on (the one asked for, or the one given for port 0). */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** What `/health` and the 503s say is missing, e.g. `Redis at … is not answering yet (…)`. */
  setReason(reason: string): void;
  /**
   * Fastify's `serverFactory`: this listening server, with the request handler Fastify gives
   * and its timeouts. Requests still get the starting answers until `handOver()`.
   */
  serverFactory(handler: RequestHandler, options: FactoryOptions): Server;
  /** From now on every request goes to the handler `serverFactory` was given. */
  handOver(): void;
  /** Stop listening (a start that failed: answers in flight still finish). */
  close(): void;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What of Fastify's options its own HTTP/1 server would take (the rest is set at creation). */
export interface FactoryOptions {
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
  readonly maxRequestsPerSocket?: number;
}

const RETRY_AFTER_SEC = 1;

export async function openStartingServer(o: StartingServerOptions): Promise<StartingServer> {
  let reason = 'starting';
  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, type?: string): void => {
    res.writeHead(status, {
      'content-type': type ?? 'application/json; charset=utf-8',
      'x-request-id': requestIdFor(req),
      connection: 'close',
      ...(status === 503 && { 'retry-after': String(RETRY_AFTER_SEC) }),
    });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const timeouts =
    o.http === undefined
      ? {}
      : {
          headersTimeout: o.http.headersTimeoutMs,
          requestTimeout: o.http.requestTimeoutMs,
          connectionsCheckingInterval: 1000,
        };
  let full: RequestHandler | undefined;
  const starting: RequestHandler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health')
      return send(req, res, 503, { status: 'unhealthy', reason: `buffer unavailable: ${reason}` });
    if (req.method === 'GET' && path === '/ready')
      return send(req, res, 503, { ready: false, starting: true, reason, ...o.detail });
    if (req.method === 'GET' && path === '/metrics') {
      o.registry.metrics().then(
        (text) => send(req, res, 200, text, o.registry.contentType),
        () => send(req, res, 500, errorBody('PF_ERR_INTERNAL')),
      );
      return;
    }
    // The body is not read: the connection closes after the answer.
    send(req, res, 503, errorBody('PF_ERR_BUFFER_UNAVAILABLE', `PayFlux is starting (${reason}); retry later`));
  };
  let serve = starting;
  const server = createServer(timeouts, (req, res) => serve(req, res));
  if (o.http !== undefined) server.maxConnections = connectionCap(o.http.maxConnections);
  // Never what keeps the process alive: a start that fails exits without closing it.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    port,
    url: `http://${host}:${port}`,
    setReason(r) {
      reason = r;
    },
    serverFactory(handler, options) {
      full = handler;
      // As Fastify sets them on a server of its own (its lib/server.js); the header timeout
      // and the check interval were given at creation.
      if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
      if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
      if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
      if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0)
        server.maxRequestsPerSocket = options.maxRequestsPerSocket;
      return server;
    },
    handOver() {
      if (full === undefined) throw new Error('handOver() before a server was built on the starting port');
      serve = full;
      // The full server's own cap (connection-limits.ts) closes idle connections to make room
      // instead of refusing the new one.
      server.maxConnections = Infinity;
    },
    close() {
      server.close();
      server.closeIdleConnections();
    },
  };
}

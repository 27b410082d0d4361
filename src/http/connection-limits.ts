/**
 * How long and how many: the HTTP server's timeouts, keep-alive limits and connection cap,
 * chosen so that slow or idle clients cannot hold the server's sockets.
 *
 * - headers must arrive within `headersTimeoutMs` (10 s) and the whole request within
 *   `requestTimeoutMs` (30 s: an 8 MiB batch at 2.5 Mbit/s), checked every second (Node checks
 *   every 30 s by default, which would let a slow client keep its socket up to 40 s longer);
 * - a keep-alive connection idle for `keepAliveTimeoutMs` (5 s) is closed (no socket inactivity
 *   timeout beyond these: it re-arms a timer on every read and write, which Node dropped from
 *   its defaults for that cost, and the bounds above already end every slow or idle client);
 * - one connection serves at most `MAX_REQUESTS_PER_SOCKET` requests, then closes, so a
 *   load balancer's connections spread again over new nodes;
 * - at most `maxConnections` sockets are open at once, so the process never runs out of
 *   descriptors (Redis connections and the export file need theirs). A connection beyond the
 *   cap closes the oldest one that has no request in progress (a client still sending its
 *   headers, an idle keep-alive connection) and takes its place; only when every connection
 *   has a request in progress is the new one closed. So thousands of slow clients cannot lock
 *   legitimate ones out: they take turns in the slots nobody uses, and a request that arrives
 *   whole is served. Either way it is counted in `payflux_http_connections_refused_total`.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';

export const MAX_REQUESTS_PER_SOCKET = 10_000;
const CHECK_INTERVAL_MS = 1000;
/** Descriptors kept for everything that is not a client connection (Redis, files, DNS). */
const DESCRIPTOR_RESERVE = 256;
const FALLBACK_MAX_CONNECTIONS = 4096;

/** The part of Fastify's options that sets the timeouts above. */
export function serverTimeouts(c: Config['http']): {
  readonly connectionTimeout: number;
  readonly keepAliveTimeout: number;
  readonly requestTimeout: number;
  readonly maxRequestsPerSocket: number;
  readonly http: { readonly headersTimeout: number; readonly connectionsCheckingInterval: number };
} {
  return {
    connectionTimeout: 0,
    keepAliveTimeout: c.keepAliveTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    maxRequestsPerSocket: MAX_REQUESTS_PER_SOCKET,
    http: { headersTimeout: c.headersTimeoutMs, connectionsCheckingInterval: CHECK_INTERVAL_MS },
  };
}

/** The connection cap: the configured one, or the soft descriptor limit less a reserve (Linux), else 4096. */
export function connectionCap(configured: number, limitsText?: string): number {
  if (configured > 0) return configured;
  const soft = softDescriptorLimit(limitsText);
  return soft === undefined ? FALLBACK_MAX_CONNECTIONS : Math.max(64, soft - DESCRIPTOR_RESERVE);
}

function softDescriptorLimit(text?: string): number | undefined {
  let limits = text;
  if (limits === undefined) {
    try {
      limits = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (m === null || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/**
 * The oldest connection with no request in progress: Node's HTTP server keeps the response
 * being written on `socket._httpMessage` from the moment a request's headers are parsed until
 * it is finished. Looked up only at the cap, so the hot path pays nothing per request.
 */
function oldestIdle(open: ReadonlySet<Socket>): Socket | undefined {
  for (const s of open) if ((s as Socket & { _httpMessage?: unknown })._httpMessage == null) return s;
  return undefined;
}

/** Cap `server`'s connections at `max` (see above) and count what is open and what is closed for the cap. */
export function limitConnections(
  server: Server,
  max: number,
  metrics: Pick<Metrics, 'httpConnectionsRefused' | 'readHttpConnectionsFrom'>,
): void {
  /** Open connections, oldest first (a Set keeps insertion order). */
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      metrics.httpConnectionsRefused.inc();
      const idle = oldestIdle(open);
      if (idle === undefined) {
        socket.destroy();
        return;
      }
      open.delete(idle);
      idle.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  metrics.readHttpConnectionsFrom(() => open.size);
}

/**
 * The error contract for every route: a JSON body `{"error":{"code","message","field?"}}`, the
 * status from `errors.ts`, `Retry-After` where it applies, and `x-request-id` on every response.
 * Nothing unexpected ever leaves as a bare 500 with a stack; request bodies never reach the log.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PayFluxError, type ErrorCode } from '../errors.js';
import { isRedisUnavailable } from '../buffer/redis-errors.js';
import { validationError } from './validation-error.js';
import { createFailureLog, type FailureLog } from './failure-log.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where requests answered 5xx are counted and summarised (failure-log.ts); set by installErrorHandling. */
    failureLog?: FailureLog;
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honour a sane incoming `x-request-id`, otherwise mint one. Passed to Fastify as `genReqId`. */
export function requestIdFor(req: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
}

/** Fastify's own error codes that are the client's fault, mapped onto ours. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PF_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PF_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PF_ERR_BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PF_ERR_BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'PF_ERR_BAD_JSON',
  FST_ERR_VALIDATION: 'PF_ERR_VALIDATION',
};

/** Render any error as our contract; anything not ours and not a known client error is a 500. */
export function toPayFluxError(err: FastifyError | Error): PayFluxError {
  if (err instanceof PayFluxError) return err;
  if (isRedisUnavailable(err)) {
    return new PayFluxError('PF_ERR_STORE_UNAVAILABLE', 'a backing store (Redis) is unavailable; retry later', {
      retryAfterSec: 1,
    });
  }
  const fe = err as FastifyError;
  const mapped = fe.code !== undefined ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped === 'PF_ERR_VALIDATION') return validationError(fe);
  if (mapped !== undefined) return new PayFluxError(mapped, clientMessage(mapped));
  if (err instanceof SyntaxError || fe.statusCode === 400)
    return new PayFluxError('PF_ERR_BAD_JSON', 'request body is not valid JSON');
  if (fe.statusCode === 413) return new PayFluxError('PF_ERR_BODY_TOO_LARGE');
  if (fe.statusCode === 415) return new PayFluxError('PF_ERR_UNSUPPORTED_MEDIA_TYPE');
  if (fe.statusCode === 404) return new PayFluxError('PF_ERR_NOT_FOUND');
  if (fe.statusCode === 405) return new PayFluxError('PF_ERR_METHOD_NOT_ALLOWED');
  return new PayFluxError('PF_ERR_INTERNAL');
}

function clientMessage(code: ErrorCode): string {
  switch (code) {
    case 'PF_ERR_BODY_TOO_LARGE':
      return 'request body is larger than the configured limit';
    case 'PF_ERR_UNSUPPORTED_MEDIA_TYPE':
      return 'content-type must be application/json (or application/x-ndjson for the batch endpoint)';
    default:
      return 'request body is not valid JSON';
  }
}

/**
 * `toPayFluxError`, recording what is a 5xx (never the body): for error handlers. Our own 503s
 * are counted into the server's summary line; anything else is a bug, logged with its stack
 * (a bounded number of times an interval, failure-log.ts).
 */
export function logged(err: FastifyError, req: FastifyRequest): PayFluxError {
  const pf = toPayFluxError(err);
  if (pf.status < 500) return pf;
  const failures = req.server.failureLog;
  if (failures === undefined)
    req.server.log.error(
      { reqId: req.id, err: { message: err.message, code: err.code, stack: err.stack } },
      'request_failed',
    );
  else if (pf.code === 'PF_ERR_INTERNAL') failures.unexpected(err, req.id);
  else failures.expected(pf.code);
  return pf;
}

/**
 * Fastify's `frameworkErrors`: a URL it cannot decode (`%zz`), a route parameter over the
 * length limit. No hook has run, so the request id is set here.
 */
export function frameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', req.id);
  if ((err.statusCode ?? 400) >= 500) {
    void sendError(reply, logged(err, req));
    return;
  }
  // Fixed messages: Fastify's own repeat the path back.
  const message =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is longer than allowed'
      : 'the request URL cannot be decoded';
  void sendError(reply, new PayFluxError('PF_ERR_BAD_REQUEST', message));
}

/**
 * Node's `clientError` (Fastify's `clientErrorHandler`): bytes that are not an HTTP request,
 * headers over the size limit, a request that did not arrive in time. There is no request to
 * answer through Fastify; the answer is written to the socket, which is then closed.
 */
export function clientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'PF_ERR_HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'PF_ERR_REQUEST_TIMEOUT'
        : 'PF_ERR_BAD_REQUEST';
  const e = new PayFluxError(code);
  const body = JSON.stringify(e.toBody());
  // As Node's own handler does: never write into a response that has begun on this socket
  // (a pipelined request's), which would corrupt it for the client.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function sendError(reply: FastifyReply, err: PayFluxError): FastifyReply {
  if (err.retryAfterSec !== undefined) void reply.header('retry-after', String(err.retryAfterSec));
  closeIfBodyUnread(reply);
  return reply.code(err.status).type('application/json; charset=utf-8').send(err.toBody());
}

/**
 * An error answered before the request's body was read (401, 429, 413 by `Content-Length`, the
 * body budget's 503, ingest disabled): `Connection: close`, and the socket closes once the
 * answer is written, so the body is never read into the request. Node would otherwise read and
 * discard it to keep the connection, for as long as a client takes to dribble it.
 *
 * The close lingers: Node ends such a response with `destroySoon()` (FIN, then close at once),
 * and closing a socket while the body's bytes still arrive sends a reset, on which most clients
 * drop the answer unread (measured: 112 of 115 budget refusals arrived as a reset). Instead,
 * what still arrives is discarded for at most LINGER_MS after the FIN, so the client reads its
 * 401 or 503 and `Retry-After`; then the socket is destroyed whatever the client does.
 */
function closeIfBodyUnread(reply: FastifyReply): void {
  const req = reply.request.raw;
  if (req.complete || !hasBody(req.headers)) return;
  void reply.header('connection', 'close');
  const socket = req.socket;
  socket.destroySoon = () => lingerThenDestroy(socket);
}

const LINGER_MS = 1000;

function lingerThenDestroy(socket: Duplex): void {
  if (socket.writable) socket.end();
  socket.on('data', discard);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function discard(): void {
  // The rest of a body that was refused: dropped as it arrives.
}

function hasBody(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const length = headers['content-length'];
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined;
}

/**
 * Install the error and not-found handlers and the `x-request-id` echo on `app`, and refuse
 * requests that arrive once `close()` has begun (a keep-alive or pipelined request during a
 * deploy) with an error of our own: JSON, `PF_ERR_SHUTTING_DOWN`, `Retry-After`, the request id,
 * and `Connection: close` (set by Fastify) so the client reconnects, to another node if there is
 * one. The server must be built with `return503OnClosing: false`, or Fastify answers them itself
 * with a body of its own and none of those headers.
 */
export function installErrorHandling(app: FastifyInstance): void {
  const failures = createFailureLog(app.log);
  app.decorate('failureLog', failures);
  app.addHook('onClose', (_instance, done) => {
    failures.close();
    done();
  });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done) => {
    void reply.header('x-request-id', req.id);
    if (closing) done(new PayFluxError('PF_ERR_SHUTTING_DOWN', undefined, { retryAfterSec: 1 }));
    else if (req.is404) done(wrongMethod(req, reply));
    else done();
  });
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(reply, logged(err, req)));

  // A path we serve asked with another method is a 405 naming the methods it takes (Fastify
  // answers both with its 404), decided above before any body is read. Every route registered
  // after this hook, in any plugin, is seen.
  const routes: { readonly path: RegExp; readonly method: string }[] = [];
  app.addHook('onRoute', (r) => {
    const path = pathPattern(r.url ?? r.path);
    for (const method of [r.method].flat()) routes.push({ path, method });
  });
  const wrongMethod = (req: FastifyRequest, reply: FastifyReply): PayFluxError | undefined => {
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    const allowed = [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))];
    // None, or the very method asked (our patterns are looser than the router): the plain 404.
    if (allowed.length === 0 || allowed.includes(req.method)) return undefined;
    void reply.header('allow', allowed.join(', '));
    return new PayFluxError(
      'PF_ERR_METHOD_NOT_ALLOWED',
      `${req.method} is not allowed here; use ${allowed.join(' or ')}`,
    );
  };
  app.setNotFoundHandler((_req, reply) => sendError(reply, new PayFluxError('PF_ERR_NOT_FOUND')));
}

/** A route's URL (`/pilot/warnings/:id/outcome`, `/static/*`) as a pattern over request paths. */
function pathPattern(url: string): RegExp {
  const segments = url.split('/').map((seg) => {
    // A parameter, also with a regex or beside literal text (`:id(^\\d+$)`, `:a-:b`): any segment.
    if (seg.includes(':')) return '[^/]+';
    if (seg === '*') return '.*';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

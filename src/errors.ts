/**
 * Every error PayFlux answers with: a stable `PF_ERR_*` code and its HTTP status.
 * The README's error table is pinned against this list by a test; add a row there too.
 */
export const ERRORS = {
  PF_ERR_BAD_REQUEST: { status: 400, message: 'the request is not valid HTTP or its URL is malformed' },
  PF_ERR_BAD_JSON: { status: 400, message: 'request body is not valid JSON' },
  PF_ERR_VALIDATION: { status: 400, message: 'a field failed validation' },
  PF_ERR_BATCH_TOO_LARGE: { status: 400, message: 'too many events in one batch' },
  PF_ERR_UNAUTHORIZED: { status: 401, message: 'missing or invalid API key' },
  PF_ERR_FORBIDDEN: { status: 403, message: 'the target is not allowed' },
  PF_ERR_NOT_FOUND: { status: 404, message: 'no such resource' },
  PF_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  PF_ERR_REQUEST_TIMEOUT: { status: 408, message: 'the request did not arrive in time' },
  PF_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body is too large' },
  PF_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  PF_ERR_UNPROCESSABLE: { status: 422, message: 'the request cannot be processed' },
  PF_ERR_RATE_LIMITED: { status: 429, message: 'rate limit exceeded' },
  PF_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'request headers are too large' },
  PF_ERR_INTERNAL: { status: 500, message: 'internal error' },
  PF_ERR_UPSTREAM: { status: 502, message: 'the upstream target could not be reached' },
  PF_ERR_BUFFER_UNAVAILABLE: { status: 503, message: 'the event buffer is unavailable' },
  PF_ERR_INGEST_DISABLED: { status: 503, message: 'ingest is disabled on this node' },
  PF_ERR_OVERLOADED: { status: 503, message: 'too many requests in flight' },
  PF_ERR_BODY_BUDGET: { status: 503, message: 'too many request-body bytes in flight on this server' },
  PF_ERR_STORE_UNAVAILABLE: { status: 503, message: 'a backing store (Redis) is unavailable' },
  PF_ERR_SHUTTING_DOWN: {
    status: 503,
    message: 'the server is shutting down; retry (on another node if there is one)',
  },
} as const;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as readonly ErrorCode[];

/** The wire shape of every error body. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly field?: string };
}

export interface PayFluxErrorOptions {
  /** The field at fault, for validation errors. */
  readonly field?: string;
  /** Seconds the client should wait, for 429 and 503. */
  readonly retryAfterSec?: number;
  readonly cause?: unknown;
}

/** An error that knows its code, HTTP status and (for validation) the field at fault. */
export class PayFluxError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfterSec: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options: PayFluxErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PayFluxError';
    this.status = ERRORS[code].status;
    this.field = options.field;
    this.retryAfterSec = options.retryAfterSec;
  }

  toBody(): ErrorBody {
    return this.field === undefined
      ? { error: { code: this.code, message: this.message } }
      : { error: { code: this.code, message: this.message, field: this.field } };
  }
}

export function errorBody(code: ErrorCode, message: string = ERRORS[code].message, field?: string): ErrorBody {
  return new PayFluxError(code, message, { field }).toBody();
}

/** Configuration that cannot run: every problem, each naming its variable. The CLI exits 78. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The buffer cannot take or give events right now (Redis down or refusing writes). Answered 503. */
export class BufferUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BufferUnavailableError';
  }
}

/** Ingest already holds as many events in flight as it may. Answered 503 `PF_ERR_OVERLOADED`. */
export class OverloadedError extends BufferUnavailableError {
  constructor(pending: number) {
    super(`ingest is overloaded: ${pending} events already in flight`);
    this.name = 'OverloadedError';
  }
}

/** Why a scan target is refused before any byte is sent to it. */
export const BLOCK_REASONS = ['scheme', 'credentials', 'port', 'hostname', 'address'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

/**
 * The target may not be fetched. Rendered as 403 PF_ERR_FORBIDDEN. The message (sent to the
 * caller) names only the reason; `detail` (resolved addresses, ranges) goes to the log alone,
 * so the API is not an oracle for what internal names resolve to.
 */
export class BlockedTargetError extends Error {
  constructor(
    readonly reason: BlockReason,
    readonly detail: string,
  ) {
    super(`the target is not allowed (${reason})`);
    this.name = 'BlockedTargetError';
  }
}

/** The target could not be reached (DNS, connect, TLS, timeout, HTTP error). Rendered as 502. */
export class UnreachableTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableTargetError';
  }
}

/**
 * Failure classification every stage shares: what counts as a failure, a timeout, an auth failure.
 * Categories match by whole tokens, never substrings.
 */
import type { PaymentEvent } from './payment-event.js';

const TOKEN_SPLIT = /[^a-z0-9]+/;
const TIMEOUT_TOKENS = new Set(['timeout', 'timeouts', 'timedout']);
/** Whole tokens that name authentication: `auth_failure`, `authentication_required`, `3ds_failed`, `sca_required`. */
const AUTH_TOKENS = new Set(['auth', 'authentication', 'unauthenticated', 'authn', '3ds', '3ds2', 'threeds', 'sca']);

export function isFailure(e: Pick<PaymentEvent, 'event_type' | 'failure_category'>): boolean {
  return e.event_type === 'payment_failed' || (e.failure_category !== undefined && e.failure_category !== '');
}

function hasToken(category: string | undefined, tokens: ReadonlySet<string>): boolean {
  if (category === undefined || category === '') return false;
  for (const t of category.toLowerCase().split(TOKEN_SPLIT)) if (tokens.has(t)) return true;
  return false;
}

/** A timeout: a failure whose category has the whole token `timeout` (`gateway_timeout`, not `timeoutish`). */
export function isTimeout(category: string | undefined): boolean {
  return hasToken(category, TIMEOUT_TOKENS);
}

/** An auth failure: a failure whose category names authentication as a whole token. */
export function isAuthFailure(category: string | undefined): boolean {
  return hasToken(category, AUTH_TOKENS);
}

/**
 * API keys: who may call, compared in constant time (key-digests.ts), and remembered once
 * accepted (createApiKeys). A key is known to logs and metrics only by its id: the first 8 hex
 * chars of its digest.
 */
import { DigestSet, digestHex, digestText } from './key-digests.js';

export const AUTH_DENY_REASONS = ['missing', 'malformed', 'invalid', 'revoked'] as const;
export type AuthDenyReason = (typeof AUTH_DENY_REASONS)[number];
export type AuthResult =
  { readonly ok: true; readonly keyId: string } | { readonly ok: false; readonly reason: AuthDenyReason };

export interface ApiKeys {
  /** Check an `Authorization` header value. */
  check(header: string | undefined): AuthResult;
  /** Replace the key set (SIGHUP). Revoked keys win over configured ones. */
  reload(keys: readonly string[], revoked: readonly string[]): void;
  readonly size: number;
}

/** The 8-char key id that may appear in logs. */
export function keyIdOf(key: string): string {
  return digestHex(digestText(key), 8);
}

/** Accepted keys remembered; more spellings than this of the configured keys are checked each time. */
const ACCEPTED_MAX = 1024;

export function createApiKeys(keys: readonly string[], revoked: readonly string[]): ApiKeys {
  let allowed = new DigestSet(keys);
  let denied = new DigestSet(revoked);
  // Keys accepted under the current sets, with their answer: a known key skips the SHA-256 and
  // the digest comparisons (0.79-0.84 µs a check against 0.13-0.14, measured). Only a key the
  // constant-time check accepted enters it (a wrong key never changes it), at most ACCEPTED_MAX
  // of them; a reload empties it (docs/decisions.md, "Accepted API keys are remembered").
  let accepted = new Map<string, AuthResult>();
  return {
    check(header) {
      if (header === undefined || header === '') return { ok: false, reason: 'missing' };
      if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ')
        return { ok: false, reason: 'malformed' };
      const key = header.slice(7).trim();
      if (key === '') return { ok: false, reason: 'malformed' };
      const known = accepted.get(key);
      if (known !== undefined) return known;
      const text = digestText(key);
      if (denied.hasDigest(text)) return { ok: false, reason: 'revoked' };
      if (!allowed.hasDigest(text)) return { ok: false, reason: 'invalid' };
      const ok: AuthResult = { ok: true, keyId: digestHex(text, 8) };
      if (accepted.size < ACCEPTED_MAX) accepted.set(key, ok);
      return ok;
    },
    reload(next, nextRevoked) {
      allowed = new DigestSet(next);
      denied = new DigestSet(nextRevoked);
      accepted = new Map();
    },
    get size() {
      return allowed.size;
    },
  };
}

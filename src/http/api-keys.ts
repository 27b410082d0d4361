/**
 * API keys: who may call, compared in constant time (key-digests.ts). A key is known to logs
 * and metrics only by its id: the first 8 hex chars of its digest.
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

export function createApiKeys(keys: readonly string[], revoked: readonly string[]): ApiKeys {
  let allowed = new DigestSet(keys);
  let denied = new DigestSet(revoked);
  return {
    check(header) {
      if (header === undefined || header === '') return { ok: false, reason: 'missing' };
      if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ')
        return { ok: false, reason: 'malformed' };
      const key = header.slice(7).trim();
      if (key === '') return { ok: false, reason: 'malformed' };
      const text = digestText(key);
      if (denied.hasDigest(text)) return { ok: false, reason: 'revoked' };
      if (!allowed.hasDigest(text)) return { ok: false, reason: 'invalid' };
      return { ok: true, keyId: digestHex(text, 8) };
    },
    reload(next, nextRevoked) {
      allowed = new DigestSet(next);
      denied = new DigestSet(nextRevoked);
    },
    get size() {
      return allowed.size;
    },
  };
}

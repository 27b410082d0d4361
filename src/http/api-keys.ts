/**
 * API keys: who may call, compared in constant time.
 *
 * Each presented key is hashed to a fixed-length SHA-256 digest and compared with
 * `timingSafeEqual` against every configured digest, with no early exit, so neither a key's
 * length nor its position in the list leaks through timing. A key is known to logs and metrics
 * only by its id: the first 8 hex chars of its digest.
 */
import { hash, timingSafeEqual } from 'node:crypto';

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

// One-shot hash, as a Latin-1 ('binary') string, one char per byte. Asked for as a Buffer, the
// same digest costs ~0.7 µs more a call (0.98 against 0.27 µs, measured): a new Buffer each time.
const digestText = (key: string): string => hash('sha256', key, 'binary');
const digest = (key: string): Buffer => Buffer.from(digestText(key), 'latin1');
const HEX = '0123456789abcdef';

/** The first 8 hex chars of a Latin-1 digest. */
function idOfDigest(d: string): string {
  let id = '';
  for (let i = 0; i < 4; i++) {
    const b = d.charCodeAt(i);
    id += (HEX[b >> 4] as string) + (HEX[b & 15] as string);
  }
  return id;
}

/** The 8-char key id that may appear in logs. */
export function keyIdOf(key: string): string {
  return idOfDigest(digestText(key));
}

export function createApiKeys(keys: readonly string[], revoked: readonly string[]): ApiKeys {
  let allowed: Buffer[] = [];
  let denied: Buffer[] = [];
  // The presented key's digest, rewritten on every check (checks are synchronous).
  const presented = Buffer.alloc(32);

  const matches = (d: Buffer, set: readonly Buffer[]): boolean => {
    let hit = false;
    for (const k of set) hit = timingSafeEqual(d, k) || hit;
    return hit;
  };

  const store: ApiKeys = {
    check(header) {
      if (header === undefined || header === '') return { ok: false, reason: 'missing' };
      if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ')
        return { ok: false, reason: 'malformed' };
      const key = header.slice(7).trim();
      if (key === '') return { ok: false, reason: 'malformed' };
      const text = digestText(key);
      presented.write(text, 0, 'latin1');
      if (matches(presented, denied)) return { ok: false, reason: 'revoked' };
      if (!matches(presented, allowed)) return { ok: false, reason: 'invalid' };
      return { ok: true, keyId: idOfDigest(text) };
    },
    reload(next, nextRevoked) {
      allowed = next.map(digest);
      denied = nextRevoked.map(digest);
    },
    get size() {
      return allowed.length;
    },
  };
  store.reload(keys, revoked);
  return store;
}

/**
 * API keys: who may call, compared in constant time.
 *
 * Each presented key is hashed to a fixed-length SHA-256 digest and compared with
 * `timingSafeEqual` against every configured digest, with no early exit, so neither a key's
 * length nor its position in the list leaks through timing. A key is known to logs and metrics
 * only by its id: the first 8 hex chars of its digest.
 */
import { hash, timingSafeEqual } from 'node:crypto';

export type AuthDenyReason = 'missing' | 'malformed' | 'invalid' | 'revoked';
export type AuthResult = { readonly ok: true; readonly keyId: string } | { readonly ok: false; readonly reason: AuthDenyReason };

export interface ApiKeys {
  /** Check an `Authorization` header value. */
  check(header: string | undefined): AuthResult;
  /** Replace the key set (SIGHUP). Revoked keys win over configured ones. */
  reload(keys: readonly string[], revoked: readonly string[]): void;
  readonly size: number;
}

// One-shot hash: no Hash object per request.
const digest = (key: string): Buffer => hash('sha256', key, 'buffer');

/** The 8-char key id that may appear in logs. */
export function keyIdOf(key: string): string {
  return digest(key).toString('hex').slice(0, 8);
}

export function createApiKeys(keys: readonly string[], revoked: readonly string[]): ApiKeys {
  let allowed: Buffer[] = [];
  let denied: Buffer[] = [];

  const matches = (d: Buffer, set: readonly Buffer[]): boolean => {
    let hit = false;
    for (const k of set) hit = timingSafeEqual(d, k) || hit;
    return hit;
  };

  const store: ApiKeys = {
    check(header) {
      if (header === undefined || header === '') return { ok: false, reason: 'missing' };
      if (header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return { ok: false, reason: 'malformed' };
      const key = header.slice(7).trim();
      if (key === '') return { ok: false, reason: 'malformed' };
      const d = digest(key);
      if (matches(d, denied)) return { ok: false, reason: 'revoked' };
      if (!matches(d, allowed)) return { ok: false, reason: 'invalid' };
      return { ok: true, keyId: d.toString('hex').slice(0, 8) };
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

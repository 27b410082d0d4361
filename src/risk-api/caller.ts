/**
 * Who is calling: the `x-payflux-key` header decides the tier, and the tier's bucket is keyed by
 * a hash of the key (never the key text) or, for anonymous callers, by client address.
 *
 *   no header / empty     ANONYMOUS, bucket per client IP (IPv6 per /64: one host owns a /64)
 *   pf_test_…  configured  FREE
 *   pf_live_…  configured  PRO
 *   anything else          401 PF_ERR_UNAUTHORIZED — never silently downgraded to anonymous
 *
 * Keys are compared in constant time (http/key-digests.ts). The client address is `clientBucket`'s
 * (http/client-address.ts): the socket's peer, or behind a trusted proxy the right-most
 * `x-forwarded-for` entry.
 */
import { DigestSet, digestHex, digestText } from '../http/key-digests.js';
import { PayFluxError } from '../errors.js';
import { clientBucket } from '../http/client-address.js';
import type { CallerTier } from './limits.js';

export interface Caller {
  readonly tier: CallerTier;
  /** Bucket identity: `key:<hash>` or `ip:<address or /64>`. */
  readonly bucket: string;
  /** At most 8 characters of the key's hash, for logs; `null` for anonymous callers. */
  readonly keyId: string | null;
}

export interface CallerIdentifier {
  identify(headers: Readonly<Record<string, string | string[] | undefined>>, socketIp: string): Caller;
}

export function createCallerIdentifier(keys: readonly string[], trustProxy: boolean): CallerIdentifier {
  const known = new DigestSet(keys);

  return {
    identify(headers, socketIp) {
      const raw = headers['x-payflux-key'];
      const key = typeof raw === 'string' ? raw.trim() : Array.isArray(raw) ? null : '';
      if (key === null) throw new PayFluxError('PF_ERR_UNAUTHORIZED', 'send one x-payflux-key header');
      if (key === '')
        return { tier: 'ANONYMOUS', bucket: `ip:${clientBucket(headers, socketIp, trustProxy)}`, keyId: null };
      const digest = digestText(key);
      if (!known.hasDigest(digest)) throw new PayFluxError('PF_ERR_UNAUTHORIZED', 'unknown API key');
      const tier: CallerTier | null = key.startsWith('pf_live_') ? 'PRO' : key.startsWith('pf_test_') ? 'FREE' : null;
      if (tier === null) throw new PayFluxError('PF_ERR_UNAUTHORIZED', 'unknown API key');
      const hex = digestHex(digest, 32);
      return { tier, bucket: `key:${hex}`, keyId: hex.slice(0, 8) };
    },
  };
}

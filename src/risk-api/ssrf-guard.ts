/**
 * The SSRF guard: decides, for one URL, whether it may be fetched and which addresses the
 * connection may go to. Checks run cheapest first and nothing touches the network until the
 * static checks pass:
 *
 *   scheme http/https → no credentials → port 80/443 → host name shape → address literal or
 *   DNS answer (every address must be global unicast) → verdict cached for `verdictTtlMs`
 *
 * The verdict's addresses are what `safe-fetch.ts` pins the connection to, so a second DNS
 * answer (rebinding) is never consulted. Allow-listed hosts or ranges skip the port and
 * range checks only — never the scheme or credential checks.
 */
import { lookup } from 'node:dns/promises';
import { addressAllowed, blockedRange, hostAllowed, parseAddress, type AllowList } from './address-policy.js';
import { BlockedTargetError, UnreachableTargetError } from '../errors.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolve a host name to every address it has. Injected in tests; never called for literals. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export interface CheckedTarget {
  readonly url: URL;
  /** The host name as the connector sees it (no IPv6 brackets). */
  readonly host: string;
  readonly addresses: readonly ResolvedAddress[];
}

export interface SsrfGuard {
  /** The checks that need no network (scheme, credentials, port, name shape, literal address). */
  precheck(url: URL): void;
  /** Resolve and check `url`; throws BlockedTargetError or UnreachableTargetError. */
  check(url: URL, signal?: AbortSignal): Promise<CheckedTarget>;
  /** Re-check a single address at connect time (defence in depth behind the pinning). */
  addressPermitted(host: string, address: string): boolean;
}

export interface SsrfGuardOptions {
  readonly allowList: AllowList;
  readonly resolver?: Resolver;
  readonly verdictTtlMs: number;
  readonly maxEntries: number;
  readonly now: () => number;
}

/** Names that only ever mean "this machine" or "this site's private network". */
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.intranet', '.lan', '.home.arpa', '.arpa', '.corp'];

export const defaultResolver: Resolver = async (host) => {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

type Verdict =
  { readonly ok: true; readonly addresses: readonly ResolvedAddress[] } | { readonly ok: false; readonly error: Error };

export function createSsrfGuard(opts: SsrfGuardOptions): SsrfGuard {
  const resolver = opts.resolver ?? defaultResolver;
  // Insertion-ordered: the first key is the oldest, evicted when the map is full.
  const verdicts = new Map<string, { readonly expires: number; readonly verdict: Verdict }>();

  function staticCheck(url: URL): string {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new BlockedTargetError('scheme', `scheme ${url.protocol} is not http or https`);
    if (url.username !== '' || url.password !== '')
      throw new BlockedTargetError('credentials', 'URLs with credentials are not fetched');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const listed = hostAllowed(opts.allowList, url.hostname) || addressAllowed(opts.allowList, host);
    if (url.port !== '' && url.port !== '80' && url.port !== '443' && !listed)
      throw new BlockedTargetError('port', `port ${url.port} is not 80 or 443`);
    if (!listed && parseAddress(host) === null) {
      const lower = host.toLowerCase();
      if (!lower.includes('.') || lower === 'localhost' || LOCAL_SUFFIXES.some((s) => lower.endsWith(s))) {
        throw new BlockedTargetError('hostname', `${lower} is not a public host name`);
      }
    }
    return host;
  }

  function judge(host: string, hostListed: boolean, addresses: readonly ResolvedAddress[]): Verdict {
    if (addresses.length === 0) return { ok: false, error: new UnreachableTargetError(`${host} has no addresses`) };
    for (const a of addresses) {
      // One bad address poisons the whole answer: the connector may try any of them.
      if (!permitted(hostListed, a.address)) {
        return {
          ok: false,
          error: new BlockedTargetError(
            'address',
            `${host} resolves to a non-public address (${blockedRange(a.address) ?? 'range'})`,
          ),
        };
      }
    }
    return { ok: true, addresses };
  }

  function permitted(hostListed: boolean, address: string): boolean {
    if (parseAddress(address) === null) return false;
    return hostListed || addressAllowed(opts.allowList, address) || blockedRange(address) === null;
  }

  function remember(host: string, verdict: Verdict): Verdict {
    if (verdicts.size >= opts.maxEntries) {
      const oldest = verdicts.keys().next();
      if (oldest.done !== true) verdicts.delete(oldest.value);
    }
    verdicts.set(host, { expires: opts.now() + opts.verdictTtlMs, verdict });
    return verdict;
  }

  async function resolve(host: string, signal?: AbortSignal): Promise<ResolvedAddress[]> {
    signal?.throwIfAborted();
    const pending = resolver(host);
    if (signal === undefined) return pending;
    // The system resolver cannot be cancelled; stop waiting for it when the scan budget ends.
    return new Promise<ResolvedAddress[]>((resolveP, reject) => {
      const onAbort = (): void => reject(new UnreachableTargetError(`DNS lookup of ${host} exceeded the scan budget`));
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolveP(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  return {
    precheck(url) {
      const host = staticCheck(url);
      if (parseAddress(host) === null) return;
      const verdict = judge(host, hostAllowed(opts.allowList, url.hostname), [
        { address: host, family: host.includes(':') ? 6 : 4 },
      ]);
      if (!verdict.ok) throw verdict.error;
    },
    async check(url, signal) {
      const host = staticCheck(url);
      const hostListed = hostAllowed(opts.allowList, url.hostname);
      const literal = parseAddress(host);
      if (literal !== null) {
        const family = literal.kind() === 'ipv4' ? 4 : 6;
        const verdict = judge(host, hostListed, [{ address: host, family }]);
        if (!verdict.ok) throw verdict.error;
        return { url, host, addresses: verdict.addresses };
      }
      const key = host.toLowerCase();
      const cached = verdicts.get(key);
      let verdict: Verdict;
      if (cached !== undefined && cached.expires > opts.now()) {
        verdict = cached.verdict;
      } else {
        verdicts.delete(key);
        let answers: ResolvedAddress[];
        try {
          answers = await resolve(key, signal);
        } catch (err) {
          if (err instanceof UnreachableTargetError) throw err;
          const code = (err as { code?: unknown }).code;
          const error = new UnreachableTargetError(
            `DNS lookup of ${key} failed${typeof code === 'string' ? ` (${code})` : ''}`,
          );
          remember(key, { ok: false, error });
          throw error;
        }
        verdict = remember(key, judge(key, hostListed, answers));
      }
      if (!verdict.ok) throw verdict.error;
      return { url, host: key, addresses: verdict.addresses };
    },
    addressPermitted(host, address) {
      return permitted(hostAllowed(opts.allowList, host), address);
    },
  };
}

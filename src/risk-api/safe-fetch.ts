/**
 * Fetching one page without SSRF: every hop (the URL and each redirect target) goes through the
 * guard first, and the connection can only go where the guard said.
 *
 * A `FetchSession` owns one undici Agent whose connector has a `lookup` that answers only from
 * the pinned, already-checked addresses of that session (no second DNS query, so no rebinding);
 * an unpinned host is an error. After the socket connects, its remote address is checked again.
 * Redirects are followed by hand (at most `maxRedirects`), each target re-checked. Bodies are
 * read as a stream and cut at `maxBytesPerPage`: the rest is never read, the socket is closed.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, buildConnector, request } from 'undici';
import { readCapped } from './read-capped.js';
import { BlockedTargetError, UnreachableTargetError } from '../errors.js';
import { type ResolvedAddress, type SsrfGuard } from './ssrf-guard.js';

export interface FetchedPage {
  readonly requestedUrl: string;
  readonly finalUrl: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly bytes: number;
  readonly truncated: boolean;
  readonly redirects: number;
}

/** What the crawler needs: one page per call, honouring `signal`. Faked in unit tests. */
export interface PageFetcher {
  fetchPage(url: URL, signal: AbortSignal): Promise<FetchedPage>;
}

export interface FetchSession extends PageFetcher {
  close(): Promise<void>;
}

export interface SafeFetchOptions {
  readonly guard: SsrfGuard;
  readonly maxRedirects: number;
  readonly maxBytesPerPage: number;
  readonly requestTimeoutMs: number;
  readonly userAgent: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Open a session for one scan; `close()` it when the scan ends. */
export function openFetchSession(opts: SafeFetchOptions): FetchSession {
  const pins = new Map<string, readonly ResolvedAddress[]>();

  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const addresses = (pins.get(hostname.toLowerCase()) ?? []).filter((a) =>
      opts.guard.addressPermitted(hostname, a.address),
    );
    const first = addresses[0];
    if (first === undefined) {
      const err: NodeJS.ErrnoException = new Error(`refusing to resolve unchecked host ${hostname}`);
      err.code = 'ENOTFOUND';
      callback(err, '');
      return;
    }
    if (options.all === true)
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  };

  const base = buildConnector({ lookup, timeout: opts.requestTimeoutMs });
  const agent = new Agent({
    connections: 4,
    connect: (options, callback) => {
      base(options, (err, socket) => {
        if (err !== null) return callback(err, null);
        // Belt and braces behind the pinned lookup: whatever path led here, never talk to a
        // socket whose peer the guard would not have allowed.
        const remote = socket.remoteAddress;
        if (remote === undefined || !opts.guard.addressPermitted(options.hostname, remote)) {
          socket.destroy();
          return callback(
            new BlockedTargetError('address', `connected peer ${remote ?? 'unknown'} is not permitted`),
            null,
          );
        }
        return callback(null, socket);
      });
    },
  });

  async function fetchOnce(url: URL, signal: AbortSignal) {
    const target = await opts.guard.check(url, signal);
    pins.set(target.host.toLowerCase(), target.addresses);
    try {
      return await request(url, {
        method: 'GET',
        dispatcher: agent,
        signal,
        headersTimeout: opts.requestTimeoutMs,
        bodyTimeout: opts.requestTimeoutMs,
        headers: {
          'user-agent': opts.userAgent,
          accept: 'text/html,application/xhtml+xml,text/plain;q=0.8',
          // We never decompress: a compressed body would dodge the byte cap (zip bombs).
          'accept-encoding': 'identity',
        },
      });
    } catch (err) {
      if (err instanceof BlockedTargetError) throw err;
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof BlockedTargetError) throw cause;
      if (signal.aborted) throw new UnreachableTargetError(`${url.host} did not answer within the scan budget`);
      const code = (err as { code?: unknown }).code;
      throw new UnreachableTargetError(
        `${url.host} could not be reached${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
  }

  return {
    async fetchPage(start, signal) {
      let current = start;
      for (let redirects = 0; ; redirects++) {
        const res = await fetchOnce(current, signal);
        const location = res.headers.location;
        if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
          discard(res.body);
          if (redirects >= opts.maxRedirects)
            throw new UnreachableTargetError(`more than ${opts.maxRedirects} redirects`);
          let next: URL;
          try {
            next = new URL(location, current);
          } catch {
            throw new UnreachableTargetError('redirect to an invalid URL');
          }
          next.hash = '';
          current = next;
          continue;
        }
        const contentType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : '';
        const encoding = res.headers['content-encoding'];
        if (!isText(contentType) || (typeof encoding === 'string' && encoding !== 'identity')) {
          discard(res.body);
          return {
            requestedUrl: start.href,
            finalUrl: current.href,
            status: res.statusCode,
            contentType,
            body: '',
            bytes: 0,
            truncated: false,
            redirects,
          };
        }
        let read: Awaited<ReturnType<typeof readCapped>>;
        try {
          read = await readCapped(res.body, opts.maxBytesPerPage);
        } catch {
          // A body cut by the budget or a dead peer: no page rather than half a guess.
          throw new UnreachableTargetError(`${current.host} stopped sending the page`);
        }
        const body = decode(read.bytes, contentType);
        return {
          requestedUrl: start.href,
          finalUrl: current.href,
          status: res.statusCode,
          contentType,
          body,
          bytes: read.bytes.length,
          truncated: read.truncated,
          redirects,
        };
      }
    },
    async close() {
      pins.clear();
      await agent.destroy();
    },
  };
}

/** Drop a body unread. undici reports the destroy as an AbortError; nobody needs to hear it. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

function isText(contentType: string): boolean {
  if (contentType === '') return true; // servers that forget the header are usually serving HTML
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'text/html' || type === 'application/xhtml+xml' || type === 'text/plain';
}

function decode(bytes: Uint8Array, contentType: string): string {
  const charset = /charset\s*=\s*"?([A-Za-z0-9._:-]+)/i.exec(contentType)?.[1];
  if (charset !== undefined) {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // unknown label: fall through to UTF-8
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

/**
 * Parsing and normalising the URL a caller submits. The WHATWG parser does the heavy lifting
 * (lower-case host, punycode, default port removal, and — crucially for SSRF — rewriting IPv4
 * written in decimal, hex, octal or short form to dotted quads), and this module adds the
 * rest: a default `https://` scheme, no fragment, no trailing dot on the host.
 *
 * Only syntax is judged here (a 400). Whether the target may be fetched — scheme, port,
 * credentials, addresses — is `ssrf-guard.ts`'s call (a 403).
 */
import { PayFluxError } from '../errors.js';

export const MAX_URL_LENGTH = 2048;

const HAS_AUTHORITY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `mailto:x`, `file:/etc/passwd`, `javascript:…` — a scheme without `//`, but not `host:8080`. */
const OPAQUE_SCHEME = /^[a-z][a-z0-9+.-]*:(?![0-9]|\/\/)/i;
// Anything the WHATWG parser would silently strip or that no real URL contains unescaped.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u0020\u007f\u00a0\u2028\u2029]/;

function invalid(message: string): PayFluxError {
  return new PayFluxError('PF_ERR_VALIDATION', message, { field: 'url' });
}

/**
 * The normalised form of `input`, or a 400 `PF_ERR_VALIDATION` with `field: "url"`.
 * `shop.example.com` → `https://shop.example.com/`; `HTTP://Shop.Example.com.:80/a#x` →
 * `http://shop.example.com/a`; `http://0x7f.1/` → `http://127.0.0.1/`.
 */
export function normaliseUrl(input: unknown): URL {
  if (typeof input !== 'string') throw invalid('url must be a string');
  const trimmed = input.trim();
  if (trimmed === '') throw invalid('url is required');
  if (trimmed.length > MAX_URL_LENGTH) throw invalid(`url is longer than ${MAX_URL_LENGTH} characters`);
  if (FORBIDDEN_CHARS.test(trimmed)) throw invalid('url contains whitespace or control characters');

  let text = trimmed;
  if (text.startsWith('//')) text = `https:${text}`;
  else if (!HAS_AUTHORITY_SCHEME.test(text) && !OPAQUE_SCHEME.test(text)) text = `https://${text}`;

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('url is not a valid URL');
  }
  url.hash = '';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return url; // refused by the guard, not here
  if (url.hostname === '') throw invalid('url has no host');
  if (url.hostname.endsWith('.') && !url.hostname.startsWith('[')) {
    url.hostname = url.hostname.replace(/\.+$/, '');
    if (url.hostname === '') throw invalid('url has no host');
  }
  if (url.href.endsWith('?')) url.search = '';
  return url;
}

/** The host part that history and trend are keyed by: lower-case hostname, brackets for IPv6. */
export function historyHost(url: URL): string {
  return url.hostname;
}

/**
 * Which links on the home page lead to policy pages. A link counts for a policy when its
 * visible text or its path says so ("Refund policy", `/pages/returns`); visible text weighs
 * more than the path. Only same-site links are followed: the home page's host, give or take a
 * leading `www.`. Each policy gets its best link (ties: the first on the page); several policies
 * may share one page, which is then fetched once.
 */
import type { PageLink } from './html-text.js';
import { POLICY_KINDS, type PolicyKind } from './types.js';

const LINK_PATTERNS: Readonly<Record<PolicyKind, RegExp>> = {
  terms: /(?<![a-z])(terms|conditions|tos|legal|user[-_ ]?agreement|agb)(?![a-z])/i,
  privacy: /(?<![a-z])(privacy|data[-_ ]?protection|gdpr|datenschutz)(?![a-z])/i,
  refund: /(?<![a-z])(refunds?|returns?|exchanges?|cancell?ations?|money[-_ ]?back)(?![a-z])/i,
  contact:
    /(?<![a-z])(contact([-_ ]?us)?|customer[-_ ]?(service|support|care)|get[-_ ]?in[-_ ]?touch|impressum)(?![a-z])/i,
};

export interface PolicyLink {
  readonly url: string;
  /** Every policy this page was chosen for, in POLICY_KINDS order. */
  readonly kinds: readonly PolicyKind[];
}

function siteOf(host: string): string {
  return host.toLowerCase().replace(/^www\./, '');
}

/**
 * Policy pages linked from `links` (found on the page at `base`), at most `max` URLs,
 * in the order refund, terms, privacy, contact of their first policy.
 */
export function discoverPolicyLinks(links: readonly PageLink[], base: string, max: number): PolicyLink[] {
  const baseUrl = new URL(base);
  const site = siteOf(baseUrl.hostname);
  const best = new Map<PolicyKind, { url: string; score: number }>();

  for (const link of links) {
    if (link.href === '' || link.href.startsWith('#')) continue;
    let url: URL;
    try {
      url = new URL(link.href, baseUrl);
    } catch {
      continue;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || siteOf(url.hostname) !== site) continue;
    url.hash = '';
    if (url.pathname === baseUrl.pathname && url.search === baseUrl.search) continue;
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    for (const kind of POLICY_KINDS) {
      const score = (LINK_PATTERNS[kind].test(link.text) ? 2 : 0) + (LINK_PATTERNS[kind].test(path) ? 1 : 0);
      const current = best.get(kind);
      if (score > 0 && (current === undefined || score > current.score)) best.set(kind, { url: url.href, score });
    }
  }

  const byUrl = new Map<string, PolicyKind[]>();
  // A missing refund policy weighs most in the score, so its page is fetched first.
  for (const kind of ['refund', 'terms', 'privacy', 'contact'] as const) {
    const choice = best.get(kind);
    if (choice === undefined) continue;
    const kinds = byUrl.get(choice.url);
    if (kinds !== undefined) kinds.push(kind);
    else if (byUrl.size < max) byUrl.set(choice.url, [kind]);
  }
  return [...byUrl].map(([url, kinds]) => ({ url, kinds: POLICY_KINDS.filter((k) => kinds.includes(k)) }));
}

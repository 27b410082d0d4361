/**
 * Present | Weak | Missing for each policy, from the keyword evidence over every scanned page.
 *
 *   Present  a dedicated page for the policy was scanned (≥ DEDICATED_MIN_CHARS of text) and at
 *            least 2 distinct keywords were found, or ≥ 4 distinct keywords were found anywhere
 *            (a full policy written on the home page);
 *   Weak     some evidence (≥ 1 keyword), or a policy page that was linked but thin or unusable;
 *   Missing  nothing.
 *
 * Evidence is reported once per keyword (the dedicated page's occurrence first), at most
 * MAX_EVIDENCE per policy.
 */
import type { ScannedPage } from './crawl-site.js';
import { findEvidence } from './keyword-evidence.js';
import { POLICY_KINDS, type Evidence, type Policies, type PolicyKind, type PolicyResult } from './types.js';

export const DEDICATED_MIN_CHARS = 300;
export const MAX_EVIDENCE = 5;

export function classifyPolicies(pages: readonly ScannedPage[], linked: ReadonlySet<PolicyKind>): Policies {
  const result = {} as Record<PolicyKind, PolicyResult>;
  for (const kind of POLICY_KINDS) result[kind] = classifyOne(kind, pages, linked);
  return result;
}

function classifyOne(kind: PolicyKind, pages: readonly ScannedPage[], linked: ReadonlySet<PolicyKind>): PolicyResult {
  const dedicated = pages.find((p) => p.roles.includes(kind));
  const ordered = dedicated === undefined ? pages : [dedicated, ...pages.filter((p) => p !== dedicated)];
  const byKeyword = new Map<string, Evidence>();
  for (const page of ordered) {
    for (const ev of findEvidence(kind, page.text, page.url)) {
      if (!byKeyword.has(ev.keyword)) byKeyword.set(ev.keyword, ev);
    }
  }
  const distinct = byKeyword.size;
  const substantial = dedicated !== undefined && dedicated.text.length >= DEDICATED_MIN_CHARS;
  const status =
    (substantial && distinct >= 2) || distinct >= 4
      ? 'Present'
      : distinct >= 1 || dedicated !== undefined || linked.has(kind)
        ? 'Weak'
        : 'Missing';
  return { status, page: dedicated?.url ?? null, evidence: [...byKeyword.values()].slice(0, MAX_EVIDENCE) };
}

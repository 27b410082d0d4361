/**
 * One fresh scan, start to finish: open a fetch session, crawl within the time budget,
 * classify the policies, score, and assemble the snapshot. Always closes its session and timer.
 *
 * Errors: BlockedTargetError (home page refused), UnreachableTargetError (home page not
 * loaded), PayFluxError PF_ERR_UNPROCESSABLE (fewer than `minTextChars` characters of text).
 */
import { PayFluxError } from '../errors.js';
import { classifyPolicies } from './classify-policies.js';
import { crawlSite } from './crawl-site.js';
import type { RiskApiLimits } from './limits.js';
import type { FetchSession } from './safe-fetch.js';
import { SCORING_VERSION, scoreSnapshot } from './score-snapshot.js';
import type { BlockedTargetError } from '../errors.js';
import type { PolicyKind, RiskSnapshot } from './types.js';

export interface ScanRequest {
  readonly url: URL;
  readonly industry: string;
  readonly processor: string;
}

export interface ScanDeps {
  readonly openSession: () => FetchSession;
  readonly limits: RiskApiLimits;
  readonly now: () => number;
  readonly onBlocked?: (err: BlockedTargetError, url: string) => void;
}

export async function scanSite(req: ScanRequest, deps: ScanDeps): Promise<RiskSnapshot> {
  const started = deps.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deps.limits.scanBudgetMs);
  const session = deps.openSession();
  try {
    const crawl = await crawlSite(req.url, session, {
      maxPages: deps.limits.maxPages,
      signal: controller.signal,
      ...(deps.onBlocked === undefined ? {} : { onBlocked: deps.onBlocked }),
    });
    const textChars = crawl.pages.reduce((n, p) => n + p.text.length, 0);
    if (textChars < deps.limits.minTextChars) {
      throw new PayFluxError(
        'PF_ERR_UNPROCESSABLE',
        `the site has too little text to assess (${textChars} characters, need ${deps.limits.minTextChars})`,
      );
    }
    const linked = new Set<PolicyKind>();
    // A policy link whose page could not be used still says "a policy page exists" (Weak).
    for (const s of crawl.skipped) for (const k of s.kinds) linked.add(k);
    const policies = classifyPolicies(crawl.pages, linked);
    const policyPages = crawl.pages.length - 1;
    const score = scoreSnapshot(policies, {
      requestedUrl: req.url.href,
      finalUrl: crawl.finalUrl,
      industry: req.industry,
      processor: req.processor,
      discovered: crawl.discovered,
      policyPagesScanned: policyPages,
      truncatedPages: crawl.pages.filter((p) => p.truncated).length,
      skippedPages: crawl.skipped.length,
      budgetExhausted: crawl.budgetExhausted,
    });
    return {
      url: req.url.href,
      finalUrl: crawl.finalUrl,
      analyzedAt: new Date(started).toISOString(),
      industry: req.industry,
      processor: req.processor,
      scoreBreakdown: score.scoreBreakdown,
      policies,
      findings: score.findings,
      riskTier: score.riskTier,
      riskLabel: score.riskLabel,
      stabilityScore: score.stabilityScore,
      pagesScanned: crawl.pages.length,
      meta: {
        scoringVersion: SCORING_VERSION,
        durationMs: Math.max(0, deps.now() - started),
        bytesFetched: crawl.pages.reduce((n, p) => n + p.bytes, 0),
        redirects: crawl.redirects,
        pages: crawl.pages.map((p) => ({
          url: p.url,
          roles: p.roles,
          status: p.status,
          bytes: p.bytes,
          truncated: p.truncated,
          textChars: p.text.length,
        })),
        skippedPages: crawl.skipped,
        budgetExhausted: crawl.budgetExhausted,
      },
    };
  } finally {
    clearTimeout(timer);
    await session.close();
  }
}

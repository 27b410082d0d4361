/**
 * Risk points, findings, tier and stability from the classified policies and the scan facts.
 * The formula is documented in docs/risk-api.md; change both together and bump SCORING_VERSION
 * (it is part of the cache key, so old answers are not served under a new formula).
 *
 *   policies   Σ weight × gap, gap Missing 1 / Weak 0.5 / Present 0      (max 65)
 *   industry   high-risk 20, elevated 10, other 0                        (max 20)
 *   processor  5 when the processor mandates visible refund and terms
 *              policies and either is not Present                        (max 5)
 *   site       5 if the final page is not HTTPS, 5 if it left the host   (max 10)
 *   total      round(sum), clamped 0–100
 *   tier       <20 LOW · <40 MODERATE · <60 ELEVATED · <80 HIGH · else CRITICAL
 */
import {
  POLICY_KINDS,
  RISK_LABELS,
  type Finding,
  type Policies,
  type PolicyKind,
  type PolicyStatus,
  type RiskLabel,
  type RiskTier,
  type ScoreBreakdown,
} from './types.js';

export const SCORING_VERSION = 1;

export const POLICY_WEIGHTS: Readonly<Record<PolicyKind, number>> = { refund: 20, terms: 15, privacy: 15, contact: 15 };
const GAP: Readonly<Record<PolicyStatus, number>> = { Present: 0, Weak: 0.5, Missing: 1 };

const HIGH_RISK_INDUSTRY =
  /(?<![a-z])(gambling|casino|betting|lottery|crypto\w*|forex|adult|dating|nutraceuticals?|supplements?|cbd|cannabis|firearms?|weapons?|tobacco|vap(e|ing)|pharmacy|debt[ -]collection|escort|pawn)(?![a-z])/i;
const ELEVATED_INDUSTRY =
  /(?<![a-z])(travel|airlines?|ticketing|tickets|events?|subscriptions?|digital[ -]goods|software|saas|electronics|jewel(le)?ry|luxury|marketplace|crowdfunding|telemarketing|gaming)(?![a-z])/i;
/** Processors whose merchant terms require refund and terms pages visible on the site. */
const STRICT_PROCESSORS = new Set([
  'stripe',
  'paypal',
  'square',
  'adyen',
  'braintree',
  'checkout',
  'checkout.com',
  'shopify payments',
  'worldpay',
]);

export interface ScoreFacts {
  readonly requestedUrl: string;
  readonly finalUrl: string;
  readonly industry: string;
  readonly processor: string;
  readonly discovered: number;
  readonly policyPagesScanned: number;
  readonly truncatedPages: number;
  readonly skippedPages: number;
  readonly budgetExhausted: boolean;
}

export interface Score {
  readonly scoreBreakdown: ScoreBreakdown;
  readonly findings: readonly Finding[];
  readonly riskTier: RiskTier;
  readonly riskLabel: RiskLabel;
  readonly stabilityScore: number;
}

export function industryClass(industry: string): 'high' | 'elevated' | 'standard' {
  if (HIGH_RISK_INDUSTRY.test(industry)) return 'high';
  if (ELEVATED_INDUSTRY.test(industry)) return 'elevated';
  return 'standard';
}

export function tierFor(total: number): RiskTier {
  if (total < 20) return 1;
  if (total < 40) return 2;
  if (total < 60) return 3;
  if (total < 80) return 4;
  return 5;
}

export function labelFor(tier: RiskTier): RiskLabel {
  return RISK_LABELS[tier - 1] ?? 'CRITICAL';
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const siteOf = (u: URL): string => u.hostname.replace(/^www\./, '');

export function scoreSnapshot(policies: Policies, facts: ScoreFacts): Score {
  const findings: Finding[] = [];

  let policyPoints = 0;
  let credit = 0;
  for (const kind of POLICY_KINDS) {
    const status = policies[kind].status;
    policyPoints += POLICY_WEIGHTS[kind] * GAP[status];
    credit += POLICY_WEIGHTS[kind] * (1 - GAP[status]);
    if (status === 'Missing') {
      findings.push({
        code: `POLICY_MISSING_${kind.toUpperCase()}`,
        severity: kind === 'refund' || kind === 'terms' ? 'critical' : 'warning',
        message: `No ${kind} policy was found on the site`,
      });
    } else if (status === 'Weak') {
      findings.push({
        code: `POLICY_WEAK_${kind.toUpperCase()}`,
        severity: 'warning',
        message: `The ${kind} policy is only mentioned, not clearly published`,
      });
    }
  }

  const cls = industryClass(facts.industry);
  const industryPoints = cls === 'high' ? 20 : cls === 'elevated' ? 10 : 0;
  if (cls === 'high')
    findings.push({
      code: 'INDUSTRY_HIGH_RISK',
      severity: 'warning',
      message: `${facts.industry} is a high-risk industry for card processors`,
    });
  if (cls === 'elevated')
    findings.push({
      code: 'INDUSTRY_ELEVATED_RISK',
      severity: 'info',
      message: `${facts.industry} carries elevated chargeback risk`,
    });

  let processorPoints = 0;
  if (
    STRICT_PROCESSORS.has(facts.processor) &&
    (policies.refund.status !== 'Present' || policies.terms.status !== 'Present')
  ) {
    processorPoints = 5;
    findings.push({
      code: 'PROCESSOR_POLICY_REQUIREMENT',
      severity: 'warning',
      message: `${facts.processor} expects visible refund and terms policies`,
    });
  }

  const requested = new URL(facts.requestedUrl);
  const final = new URL(facts.finalUrl);
  let sitePoints = 0;
  if (final.protocol !== 'https:') {
    sitePoints += 5;
    findings.push({ code: 'NO_HTTPS', severity: 'warning', message: 'The site is served without HTTPS' });
  }
  if (siteOf(final) !== siteOf(requested)) {
    sitePoints += 5;
    findings.push({
      code: 'OFFSITE_REDIRECT',
      severity: 'warning',
      message: `The site redirects to another host (${final.hostname})`,
    });
  }
  if (facts.truncatedPages > 0)
    findings.push({
      code: 'PAGE_TRUNCATED',
      severity: 'info',
      message: `${facts.truncatedPages} page(s) were larger than the scan reads; only the beginning was analysed`,
    });
  if (facts.skippedPages > 0)
    findings.push({
      code: 'PAGES_SKIPPED',
      severity: 'info',
      message: `${facts.skippedPages} linked policy page(s) could not be scanned`,
    });
  if (facts.budgetExhausted)
    findings.push({
      code: 'SCAN_BUDGET_EXHAUSTED',
      severity: 'info',
      message: 'The scan ran out of time before every page was read',
    });

  const total = Math.min(100, Math.max(0, Math.round(policyPoints + industryPoints + processorPoints + sitePoints)));
  const riskTier = tierFor(total);
  const coverage = credit / Object.values(POLICY_WEIGHTS).reduce((a, b) => a + b, 0);
  const completeness = facts.discovered === 0 ? 1 : facts.policyPagesScanned / facts.discovered;
  return {
    scoreBreakdown: {
      policies: round1(policyPoints),
      industry: industryPoints,
      processor: processorPoints,
      site: sitePoints,
      total,
    },
    findings,
    riskTier,
    riskLabel: labelFor(riskTier),
    stabilityScore: Math.round(100 * (0.8 * coverage + 0.2 * completeness)),
  };
}

import { describe, expect, it } from 'vitest';
import {
  industryClass,
  labelFor,
  scoreSnapshot,
  tierFor,
  type ScoreFacts,
} from '../../../src/risk-api/score-snapshot.js';
import type { Policies, PolicyStatus } from '../../../src/risk-api/types.js';

const policies = (
  terms: PolicyStatus,
  privacy: PolicyStatus,
  refund: PolicyStatus,
  contact: PolicyStatus,
): Policies => ({
  terms: { status: terms, page: null, evidence: [] },
  privacy: { status: privacy, page: null, evidence: [] },
  refund: { status: refund, page: null, evidence: [] },
  contact: { status: contact, page: null, evidence: [] },
});
const facts = (over: Partial<ScoreFacts> = {}): ScoreFacts => ({
  requestedUrl: 'https://shop.example.com/',
  finalUrl: 'https://shop.example.com/',
  industry: 'retail',
  processor: 'unspecified',
  discovered: 4,
  policyPagesScanned: 4,
  truncatedPages: 0,
  skippedPages: 0,
  budgetExhausted: false,
  ...over,
});

describe('scoreSnapshot', () => {
  it('scores a complete HTTPS site in a standard industry 0, LOW, stability 100', () => {
    const s = scoreSnapshot(policies('Present', 'Present', 'Present', 'Present'), facts());
    expect(s).toEqual({
      scoreBreakdown: { policies: 0, industry: 0, processor: 0, site: 0, total: 0 },
      findings: [],
      riskTier: 1,
      riskLabel: 'LOW',
      stabilityScore: 100,
    });
  });

  it('hand-computed: weak terms, missing refund, high-risk industry, strict processor, offsite http redirect', () => {
    // terms 15×0.5 + refund 20 = 27.5; gambling 20; stripe 5; http 5 + offsite 5 → 62.5 → 63 (HIGH)
    const s = scoreSnapshot(
      policies('Weak', 'Present', 'Missing', 'Present'),
      facts({ industry: 'online casino', processor: 'stripe', finalUrl: 'http://other.example.net/' }),
    );
    expect(s.scoreBreakdown).toEqual({ policies: 27.5, industry: 20, processor: 5, site: 10, total: 63 });
    expect(s.riskTier).toBe(4);
    expect(s.riskLabel).toBe('HIGH');
    expect(s.findings.map((f) => [f.code, f.severity])).toEqual([
      ['POLICY_WEAK_TERMS', 'warning'],
      ['POLICY_MISSING_REFUND', 'critical'],
      ['INDUSTRY_HIGH_RISK', 'warning'],
      ['PROCESSOR_POLICY_REQUIREMENT', 'warning'],
      ['NO_HTTPS', 'warning'],
      ['OFFSITE_REDIRECT', 'warning'],
    ]);
    // coverage (7.5 + 15 + 0 + 15) / 65 = 0.5769; completeness 1 → round(100 × (0.4615 + 0.2)) = 66
    expect(s.stabilityScore).toBe(66);
  });

  it('reaches CRITICAL when everything is missing in a high-risk industry', () => {
    const s = scoreSnapshot(
      policies('Missing', 'Missing', 'Missing', 'Missing'),
      facts({
        industry: 'cbd',
        processor: 'paypal',
        finalUrl: 'http://shop.example.com/',
        discovered: 2,
        policyPagesScanned: 1,
      }),
    );
    expect(s.scoreBreakdown.total).toBe(95);
    expect(s.riskLabel).toBe('CRITICAL');
    expect(s.stabilityScore).toBe(10); // coverage 0, completeness 1/2
  });

  it('treats www. and the bare host as the same site', () => {
    const s = scoreSnapshot(
      policies('Present', 'Present', 'Present', 'Present'),
      facts({ finalUrl: 'https://www.shop.example.com/home' }),
    );
    expect(s.scoreBreakdown.site).toBe(0);
  });

  it('adds informational findings for truncated, skipped and out-of-time pages without points', () => {
    const s = scoreSnapshot(
      policies('Present', 'Present', 'Present', 'Present'),
      facts({ truncatedPages: 1, skippedPages: 2, budgetExhausted: true }),
    );
    expect(s.scoreBreakdown.total).toBe(0);
    expect(s.findings.map((f) => f.code)).toEqual(['PAGE_TRUNCATED', 'PAGES_SKIPPED', 'SCAN_BUDGET_EXHAUSTED']);
  });
});

describe('tiers and industries', () => {
  it.each([
    [0, 1, 'LOW'],
    [19, 1, 'LOW'],
    [20, 2, 'MODERATE'],
    [39, 2, 'MODERATE'],
    [40, 3, 'ELEVATED'],
    [59, 3, 'ELEVATED'],
    [60, 4, 'HIGH'],
    [79, 4, 'HIGH'],
    [80, 5, 'CRITICAL'],
    [100, 5, 'CRITICAL'],
  ] as const)('total %i → tier %i %s', (total, tier, label) => {
    expect(tierFor(total)).toBe(tier);
    expect(labelFor(tierFor(total))).toBe(label);
  });

  it.each([
    ['online gambling', 'high'],
    ['Crypto exchange', 'high'],
    ['nutraceuticals', 'high'],
    ['travel agency', 'elevated'],
    ['saas', 'elevated'],
    ['outdoor retail', 'standard'],
    ['vaporware consulting', 'standard'],
    ['unspecified', 'standard'],
  ])('%s is %s', (industry, cls) => {
    expect(industryClass(industry)).toBe(cls);
  });
});

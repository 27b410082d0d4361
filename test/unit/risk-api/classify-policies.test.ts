import { describe, expect, it } from 'vitest';
import { classifyPolicies } from '../../../src/risk-api/classify-policies.js';
import type { ScannedPage } from '../../../src/risk-api/crawl-site.js';
import type { PolicyKind } from '../../../src/risk-api/types.js';

const page = (url: string, roles: ScannedPage['roles'], text: string): ScannedPage => ({
  url,
  roles,
  status: 200,
  bytes: text.length,
  truncated: false,
  title: '',
  text,
});
const filler = 'We ship camping gear across the country and answer every message quickly. '.repeat(5);

describe('classifyPolicies', () => {
  it('Present: a substantial dedicated page with at least two distinct keywords', () => {
    const pages = [
      page('h', ['home'], 'Welcome'),
      page('r', ['refund'], `Our refund policy: returns within 30 days. ${filler}`),
    ];
    const p = classifyPolicies(pages, new Set());
    expect(p.refund.status).toBe('Present');
    expect(p.refund.page).toBe('r');
    expect(p.refund.evidence.map((e) => e.keyword)).toEqual(['refund policy', 'refund', 'returns']);
    expect(p.refund.evidence.every((e) => e.page === 'r')).toBe(true);
  });

  it('Present: four distinct keywords written on the home page itself', () => {
    const pages = [
      page(
        'h',
        ['home'],
        'Privacy policy: we protect personal data, never sell personal information, and you may opt out.',
      ),
    ];
    expect(classifyPolicies(pages, new Set()).privacy.status).toBe('Present');
  });

  it('Weak: a single mention, a thin dedicated page, or a link whose page could not be read', () => {
    const mention = classifyPolicies([page('h', ['home'], 'Ask us about a refund.')], new Set());
    expect(mention.refund.status).toBe('Weak');
    const thin = classifyPolicies(
      [page('h', ['home'], 'Hi'), page('t', ['terms'], 'Terms of use. Governing law: Oregon.')],
      new Set(),
    );
    expect(thin.terms.status).toBe('Weak'); // two keywords, but under 300 characters
    const unread = classifyPolicies([page('h', ['home'], 'Hi')], new Set<PolicyKind>(['contact']));
    expect(unread.contact).toEqual({ status: 'Weak', page: null, evidence: [] });
  });

  it('Missing: no evidence and no link', () => {
    const p = classifyPolicies([page('h', ['home'], filler)], new Set());
    expect(Object.values(p).map((r) => r.status)).toEqual(['Missing', 'Missing', 'Missing', 'Missing']);
  });

  it('caps evidence at five keywords per policy', () => {
    const text =
      'terms of service, terms of use, user agreement, governing law, limitation of liability, dispute resolution, arbitration';
    expect(classifyPolicies([page('h', ['home'], text)], new Set()).terms.evidence).toHaveLength(5);
  });
});

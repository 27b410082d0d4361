import { describe, expect, it } from 'vitest';
import { findEvidence } from '../../../src/risk-api/keyword-evidence.js';

const labels = (kind: Parameters<typeof findEvidence>[0], text: string) =>
  findEvidence(kind, text, 'https://s.example/').map((e) => e.keyword);

describe('findEvidence', () => {
  it('matches on word boundaries only', () => {
    expect(labels('refund', 'The item was refunded and returned.')).toEqual([]);
    expect(labels('refund', 'Ask for a refund. Free returns!')).toEqual(['refund', 'returns']);
    expect(labels('terms', 'Determinism in the terminations list')).toEqual([]);
    expect(labels('privacy', 'We use cookieshare tools')).toEqual([]);
    expect(labels('privacy', 'We use cookies.')).toEqual(['cookies']);
    expect(labels('refund', 'prérefund')).toEqual([]); // a letter before it, accented or not
  });

  it('is case-insensitive and tolerant of any whitespace between words', () => {
    expect(labels('refund', 'RETURN\n   POLICY')).toEqual(['return policy']);
    expect(labels('terms', 'Terms and Conditions apply')).toEqual(['terms & conditions']);
    expect(labels('terms', 'Terms & Conditions apply')).toEqual(['terms & conditions']);
  });

  it('finds contact channels: email addresses and phone numbers', () => {
    expect(labels('contact', 'Write to help@shop.example.com or call +1 (503) 555-0142.')).toEqual([
      'email address',
      'phone number',
    ]);
    expect(labels('contact', 'Order #12345 shipped')).toEqual([]);
  });

  it('reports each keyword once, with a snippet around the first occurrence', () => {
    const text = `${'x '.repeat(100)}Our refund policy is simple. Another refund policy mention.`;
    const [ev] = findEvidence('refund', text, 'https://s.example/refunds');
    expect(ev).toEqual({
      keyword: 'refund policy',
      page: 'https://s.example/refunds',
      snippet: expect.stringMatching(/^….*Our refund policy is simple\..*$/) as unknown,
    });
    expect(findEvidence('refund', text, 'p').filter((e) => e.keyword === 'refund policy')).toHaveLength(1);
  });
});

/**
 * Keyword evidence: which policy phrases occur in a page's text, matched on word boundaries
 * (Unicode letters and digits), case-insensitively, with any run of whitespace between words.
 * "terms" does not match "determinism"; "refund" does not match "refunded"; "return policy"
 * matches "Return\n  Policy". Each phrase yields at most one piece of evidence per page.
 */
import type { Evidence, PolicyKind } from './types.js';

export interface Keyword {
  /** The label reported as evidence. */
  readonly label: string;
  readonly pattern: RegExp;
}

const SNIPPET_RADIUS = 60;

function phrase(text: string): Keyword {
  const body = text
    .split(/\s+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\&]/g, (c) => (c === '&' ? '(?:&|and)' : `\\${c}`)))
    .join('\\s+');
  return { label: text, pattern: new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'iu') };
}

/** The phrases per policy. Contact also accepts an email address and a phone number. */
export const POLICY_KEYWORDS: Readonly<Record<PolicyKind, readonly Keyword[]>> = {
  terms: [
    'terms of service',
    'terms & conditions',
    'terms of use',
    'user agreement',
    'governing law',
    'limitation of liability',
    'dispute resolution',
    'intellectual property',
    'indemnify',
    'termination',
    'arbitration',
    'disclaimer of warranties',
  ].map(phrase),
  privacy: [
    'privacy policy',
    'privacy notice',
    'personal data',
    'personal information',
    'data protection',
    'gdpr',
    'ccpa',
    'cookies',
    'third parties',
    'data controller',
    'opt out',
    'data retention',
  ].map(phrase),
  refund: [
    'refund policy',
    'return policy',
    'returns policy',
    'refund',
    'refunds',
    'returns',
    'money back',
    'money-back guarantee',
    'exchange',
    'exchanges',
    'store credit',
    'restocking fee',
    'cancellation policy',
    'return shipping',
  ].map(phrase),
  contact: [
    ...[
      'contact us',
      'customer service',
      'customer support',
      'get in touch',
      'call us',
      'email us',
      'business hours',
      'mailing address',
    ].map(phrase),
    {
      label: 'email address',
      pattern:
        /(?<![\p{L}\p{N}._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\p{L}\p{N}])/u,
    },
    { label: 'phone number', pattern: /(?<![\p{N}])\+?(?:\d[ .()-]{0,2}){9,14}\d(?![\p{N}])/u },
  ],
};

/** Every keyword of `kind` found in `text`, first occurrence each, with a snippet. */
export function findEvidence(kind: PolicyKind, text: string, page: string): Evidence[] {
  const found: Evidence[] = [];
  for (const kw of POLICY_KEYWORDS[kind]) {
    const m = kw.pattern.exec(text);
    if (m === null) continue;
    found.push({ keyword: kw.label, page, snippet: snippetAround(text, m.index, m[0].length) });
  }
  return found;
}

function snippetAround(text: string, at: number, length: number): string {
  const start = Math.max(0, at - SNIPPET_RADIUS);
  const end = Math.min(text.length, at + length + SNIPPET_RADIUS);
  const body = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}`;
}

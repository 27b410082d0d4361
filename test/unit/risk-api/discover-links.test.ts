import { describe, expect, it } from 'vitest';
import { discoverPolicyLinks } from '../../../src/risk-api/discover-links.js';

const BASE = 'https://shop.example.com/';

describe('discoverPolicyLinks', () => {
  it('finds one page per policy by link text or path, refund first', () => {
    const links = [
      { href: '/blog', text: 'Blog' },
      { href: '/pages/tos', text: 'Legal' },
      { href: '/policies/privacy-policy', text: 'Your data' },
      { href: '/help/returns', text: 'Shipping & Returns' },
      { href: 'https://www.shop.example.com/contact-us', text: 'Get in touch' },
    ];
    expect(discoverPolicyLinks(links, BASE, 5)).toEqual([
      { url: 'https://shop.example.com/help/returns', kinds: ['refund'] },
      { url: 'https://shop.example.com/pages/tos', kinds: ['terms'] },
      { url: 'https://shop.example.com/policies/privacy-policy', kinds: ['privacy'] },
      { url: 'https://www.shop.example.com/contact-us', kinds: ['contact'] },
    ]);
  });

  it('prefers a link whose visible text names the policy over one whose path merely does', () => {
    const links = [
      { href: '/terms-old', text: 'Archive' },
      { href: '/legal/t', text: 'Terms of Service' },
    ];
    expect(discoverPolicyLinks(links, BASE, 5)).toEqual([
      { url: 'https://shop.example.com/legal/t', kinds: ['terms'] },
    ]);
  });

  it('fetches a shared legal page once for every policy it covers', () => {
    const links = [
      { href: '/legal', text: 'Terms, privacy and refunds' },
      { href: '/legal#privacy', text: 'Privacy' },
    ];
    expect(discoverPolicyLinks(links, BASE, 5)).toEqual([
      { url: 'https://shop.example.com/legal', kinds: ['terms', 'privacy', 'refund'] },
    ]);
  });

  it('ignores other sites, other schemes, fragments, the page itself and junk hrefs', () => {
    const links = [
      { href: 'https://termly.io/privacy', text: 'Privacy' },
      { href: 'mailto:help@shop.example.com', text: 'Contact us' },
      { href: 'javascript:void(0)', text: 'Refunds' },
      { href: '#terms', text: 'Terms' },
      { href: '/', text: 'Contact' },
      { href: 'http://[bad', text: 'Returns' },
      { href: '', text: 'Terms' },
      { href: 'https://shop.example.com.evil.test/terms', text: 'Terms' },
    ];
    expect(discoverPolicyLinks(links, BASE, 5)).toEqual([]);
  });

  it('returns at most max pages', () => {
    const links = [
      { href: '/refunds', text: 'Refunds' },
      { href: '/terms', text: 'Terms' },
      { href: '/privacy', text: 'Privacy' },
      { href: '/contact', text: 'Contact' },
    ];
    expect(discoverPolicyLinks(links, BASE, 2).map((l) => l.url)).toEqual([
      'https://shop.example.com/refunds',
      'https://shop.example.com/terms',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../../src/risk-api/html-entities.js';
import { MAX_LINKS, extractPage } from '../../../src/risk-api/html-text.js';

describe('decodeEntities', () => {
  it.each([
    ['Terms &amp; Conditions', 'Terms & Conditions'],
    ['&lt;b&gt; &quot;x&quot; &apos;y&apos;', '<b> "x" \'y\''],
    ['Refund&nbsp;policy', 'Refund\u00a0policy'],
    ['&copy; 2024 &mdash; caf&eacute; &euro;5', '© 2024 — café €5'],
    ['&#82;efund &#x52;eturns &#X72;', 'Refund Returns r'],
    ['&#128;&#x99;', '€™'], // windows-1252 remapping of C1 references
    ['&#0; &#xD800; &#x110000;', '\ufffd \ufffd \ufffd'],
    ['AT&T &amp &copy x', 'AT&T & © x'], // legacy names work without ';', others stay
    ['&unknown; &constructor; &toString;', '&unknown; &constructor; &toString;'],
    ['&hellip &hellip;', '&hellip …'],
  ])('%s', (input, expected) => {
    expect(decodeEntities(input)).toBe(expected);
  });
});

describe('extractPage', () => {
  it('drops scripts, styles, comments and hidden content, keeps visible text and the title', () => {
    const page = extractPage(`<!DOCTYPE html><html><head><title>Acme &amp; Co</title>
      <style>.refund{color:red}</style><script>var privacy = "privacy policy";</script></head>
      <body><!-- terms of service --><h1>Welcome</h1><p>Free&nbsp;returns on <b>all</b> orders.</p>
      <noscript>enable javascript for the refund policy</noscript><template><p>terms</p></template>
      <svg><text>privacy</text></svg><SCRIPT type="x">cookies</SCRIPT ><p>Bye</p></body></html>`);
    expect(page.title).toBe('Acme & Co');
    expect(page.text).toBe('Acme & Co\nWelcome\nFree returns on all orders.\nBye');
  });

  it('collects links with their visible text and decoded href', () => {
    const page = extractPage(`<a href="/terms?a=1&amp;b=2">Terms &amp; Conditions</a>
      <a class=x href='/privacy'>Privacy <span>policy</span></a><a href=/contact>Contact<br>us</a><a name="top">no href</a>
      <a title="it's" href="/refunds">Refunds</a>`);
    expect(page.links).toEqual([
      { href: '/terms?a=1&b=2', text: 'Terms & Conditions' },
      { href: '/privacy', text: 'Privacy policy' },
      { href: '/contact', text: 'Contact us' },
      { href: '/refunds', text: 'Refunds' },
    ]);
  });

  it('keeps a bare "<" in text and stops cleanly at a tag cut off by the byte cap', () => {
    expect(extractPage('<p>a < b and 3<4</p>').text).toBe('a < b and 3<4');
    expect(extractPage('<p>refund policy</p><a href="/ter').text).toBe('refund policy');
  });

  it('keeps at most MAX_LINKS links', () => {
    expect(extractPage('<a href="/x">x</a>'.repeat(MAX_LINKS + 50)).links).toHaveLength(MAX_LINKS);
  });

  it('stays linear on hostile markup (unclosed scripts, endless comments, many "<")', () => {
    const hostile = [
      '<script>'.repeat(50_000),
      '<!--'.repeat(50_000),
      '<a '.repeat(50_000),
      '<'.repeat(200_000),
      '<p title="'.repeat(30_000),
    ];
    for (const html of hostile) {
      const t0 = performance.now();
      extractPage(html);
      // Quadratic behaviour on these inputs would take minutes; linear takes milliseconds.
      expect(performance.now() - t0).toBeLessThan(1_000);
    }
  });
});

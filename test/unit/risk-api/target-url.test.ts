import { describe, expect, it } from 'vitest';
import { PayFluxError } from '../../../src/errors.js';
import { normaliseUrl } from '../../../src/risk-api/target-url.js';

describe('normaliseUrl', () => {
  it.each([
    ['shop.example.com', 'https://shop.example.com/'],
    ['  shop.example.com/about  ', 'https://shop.example.com/about'],
    ['//shop.example.com/x', 'https://shop.example.com/x'],
    ['HTTP://Shop.Example.COM', 'http://shop.example.com/'],
    ['https://shop.example.com:443/', 'https://shop.example.com/'],
    ['http://shop.example.com:80/a', 'http://shop.example.com/a'],
    ['https://shop.example.com./', 'https://shop.example.com/'],
    ['https://shop.example.com/a#reviews', 'https://shop.example.com/a'],
    ['https://shop.example.com/?', 'https://shop.example.com/'],
    ['https://shop.example.com/p?id=1&b=2', 'https://shop.example.com/p?id=1&b=2'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    ['shop.example.com:8443', 'https://shop.example.com:8443/'],
    ['http://2130706433/', 'http://127.0.0.1/'],
    ['http://0x7f.1/', 'http://127.0.0.1/'],
    ['http://0177.0.0.01/', 'http://127.0.0.1/'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', 'http://[::ffff:7f00:1]/'],
    ['https:\\\\shop.example.com\\terms', 'https://shop.example.com/terms'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseUrl(input).href).toBe(expected);
  });

  it('keeps non-http schemes for the guard to refuse (403), rather than calling them invalid', () => {
    expect(normaliseUrl('file:///etc/passwd').protocol).toBe('file:');
    expect(normaliseUrl('javascript:alert(1)').protocol).toBe('javascript:');
    expect(normaliseUrl('gopher://127.0.0.1:6379/_x').protocol).toBe('gopher:');
  });

  it.each(
    [
      [undefined, 'url must be a string'],
      [42, 'url must be a string'],
      ['', 'url is required'],
      ['   ', 'url is required'],
      ['https://exa mple.com/', 'whitespace'],
      ['https://exa\tmple.com/', 'whitespace or control'],
      ['https://example.com/\u0000', 'whitespace or control'],
      ['http://[::1/', 'not a valid URL'],
      ['http://[::1%25eth0]/', 'not a valid URL'],
      ['https://', 'not a valid URL'],
      ['http://exa<mple.com/', 'not a valid URL'],
      ['https://example.com/' + 'a'.repeat(2100), 'longer than 2048'],
    ].map(([input, message]) => [message, input] as const),
  )('rejects a URL: %s', (message, input) => {
    let caught: unknown;
    try {
      normaliseUrl(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PayFluxError);
    const err = caught as PayFluxError;
    expect(err.code).toBe('PF_ERR_VALIDATION');
    expect(err.status).toBe(400);
    expect(err.field).toBe('url');
    expect(err.message).toContain(message);
  });
});

import { describe, expect, it } from 'vitest';
import { PayFluxError } from '../../../src/errors.js';
import { createCallerIdentifier } from '../../../src/risk-api/caller.js';
import { clientBucket } from '../../../src/http/client-address.js';

const KEYS = ['pf_test_abcdefgh12', 'pf_live_zyxwvuts98'];

describe('createCallerIdentifier', () => {
  const ids = createCallerIdentifier(KEYS, false);

  it('maps no key to ANONYMOUS per client IP, pf_test_ to FREE and pf_live_ to PRO', () => {
    expect(ids.identify({}, '203.0.113.5')).toEqual({ tier: 'ANONYMOUS', bucket: 'ip:203.0.113.5', keyId: null });
    expect(ids.identify({ 'x-payflux-key': '' }, '203.0.113.5').tier).toBe('ANONYMOUS');
    const free = ids.identify({ 'x-payflux-key': 'pf_test_abcdefgh12' }, '203.0.113.5');
    expect(free.tier).toBe('FREE');
    expect(free.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(free.bucket).toMatch(/^key:[0-9a-f]{32}$/);
    expect(JSON.stringify(free)).not.toContain('abcdefgh');
    expect(ids.identify({ 'x-payflux-key': ' pf_live_zyxwvuts98 ' }, '203.0.113.5').tier).toBe('PRO');
  });

  it.each([['pf_live_unknown123'], ['pf_test_abcdefgh1'], ['PF_TEST_ABCDEFGH12'], ['x']])(
    'refuses the unconfigured key %s with 401',
    (key) => {
      expect(() => ids.identify({ 'x-payflux-key': key }, '1.2.3.4')).toThrow(PayFluxError);
      try {
        ids.identify({ 'x-payflux-key': key }, '1.2.3.4');
      } catch (err) {
        expect((err as PayFluxError).status).toBe(401);
      }
    },
  );

  it('refuses a repeated key header', () => {
    expect(() => ids.identify({ 'x-payflux-key': ['pf_test_abcdefgh12', 'pf_test_abcdefgh12'] }, '1.2.3.4')).toThrow(
      /one x-payflux-key/,
    );
  });
});

describe('clientBucket', () => {
  it('uses the socket address unless the proxy is trusted', () => {
    expect(clientBucket({ 'x-forwarded-for': '198.51.100.1' }, '10.0.0.2', false)).toBe('10.0.0.2');
    // The right-most entry is the one our proxy appended; the client wrote the rest.
    expect(clientBucket({ 'x-forwarded-for': 'spoofed-by-client, 198.51.100.1, 203.0.113.9' }, '10.0.0.2', true)).toBe(
      '203.0.113.9',
    );
    expect(clientBucket({ 'x-forwarded-for': ['198.51.100.1', '203.0.113.9'] }, '10.0.0.2', true)).toBe('203.0.113.9');
    expect(clientBucket({ 'x-forwarded-for': '198.51.100.1, junk' }, '10.0.0.2', true)).toBe('10.0.0.2');
    expect(clientBucket({ 'x-forwarded-for': 'junk' }, '10.0.0.2', true)).toBe('10.0.0.2');
  });

  it('unmaps IPv4-mapped addresses and groups IPv6 clients by /64', () => {
    expect(clientBucket({}, '::ffff:203.0.113.9', false)).toBe('203.0.113.9');
    expect(clientBucket({}, '2001:db8:1:2:aaaa::1', false)).toBe('2001:db8:1:2::/64');
    expect(clientBucket({}, '2001:db8:1:2:bbbb::7', false)).toBe('2001:db8:1:2::/64');
  });
});

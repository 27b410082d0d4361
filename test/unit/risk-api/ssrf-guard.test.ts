import { describe, expect, it } from 'vitest';
import { parseAllowList } from '../../../src/risk-api/address-policy.js';
import { BlockedTargetError, UnreachableTargetError } from '../../../src/errors.js';
import { createSsrfGuard, type ResolvedAddress } from '../../../src/risk-api/ssrf-guard.js';

function fakeResolver(answers: Record<string, string[] | Error>) {
  const calls: string[] = [];
  const resolver = async (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    const a = answers[host];
    if (a === undefined) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    if (a instanceof Error) throw a;
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { calls, resolver, answers };
}

function guardWith(answers: Record<string, string[] | Error>, allow: string[] = []) {
  let clock = 1_000_000;
  const fake = fakeResolver(answers);
  const guard = createSsrfGuard({
    allowList: parseAllowList(allow),
    resolver: fake.resolver,
    verdictTtlMs: 5_000,
    maxEntries: 3,
    now: () => clock,
  });
  return { guard, fake, advance: (ms: number) => (clock += ms) };
}

async function refusal(p: Promise<unknown>): Promise<BlockedTargetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BlockedTargetError);
  return err as BlockedTargetError;
}

describe('createSsrfGuard', () => {
  it('passes a public name and returns the addresses to pin', async () => {
    const { guard } = guardWith({ 'shop.example.com': ['93.184.216.34', '2606:2800:220:1::248'] });
    const t = await guard.check(new URL('https://shop.example.com/'));
    expect(t.host).toBe('shop.example.com');
    expect(t.addresses).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::248', family: 6 },
    ]);
  });

  it('refuses a name that resolves to a private address, even next to a public one', async () => {
    const { guard } = guardWith({
      'a.example.com': ['10.0.0.5'],
      'b.example.com': ['93.184.216.34', '169.254.169.254'],
    });
    expect((await refusal(guard.check(new URL('https://a.example.com/')))).reason).toBe('address');
    const b = await refusal(guard.check(new URL('https://b.example.com/')));
    expect(b.detail).toContain('metadata');
    // The caller learns the reason, not what the name resolved to.
    expect(b.message).toBe('the target is not allowed (address)');
  });

  it('checks scheme, credentials, port and name shape before any lookup', async () => {
    const { guard, fake } = guardWith({});
    const cases: [string, string][] = [
      ['ftp://example.com/', 'scheme'],
      ['https://u:p@example.com/', 'credentials'],
      ['https://u@example.com/', 'credentials'],
      ['https://example.com:444/', 'port'],
      ['http://example.com:8080/', 'port'],
      ['https://example.com:0/', 'port'],
      ['http://intranet/', 'hostname'],
      ['http://a.localhost/', 'hostname'],
      ['http://db.internal/', 'hostname'],
      ['http://nas.local/', 'hostname'],
      ['http://router.home.arpa/', 'hostname'],
    ];
    for (const [url, reason] of cases) {
      expect(() => guard.precheck(new URL(url)), url).toThrow(BlockedTargetError);
      expect((await refusal(guard.check(new URL(url)))).reason, url).toBe(reason);
    }
    expect(fake.calls).toEqual([]);
  });

  it('never resolves an address literal and judges it directly', async () => {
    const { guard, fake } = guardWith({});
    expect(() => guard.precheck(new URL('http://[::ffff:a00:1]/'))).toThrow(BlockedTargetError);
    expect((await refusal(guard.check(new URL('http://0x0a.1/')))).reason).toBe('address');
    expect((await guard.check(new URL('http://93.184.216.34:443/'))).addresses).toHaveLength(1);
    const ok = await guard.check(new URL('https://93.184.216.34/'));
    expect(ok.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(fake.calls).toEqual([]);
  });

  it('caches a verdict for 5 s, then asks DNS again', async () => {
    const { guard, fake, advance } = guardWith({ 'shop.example.com': ['93.184.216.34'] });
    await guard.check(new URL('https://shop.example.com/'));
    fake.answers['shop.example.com'] = ['10.0.0.1']; // rebinding attempt
    await guard.check(new URL('https://shop.example.com/terms'));
    expect(fake.calls).toHaveLength(1);
    advance(5_001);
    await refusal(guard.check(new URL('https://shop.example.com/')));
    expect(fake.calls).toHaveLength(2);
  });

  it('caches refusals too, and bounds the verdict cache', async () => {
    const { guard, fake } = guardWith({
      'p.example.com': ['192.168.0.1'],
      'x1.example.com': ['8.8.8.8'],
      'x2.example.com': ['8.8.4.4'],
      'x3.example.com': ['1.1.1.1'],
    });
    await refusal(guard.check(new URL('https://p.example.com/')));
    await refusal(guard.check(new URL('https://p.example.com/')));
    expect(fake.calls).toEqual(['p.example.com']);
    for (const h of ['x1', 'x2', 'x3']) await guard.check(new URL(`https://${h}.example.com/`));
    await refusal(guard.check(new URL('https://p.example.com/'))); // evicted (max 3): looked up again
    expect(fake.calls.filter((h) => h === 'p.example.com')).toHaveLength(2);
  });

  it('reports a failed or empty lookup as unreachable, not as refused', async () => {
    const { guard } = guardWith({ 'empty.example.com': [] });
    await expect(guard.check(new URL('https://missing.example.com/'))).rejects.toThrow(UnreachableTargetError);
    await expect(guard.check(new URL('https://missing.example.com/'))).rejects.toThrow(/ENOTFOUND/);
    await expect(guard.check(new URL('https://empty.example.com/'))).rejects.toThrow(UnreachableTargetError);
  });

  it('stops waiting for DNS when the scan budget is aborted', async () => {
    const guard = createSsrfGuard({
      allowList: parseAllowList([]),
      resolver: () => new Promise(() => undefined),
      verdictTtlMs: 5_000,
      maxEntries: 10,
      now: () => 0,
    });
    const ac = new AbortController();
    const pending = guard.check(new URL('https://slow.example.com/'), ac.signal);
    ac.abort();
    await expect(pending).rejects.toThrow(/scan budget/);
  });

  it('lets allow-listed hosts and ranges through on any port, but never other schemes or credentials', async () => {
    const { guard } = guardWith({ 'shop.test': ['10.1.1.1'] }, ['127.0.0.1', 'shop.test']);
    expect((await guard.check(new URL('http://127.0.0.1:8080/'))).addresses[0]?.address).toBe('127.0.0.1');
    expect((await guard.check(new URL('http://shop.test:3000/'))).addresses[0]?.address).toBe('10.1.1.1');
    expect((await refusal(guard.check(new URL('http://127.0.0.2:8080/')))).reason).toBe('port');
    expect((await refusal(guard.check(new URL('http://127.0.0.2/')))).reason).toBe('address');
    expect((await refusal(guard.check(new URL('http://u:p@127.0.0.1:8080/')))).reason).toBe('credentials');
    expect(guard.addressPermitted('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(guard.addressPermitted('other.example', '10.1.1.1')).toBe(false);
    expect(guard.addressPermitted('shop.test', '10.1.1.1')).toBe(true);
  });
});

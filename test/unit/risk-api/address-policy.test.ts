import { describe, expect, it } from 'vitest';
import { addressAllowed, blockedRange, hostAllowed, parseAllowList } from '../../../src/risk-api/address-policy.js';

describe('blockedRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.1', 'reserved'],
    ['203.0.113.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'ipv4Mapped'],
    ['::ffff:8.8.8.8', 'ipv4Mapped'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['64:ff9b::808:808', 'rfc6052'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::', '6to4'],
    ['2001::1', 'teredo'],
    ['::7f00:1', 'nonGlobal'],
    ['100::1', 'discard'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['[::1]', 'loopback'],
  ])('%s is refused as %s', (address, range) => {
    expect(blockedRange(address)).toBe(range);
  });

  it.each(['8.8.8.8', '93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:81c::200e'])(
    '%s is public',
    (address) => {
      expect(blockedRange(address)).toBeNull();
    },
  );

  it.each(['0x7f.1', '2130706433', '127.1', '017700000001', 'fe80::1%eth0', 'localhost', ''])(
    'treats non-canonical %j as invalid, never as public',
    (text) => {
      expect(blockedRange(text)).toBe('invalid');
    },
  );
});

describe('allow-list', () => {
  const list = parseAllowList([' Shop.Test. ', '127.0.0.1', '10.20.0.0/16', '::1', '']);

  it('matches host names case-insensitively and without the trailing dot', () => {
    expect(hostAllowed(list, 'shop.test')).toBe(true);
    expect(hostAllowed(list, 'SHOP.TEST')).toBe(true);
    expect(hostAllowed(list, 'evil.shop.test')).toBe(false);
  });

  it('matches single addresses and CIDRs, including IPv4-mapped forms of them', () => {
    expect(addressAllowed(list, '127.0.0.1')).toBe(true);
    expect(addressAllowed(list, '127.0.0.2')).toBe(false);
    expect(addressAllowed(list, '10.20.9.9')).toBe(true);
    expect(addressAllowed(list, '10.21.0.1')).toBe(false);
    expect(addressAllowed(list, '::1')).toBe(true);
    expect(addressAllowed(list, '::ffff:127.0.0.1')).toBe(true);
    expect(addressAllowed(list, 'shop.test')).toBe(false);
  });

  it('is empty by default', () => {
    expect(parseAllowList([]).empty).toBe(true);
    expect(addressAllowed(parseAllowList([]), '127.0.0.1')).toBe(false);
  });
});

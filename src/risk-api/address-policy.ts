/**
 * Which IP addresses a scan may connect to: only global unicast. Everything else — loopback,
 * RFC 1918, link-local (cloud metadata at 169.254.169.254), CGNAT, 0.0.0.0/8, multicast,
 * broadcast, the reserved and documentation blocks, IPv6 ULA (fd00:ec2::254, the AWS IPv6
 * metadata address), IPv4-mapped and -translated forms (NAT64 64:ff9b::/96, 6to4, Teredo) and
 * anything outside 2000::/3 — is refused. The allow-list (`PAYFLUX_RISK_ALLOW_HOSTS`, tests and
 * internal use only) may admit host names, single addresses or CIDRs.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Metadata endpoints get their own verdict so the block log says what was attempted. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

/** 2000::/3 is the only IPv6 space that is globally routed unicast today. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** Parse an address as the resolver or a URL host gives it; brackets and zone ids are refused. */
export function parseAddress(text: string): Address | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Only canonical forms reach here (URL parsing normalises IPv4 shorthand), but a resolver is
  // user code: insist on four-part decimal IPv4 so a value like "0x7f.1" cannot slip through.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes(':') && !bare.includes('%') && ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return null;
}

/**
 * Why `text` may not be connected to, or `null` when it is a global unicast address.
 * The verdict is an ipaddr.js range name (`loopback`, `private`, `linkLocal`, `ipv4Mapped`,
 * `rfc6052`, …), `metadata`, `nonGlobal` or `invalid`.
 */
export function blockedRange(text: string): string | null {
  const addr = parseAddress(text);
  if (addr === null) return 'invalid';
  const normal = addr.toNormalizedString();
  if (METADATA.has(addr.kind() === 'ipv4' ? normal : addr.toString())) return 'metadata';
  if (addr.kind() === 'ipv4') {
    const range = addr.range();
    return range === 'unicast' ? null : range;
  }
  const v6 = addr as ipaddr.IPv6;
  // Mapped addresses are refused whatever they map to: the socket layer would dial the IPv4
  // address behind them, and there is no reason for a merchant to publish one.
  if (v6.isIPv4MappedAddress()) return 'ipv4Mapped';
  const range = v6.range();
  if (range !== 'unicast') return range;
  return v6.match(GLOBAL_UNICAST_V6) ? null : 'nonGlobal';
}

/** The parsed allow-list: lower-case host names and address ranges. */
export interface AllowList {
  readonly hosts: ReadonlySet<string>;
  readonly ranges: readonly (readonly [Address, number])[];
  readonly empty: boolean;
}

/** Build the allow-list from config entries: `host.name`, `10.0.0.1`, `127.0.0.0/8`, `::1`. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const ranges: (readonly [Address, number])[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (ipaddr.isValidCIDR(entry)) {
      ranges.push(ipaddr.parseCIDR(entry));
      continue;
    }
    const addr = parseAddress(entry);
    if (addr !== null) ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    else hosts.add(entry.replace(/\.$/, ''));
  }
  return { hosts, ranges, empty: hosts.size === 0 && ranges.length === 0 };
}

export function hostAllowed(list: AllowList, hostname: string): boolean {
  return list.hosts.has(hostname.toLowerCase());
}

export function addressAllowed(list: AllowList, text: string): boolean {
  if (list.ranges.length === 0) return false;
  const addr = parseAddress(text);
  if (addr === null) return false;
  const forms: Address[] = [addr];
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    forms.push((addr as ipaddr.IPv6).toIPv4Address());
  for (const form of forms) {
    for (const range of list.ranges) {
      if (form.kind() === range[0].kind() && form.match(range as [Address, number])) return true;
    }
  }
  return false;
}

/**
 * The address an unauthenticated caller is rate-limited by: the socket's peer, or with
 * `trustProxy` (PAYFLUX_TRUST_PROXY) the right-most `x-forwarded-for` entry, the one our own
 * proxy wrote. Entries to its left are whatever the client sent: trusting them would let every
 * request name a fresh address and a fresh bucket. One trusted hop: behind a chain of proxies
 * the right-most entry is the outer proxy, and its clients share a bucket (strict, not open).
 * IPv4-mapped IPv6 counts as IPv4; other IPv6 addresses count per /64, since one host commonly
 * owns a /64.
 */
import ipaddr from 'ipaddr.js';

export function clientBucket(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  socketIp: string,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const xff = headers['x-forwarded-for'];
    const list = Array.isArray(xff) ? xff.join(',') : (xff ?? '');
    const bucket = bucketOf(list.slice(list.lastIndexOf(',') + 1).trim());
    if (bucket !== null) return bucket;
  }
  return bucketOf(socketIp) ?? 'unknown';
}

function bucketOf(text: string): string | null {
  if (!ipaddr.isValid(text)) return null;
  let addr = ipaddr.parse(text);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

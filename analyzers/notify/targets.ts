import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/*
 * Addresses no notification has a reason to reach: link-local (where every cloud keeps its instance metadata
 * and credentials: AWS, Azure, GCP, 华为云 169.254.169.254, 腾讯云 169.254.0.23), 阿里云's metadata at
 * 100.100.100.200, AWS's IPv6 metadata, and the unspecified address (which reaches this host). Loopback and
 * private networks stay allowed: a local SMTP relay or webhook forwarder is a documented set-up.
 */
const REFUSED = new BlockList();
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED.addAddress('100.100.100.200', 'ipv4');
REFUSED.addAddress('0.0.0.0', 'ipv4');
REFUSED.addSubnet('fe80::', 10, 'ipv6');
REFUSED.addAddress('fd00:ec2::254', 'ipv6');
REFUSED.addAddress('::', 'ipv6');
// The same IPv4 addresses reached through NAT64 (64:ff9b::/96) or 6to4 (2002::/16), on an IPv6-only network.
REFUSED.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');
REFUSED.addAddress('64:ff9b::6464:64c8', 'ipv6');
REFUSED.addSubnet('2002:a9fe::', 32, 'ipv6');
REFUSED.addSubnet('2002:6464:64c8::', 48, 'ipv6');

export const REFUSED_ADDRESS = 'points at a link-local or cloud metadata address / 指向链路本地或云元数据地址';

/** Whether a host name or IP literal (IPv6 with or without brackets) is one of the refused addresses. */
export function isRefusedHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  // BlockList matches an IPv4-mapped IPv6 address (::ffff:a9fe:a9fe) against the IPv4 rules too.
  return family !== 0 && REFUSED.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The code of the error a guarded lookup fails with; failureReason shows REFUSED_ADDRESS for it. */
export const REFUSED_CODE = 'SW_REFUSED_ADDRESS';

export type ResolveAll = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A socket lookup that refuses a name resolving to a refused address. The check at start sees only the name: a DNS
 * answer (or a rebinding one, changed after start) can still point it at the metadata service. Checked here, on the
 * addresses the socket then connects to, nothing can come between the check and the connection.
 */
export function guardedLookup(resolve: ResolveAll = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      const done = callback as (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
      if (error) return done(error, '', 0);
      if (addresses.length === 0 || addresses.some(({ address }) => isRefusedHost(address))) {
        return done(Object.assign(new Error(`${hostname}: ${REFUSED_ADDRESS}`), { code: REFUSED_CODE }), '', 0);
      }
      if (options.all) return done(null, addresses);
      return done(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** The addresses of `host` a connection may use, through guardedLookup; rejects (code REFUSED_CODE) otherwise. */
export function allowedAddresses(host: string, resolve?: ResolveAll): Promise<LookupAddress[]> {
  return new Promise((done, failed) => {
    guardedLookup(resolve)(host, { all: true }, ((error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) =>
      (error ? failed(error) : done(addresses))) as never);
  });
}

/** Why a channel URL is refused, or undefined; never quotes the URL (it may carry a key). */
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute URL / 不是完整的网址';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'is not an http(s) URL / 不是 http(s) 网址';
  if (isRefusedHost(parsed.hostname)) return REFUSED_ADDRESS;
  return undefined;
}

import { BlockList, isIP } from 'node:net';

/**
 * Where webhook deliveries may go. A subscription's URL is chosen by whoever holds a manager key,
 * and the deliveries leave from inside the deployment: without a policy, a URL naming a private
 * address would make Chronicle probe the internal network or a cloud metadata service (SSRF).
 * So addresses that are not publicly routable are refused unless WEBHOOK_ALLOWED_HOSTS names the
 * host, the address or a CIDR containing it. The check is made on every address a name resolves
 * to at delivery time, so a name that later resolves elsewhere (DNS rebinding) is caught too.
 */

/** Not publicly routable: loopback, private, link-local (cloud metadata), shared, multicast, reserved. */
const NOT_PUBLIC: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
];

const notPublic = new BlockList();
for (const [network, prefix, family] of NOT_PUBLIC) notPublic.addSubnet(network, prefix, family);

/** `::ffff:127.0.0.1` is 127.0.0.1: an IPv4-mapped address is judged as the IPv4 address it carries. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** A host name as URLs carry it: lower case, no trailing dot, IPv6 without brackets. */
const hostOf = (hostname: string) =>
  hostname
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');

export class WebhookUrlPolicy {
  private readonly hosts = new Set<string>();
  private readonly addresses = new BlockList();

  /** `allowed`: WEBHOOK_ALLOWED_HOSTS entries (host names, addresses, CIDRs), already validated. */
  constructor(allowed: readonly string[] = []) {
    for (const entry of allowed) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address);
      if (family === 0) this.hosts.add(hostOf(address));
      else if (prefix === undefined) this.addresses.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
      else this.addresses.addSubnet(address, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** What is wrong with a URL as written (scheme, credentials, an address literal not allowed); undefined when fine. */
  urlProblem(text: string): string | undefined {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'must be an absolute http or https URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
    if (url.username || url.password) return 'must not carry credentials (sign with the secret instead)';
    if (url.hash) return 'must not have a fragment';
    const host = hostOf(url.hostname);
    if (isIP(host) !== 0) return this.addressProblem(host, host);
    if ((host === 'localhost' || host.endsWith('.localhost')) && !this.hosts.has(host))
      return `${host} is a loopback name; WEBHOOK_ALLOWED_HOSTS must name it`;
    return undefined;
  }

  /** Whether `host` may be reached at `address` (one it resolved to); the reason when not. */
  addressProblem(host: string, address: string): string | undefined {
    if (this.hosts.has(hostOf(host))) return undefined;
    const { address: ip, family } = normalise(address);
    if (this.addresses.check(ip, family)) return undefined;
    if (notPublic.check(ip, family))
      return `${hostOf(host)} resolves to ${address}, which is not a public address; WEBHOOK_ALLOWED_HOSTS must name the host or the address`;
    return undefined;
  }
}

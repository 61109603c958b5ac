import { isIP } from 'node:net';
import { ecsFields } from './ecs.js';
import type { EcsFields } from './types.js';

/**
 * What every boundary decoder (netfilter, CEF, LEEF, key=value, the vendors' own formats) fills the same
 * way: the connection's addresses and ports, the transport, the device's verdict (allow/deny) and rule,
 * and the device as `observer`. Values that are not what their ECS type says (an address that is no IP,
 * a port past 65535) are left out, so the stores always take the event.
 */
export interface Connection {
  dataset: string;
  vendor?: string;
  product?: string;
  version?: string;
  sourceIp?: string;
  sourcePort?: string | number;
  destinationIp?: string;
  destinationPort?: string | number;
  /** A name (`TCP`) or an IANA protocol number (`6`). */
  transport?: string;
  /** The device's own word for what it did (`DROP`, `permit`, `拒绝`…). */
  verdict?: string;
  ruleName?: string;
  ruleId?: string;
  ingressInterface?: string;
  egressInterface?: string;
  sourceZone?: string;
  destinationZone?: string;
  user?: string;
}

// IANA protocol numbers of the transports a firewall names by number.
const IANA_PROTOCOLS: Record<string, string> = {
  '1': 'icmp', '2': 'igmp', '6': 'tcp', '17': 'udp', '41': 'ipv6', '47': 'gre', '50': 'esp', '51': 'ah', '58': 'ipv6-icmp', '132': 'sctp',
};

export function transportName(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const text = value.trim().toLowerCase();
  if (/^\d{1,3}$/.test(text)) return IANA_PROTOCOLS[String(Number(text))] ?? text;
  return /^[a-z][a-z0-9_-]{0,15}$/.test(text) ? text : undefined;
}

export function portNumber(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

export function ipAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  return isIP(text) ? text : undefined;
}

const DENY = /deny|denied|drop|reject|block|discard|refuse|prevent|拒绝|阻断|丢弃|阻止|禁止/i;
const ALLOW = /accept|allow|permit|pass|forward|允许|放行|通过/i;

/** `allow`, `deny`, or undefined when the device's word says neither (a log-only rule). */
export function verdictOf(word: string | undefined): 'allow' | 'deny' | undefined {
  if (!word) return undefined;
  if (DENY.test(word)) return 'deny';
  if (ALLOW.test(word)) return 'allow';
  return undefined;
}

/** The ECS fields of one connection a boundary device logged. */
export function connectionFields(c: Connection): EcsFields {
  const verdict = verdictOf(c.verdict);
  const sourceIp = ipAddress(c.sourceIp);
  const destinationIp = ipAddress(c.destinationIp);
  return ecsFields({
    'event.kind': 'event',
    'event.dataset': c.dataset,
    'event.module': c.dataset.split('.')[0],
    'event.category': ['network'],
    'event.type': verdict === 'deny' ? ['connection', 'denied'] : verdict === 'allow' ? ['connection', 'allowed'] : ['connection'],
    'event.action': verdict ?? (c.verdict ? c.verdict.toLowerCase().slice(0, 64) : undefined),
    'observer.vendor': c.vendor,
    'observer.product': c.product,
    'observer.version': c.version,
    'observer.type': 'firewall',
    'observer.ingress.interface.name': c.ingressInterface,
    'observer.egress.interface.name': c.egressInterface,
    'observer.ingress.zone': c.sourceZone,
    'observer.egress.zone': c.destinationZone,
    'source.ip': sourceIp,
    'source.port': portNumber(c.sourcePort),
    'destination.ip': destinationIp,
    'destination.port': portNumber(c.destinationPort),
    'network.transport': transportName(c.transport),
    'rule.name': c.ruleName,
    'rule.id': c.ruleId,
    'user.name': c.user,
    'related.ip': [sourceIp, destinationIp].filter((ip): ip is string => ip !== undefined),
  });
}

import { connectionFields } from './network-fields.js';
import type { EcsFields } from './types.js';

/**
 * Generic key=value firewall logs (the shape of many boundary devices' syslog: `src=… dst=… sport=…
 * dport=… proto=… action=…`, values optionally quoted). Only a message that names both a source and
 * a destination address under one of the usual keys is read as one; anything else stays plain syslog.
 */

const PAIR = /(?:^|[\s,;])([A-Za-z_][\w.-]{0,63})=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;]*)/g;

const KEYS = {
  sourceIp: ['src', 'srcip', 'src_ip', 'source_ip', 'source-ip', 'sip', 'saddr', 'srcaddr', 'src_addr', 'source_address'],
  destinationIp: ['dst', 'dstip', 'dst_ip', 'destination_ip', 'destination-ip', 'dip', 'daddr', 'dstaddr', 'dst_addr', 'destination_address'],
  sourcePort: ['sport', 'srcport', 'src_port', 'spt', 'source_port', 'source-port', 's_port'],
  destinationPort: ['dport', 'dstport', 'dst_port', 'dpt', 'destination_port', 'destination-port', 'd_port'],
  transport: ['proto', 'protocol', 'ip_protocol', 'transport'],
  verdict: ['action', 'act', 'verdict', 'policy_action', 'status', 'op', 'result'],
  ruleName: ['rule', 'rule_name', 'rulename', 'rule-name', 'policy', 'policy_name', 'policyname', 'fw_rule_name'],
  ruleId: ['rule_id', 'ruleid', 'policyid', 'policy_id', 'fw_rule_id'],
  sourceZone: ['srczone', 'src_zone', 'source_zone', 'source-zone', 'from_zone'],
  destinationZone: ['dstzone', 'dst_zone', 'destination_zone', 'destination-zone', 'to_zone'],
  user: ['user', 'username', 'user_name', 'usr'],
  vendor: ['vendor', 'device_vendor'],
  product: ['product', 'device_product', 'device'],
} as const;

/** The pairs of a key=value message (first value wins), quotes taken off; keys in lower case. */
export function parsePairs(message: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const [, key, raw] of message.matchAll(PAIR)) {
    const name = key!.toLowerCase();
    if (pairs.has(name)) continue;
    const value = raw!.startsWith('"') && raw!.length >= 2 ? raw!.slice(1, -1).replace(/\\(.)/g, '$1') : raw!.startsWith("'") && raw!.length >= 2 ? raw!.slice(1, -1) : raw!;
    pairs.set(name, value);
  }
  return pairs;
}

// One test before the full pair scan, which most syslog messages (PAM's `uid=`, `rhost=`) would pay for nothing.
const SOURCE_KEY = new RegExp(`(?:^|[\\s,;])(?:${KEYS.sourceIp.join('|')})=`, 'i');

export function decodeKvFirewall(message: string): EcsFields | undefined {
  if (!message.includes('=') || !SOURCE_KEY.test(message)) return undefined;
  const pairs = parsePairs(message);
  if (pairs.size < 3) return undefined;
  const first = (keys: readonly string[]) => {
    for (const key of keys) {
      const value = pairs.get(key);
      if (value !== undefined && value !== '') return value;
    }
    return undefined;
  };
  const sourceIp = first(KEYS.sourceIp);
  const destinationIp = first(KEYS.destinationIp);
  if (sourceIp === undefined || destinationIp === undefined) return undefined;
  const fields = connectionFields({
    dataset: 'firewall.kv',
    sourceIp, destinationIp,
    sourcePort: first(KEYS.sourcePort),
    destinationPort: first(KEYS.destinationPort),
    transport: first(KEYS.transport),
    verdict: first(KEYS.verdict),
    ruleName: first(KEYS.ruleName),
    ruleId: first(KEYS.ruleId),
    sourceZone: first(KEYS.sourceZone),
    destinationZone: first(KEYS.destinationZone),
    user: first(KEYS.user),
    vendor: first(KEYS.vendor),
    product: first(KEYS.product),
  });
  // Both addresses must be addresses: `src=config.yaml dst=backup/` is some other program's message.
  const source = fields.source as { ip?: string } | undefined;
  const destination = fields.destination as { ip?: string } | undefined;
  return source?.ip && destination?.ip ? fields : undefined;
}

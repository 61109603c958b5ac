import { isPlainObject, recordShapeProblem } from '../../core/index.js';
import { connectionFields, ipAddress, portNumber } from './network-fields.js';
import { merge } from './cef.js';
import { ecsFields } from './ecs.js';
import type { RecordResult } from './types.js';

/**
 * Suricata EVE JSON (docs.suricata.io, "Eve JSON Format"), one event per line, → ECS the way Filebeat's
 * suricata module maps it: the 5-tuple, `event.kind: alert` with `rule.*` for alerts, `url/http.*`,
 * `dns.*`, `tls.*`, flow counters; the whole record stays under `suricata.eve`. `flow_id` is a 64-bit
 * integer that JSON numbers cannot hold exactly, so it is read from the text.
 */

type Doc = Record<string, unknown>;
const obj = (value: unknown): Doc => (isPlainObject(value) ? value : {});
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

const FLOW_ID = /"flow_id"\s*:\s*(\d{1,20})/;
const EVENT_TYPES = new Set(['alert', 'http', 'dns', 'tls', 'flow', 'anomaly', 'fileinfo', 'drop', 'netflow', 'ssh', 'smtp', 'stats']);

/** `2026-11-26T10:00:00.123456+0800` → an ISO time; undefined when it is no time. */
export function eveTime(text: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (!m) return undefined;
  const zone = m[3] === 'Z' ? 'Z' : `${m[3]!.slice(0, 3)}:${m[3]!.slice(-2)}`;
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '0').padEnd(3, '0').slice(0, 3)}${zone}`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function decodeSuricataEve(line: string): RecordResult {
  let eve: unknown;
  try {
    eve = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(eve)) return { ok: false, reason: 'EVE record is not a JSON object' };
  // The record is kept whole under suricata.eve: it must fit the store's limits of depth and width.
  const problem = recordShapeProblem(eve);
  if (problem) return { ok: false, reason: problem };
  const type = str(eve.event_type);
  if (type === undefined) return { ok: false, reason: 'EVE record has no event_type' };
  if (!EVENT_TYPES.has(type)) return { ok: false, reason: `EVE event_type is not one Shouwang reads: ${JSON.stringify(type.slice(0, 40))}` };
  const timestamp = typeof eve.timestamp === 'string' ? eveTime(eve.timestamp) : undefined;
  if (!timestamp) return { ok: false, reason: `EVE timestamp is not a time: ${JSON.stringify(String(eve.timestamp).slice(0, 40))}` };
  const alert = obj(eve.alert);
  const blocked = type === 'drop' || str(alert.action) === 'blocked';
  const base = connectionFields({
    dataset: 'suricata.eve', vendor: 'OISF', product: 'Suricata',
    sourceIp: str(eve.src_ip), destinationIp: str(eve.dest_ip),
    sourcePort: str(eve.src_port), destinationPort: str(eve.dest_port),
    transport: str(eve.proto),
    ...(type === 'alert' || type === 'drop' ? { verdict: blocked ? 'blocked' : 'allowed' } : {}),
  });
  const event = base.event as Doc;
  event.type = type === 'alert' ? [blocked ? 'denied' : 'allowed'] : type === 'flow' ? ['connection', 'end'] : type === 'http' ? ['access', 'protocol'] : ['protocol'];
  event.category = type === 'alert' ? ['network', 'intrusion_detection'] : type === 'http' ? ['network', 'web'] : ['network'];
  event.kind = type === 'alert' ? 'alert' : type === 'anomaly' ? 'alert' : 'event';
  event.action = type === 'alert' ? (blocked ? 'blocked' : 'allowed') : type;
  (base.observer as Doc).type = 'ids';
  const http = obj(eve.http);
  const dns = obj(eve.dns);
  const query = obj(Array.isArray(dns.queries) ? dns.queries[0] : undefined);
  const tls = obj(eve.tls);
  const flow = obj(eve.flow);
  const anomaly = obj(eve.anomaly);
  const flowId = FLOW_ID.exec(line)?.[1];
  const severity = num(alert.severity);
  const extra = ecsFields({
    '@timestamp': timestamp,
    'event.severity': type === 'alert' ? severity : undefined,
    'event.reason': str(anomaly.event),
    'rule.id': str(alert.signature_id),
    'rule.name': str(alert.signature),
    'rule.category': str(alert.category),
    'network.protocol': str(eve.app_proto)?.toLowerCase(),
    'network.community_id': str(eve.community_id),
    'observer.ingress.interface.name': str(eve.in_iface),
    'url.original': str(http.url),
    'url.domain': str(http.hostname),
    'http.request.method': str(http.http_method),
    'http.response.status_code': num(http.status),
    'http.response.body.bytes': num(http.length),
    'user_agent.original': str(http.http_user_agent),
    'dns.type': str(dns.type),
    'dns.id': str(dns.id),
    'dns.question.name': str(dns.rrname) ?? str(query.rrname),
    'dns.question.type': str(dns.rrtype) ?? str(query.rrtype),
    'dns.response_code': str(dns.rcode),
    'tls.version': str(tls.version),
    'tls.client.server_name': str(tls.sni),
    'tls.server.subject': str(tls.subject),
    'tls.server.issuer': str(tls.issuerdn),
    'tls.server.ja3s.hash': str(obj(tls.ja3s).hash),
    'tls.client.ja3.hash': str(obj(tls.ja3).hash),
    'source.packets': num(flow.pkts_toserver),
    'source.bytes': num(flow.bytes_toserver),
    'destination.packets': num(flow.pkts_toclient),
    'destination.bytes': num(flow.bytes_toclient),
    'event.start': typeof flow.start === 'string' ? eveTime(flow.start) : undefined,
    'event.end': typeof flow.end === 'string' ? eveTime(flow.end) : undefined,
    'suricata.eve': { ...eve, ...(flowId ? { flow_id: flowId } : {}) },
    message: type === 'alert' ? str(alert.signature) : type === 'anomaly' ? `${str(anomaly.type) ?? 'anomaly'}: ${str(anomaly.event) ?? ''}` : undefined,
  });
  // A port or address Suricata left out (ICMP) is not there; one that is not valid never reaches the store.
  if (ipAddress(str(eve.src_ip)) === undefined && eve.src_ip !== undefined) return { ok: false, reason: `EVE src_ip is not an IP address: ${JSON.stringify(String(eve.src_ip).slice(0, 40))}` };
  if (eve.dest_port !== undefined && portNumber(str(eve.dest_port)) === undefined) return { ok: false, reason: `EVE dest_port is not a port: ${JSON.stringify(String(eve.dest_port).slice(0, 20))}` };
  return { ok: true, fields: merge(base, extra) };
}

import {
  eventId, isPlainObject, recordShapeProblem, typedFieldProblem, type AssetIndex, type ShouwangEvent,
} from '../../core/index.js';
import { assetTags, recordAssetTags, tagSensitiveTables } from '../enrich.js';
import { decodeBoundaryMessage, isRecordTag } from './boundary-messages.js';
import { decodeMessage } from './messages.js';
import { RECORD_FORMATS, type RecordFormat } from './record-formats.js';
import { decodeSyslogLine, type DecodeContext } from './syslog-line.js';
import { decodeWindowsDoc, isWindowsEvent } from './windows-event.js';

/**
 * One line (or joined record) → one event, for each kind of line: syslog or NDJSON (`decodeLine`),
 * a record format (`decodeRecordLine`), a generic JSON event (`decodeJsonEvent`). Sources do not call
 * these directly: `resolveFormat` picks one per source and adds what every source shares.
 */

/** The sender of a network message (syslog relay, HTTP client). */
export interface Peer {
  address: string;
  port?: number;
}

export interface Line {
  text: string;
  /** Where the line came from inside its source; with the source it makes the event id. */
  position: string;
}

export type Decoded = { ok: true; event: ShouwangEvent } | { ok: false; reason: string };

/**
 * A line of JSON that must be one object (`noun` names it in the reason: line, record), within
 * RECORD_LIMITS and with the typed ECS fields of their type, so the stores will take it.
 */
export function parseJsonObject(text: string, noun: string): { ok: true; doc: Record<string, unknown> } | { ok: false; reason: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(doc)) return { ok: false, reason: `JSON ${noun} is not an object` };
  const problem = recordShapeProblem(doc) ?? typedFieldProblem(doc);
  return problem ? { ok: false, reason: problem } : { ok: true, doc };
}

/**
 * Runs a decoder so that nothing it throws escapes: decoders promise not to throw (decoders/types.ts),
 * and if one ever does on some input, that input becomes a dead letter instead of failing its batch.
 */
export function decodeGuarded(decode: () => Decoded): Decoded {
  try {
    return decode();
  } catch (error) {
    return { ok: false, reason: `decoder failed: ${(error as Error)?.message ?? String(error)}` };
  }
}

/** One line → one event: JSON documents as they are, syslog lines into ECS fields. */
export function decodeLine(line: Line, source: string, assets: AssetIndex, context: DecodeContext, peer?: Peer): Decoded {
  return decodeGuarded(() => decodeLineUnguarded(line, source, assets, context, peer));
}

function decodeLineUnguarded(line: Line, source: string, assets: AssetIndex, context: DecodeContext, peer?: Peer): Decoded {
  const id = eventId(source, line.position);
  const ingested = isoOf(context.now);
  if (line.text.trimStart().startsWith('{')) {
    const parsed = parseJsonObject(line.text, 'line');
    if (!parsed.ok) return parsed;
    const { doc } = parsed;
    if (isWindowsEvent(doc)) return windowsEvent(doc, line, source, assets, context, peer);
    const timestamp = doc['@timestamp'];
    if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) {
      return { ok: false, reason: 'JSON line has no valid @timestamp' };
    }
    const host = isPlainObject(doc.host) ? doc.host : {};
    const hostName = typeof host.name === 'string' ? host.name : undefined;
    const ips = Array.isArray(host.ip) ? host.ip.filter((ip): ip is string => typeof ip === 'string') : typeof host.ip === 'string' ? [host.ip] : [];
    return {
      ok: true,
      event: {
        ...doc,
        id,
        '@timestamp': new Date(timestamp).toISOString(),
        event: { ...(isPlainObject(doc.event) ? doc.event : {}), ingested },
        shouwang: { ...assetTags(assets, hostName, ...ips, peer?.address), source },
        ...(peer ? { log: { ...(isPlainObject(doc.log) ? doc.log : {}), source: { address: peer.address } } } : {}),
      },
    };
  }
  const decoded = decodeSyslogLine(line.text, context);
  if (!decoded.ok) return decoded;
  const { fields } = decoded;
  // NXLog or Winlogbeat JSON behind a syslog header (om_udp/om_tcp with to_syslog_bsd and to_json): a Windows event.
  if (fields.message.startsWith('{')) {
    const inner = parseJsonObject(fields.message, 'message');
    if (inner.ok && isWindowsEvent(inner.doc)) return windowsEvent(inner.doc, line, source, assets, context, peer, fields.host);
  }
  const input = { message: fields.message, ...(fields.app ? { program: fields.app } : {}) };
  // A boundary device's record (netfilter, CEF, LEEF, key=value, a vendor's own); one that breaks its format is a dead letter.
  const boundary = decodeBoundaryMessage(input);
  if (boundary && !boundary.ok) return boundary;
  // What the program's message says (a failed login, a new user…), on top of the syslog header.
  const understood = boundary ? boundary.fields : decodeMessage(input);
  const event: ShouwangEvent = {
    id,
    '@timestamp': fields.timestamp,
    message: fields.message,
    event: { kind: 'event', dataset: 'syslog', original: line.text, ingested },
    host: { name: fields.host },
    ...(fields.app && !(boundary && isRecordTag(fields.app)) ? { process: { name: fields.app, ...(fields.pid ? { pid: fields.pid } : {}) } } : {}),
    ...(fields.facility !== undefined || peer
      ? {
          log: {
            ...(fields.facility !== undefined ? { syslog: { facility: { code: fields.facility }, severity: { code: fields.severity! } } } : {}),
            // The relay or host that sent it, which may differ from the host named in the message.
            ...(peer ? { source: { address: peer.address } } : {}),
          },
        }
      : {}),
    shouwang: { ...assetTags(assets, fields.host, peer?.address), source },
  };
  if (understood) mergeInto(event, understood);
  return { ok: true, event };
}

/**
 * One record of a format of its own (database audit, access log…) → one event, tagged from the
 * inventory; `host` is the server the source reads (records that name none get it).
 */
export function decodeRecordLine(
  line: Line, source: string, assets: AssetIndex, context: DecodeContext, format: string | RecordFormat, host?: string,
): Decoded {
  return decodeGuarded(() => decodeRecordLineUnguarded(line, source, assets, context, format, host));
}

function decodeRecordLineUnguarded(
  line: Line, source: string, assets: AssetIndex, context: DecodeContext, format: string | RecordFormat, host?: string,
): Decoded {
  const known = typeof format === 'string' ? RECORD_FORMATS[format] : format;
  if (!known) return { ok: false, reason: `unknown format ${String(format)}` };
  const decoded = known.decode(line.text, context);
  if (!decoded.ok) return decoded;
  // Decoders build fresh fields on every call (decoders/types.ts), so the event is completed in place
  // rather than copied: the copy was the largest cost of a record line (collect benchmark).
  const event = decoded.fields as ShouwangEvent;
  event.id = eventId(source, line.position);
  if (typeof event['@timestamp'] !== 'string') event['@timestamp'] = isoOf(context.now);
  event.event = { dataset: known.dataset, ...event.event, original: line.text, ingested: isoOf(context.now) };
  if (host && !event.host?.name) event.host = { ...event.host, name: host };
  event.shouwang = { ...recordAssetTags(assets, event), source };
  tagSensitiveTables(assets, event);
  return { ok: true, event };
}

/**
 * `mergeFields` for an event built just above, whose objects are ours to change: merging in place
 * saves the copies, which were the largest cost of decoding a syslog line (collect benchmark).
 */
function mergeInto(target: Record<string, unknown>, extra: Record<string, unknown>): void {
  for (const key of Object.keys(extra)) {
    const value = extra[key];
    const current = target[key];
    if (isPlainObject(current) && isPlainObject(value)) mergeInto(current, value);
    else target[key] = value;
  }
}

// A batch shares one `now`: format it once, not once per event (it showed in the collect benchmark).
let lastNowMs = Number.NaN;
let lastNowIso = '';
function isoOf(now: Date): string {
  const ms = now.getTime();
  if (ms !== lastNowMs) {
    lastNowMs = ms;
    lastNowIso = now.toISOString();
  }
  return lastNowIso;
}

/** A JSON object as an ECS event: its fields kept, `@timestamp` when given (else now), tagged from the inventory. */
export function decodeJsonEvent(line: Line, source: string, assets: AssetIndex, context: DecodeContext, peer?: Peer): Decoded {
  return decodeGuarded(() => decodeJsonEventUnguarded(line, source, assets, context, peer));
}

function decodeJsonEventUnguarded(line: Line, source: string, assets: AssetIndex, context: DecodeContext, peer?: Peer): Decoded {
  const parsed = parseJsonObject(line.text, 'record');
  if (!parsed.ok) return parsed;
  const { doc } = parsed;
  if (isWindowsEvent(doc)) return windowsEvent(doc, line, source, assets, context, peer);
  const given = doc['@timestamp'];
  let timestamp = context.now.toISOString();
  if (given !== undefined) {
    const parsed = typeof given === 'string' || typeof given === 'number' ? new Date(given) : new Date(Number.NaN);
    if (Number.isNaN(parsed.getTime())) return { ok: false, reason: `@timestamp is not a date: ${JSON.stringify(given)}` };
    timestamp = parsed.toISOString();
  }
  const host = isPlainObject(doc.host) ? doc.host as { name?: unknown; ip?: unknown } : {};
  const ips = Array.isArray(host.ip) ? host.ip.filter((ip): ip is string => typeof ip === 'string') : typeof host.ip === 'string' ? [host.ip] : [];
  const sourceIp = isPlainObject(doc.source) && typeof doc.source.ip === 'string' ? doc.source.ip : undefined;
  return {
    ok: true,
    event: {
      ...doc,
      id: eventId(source, line.position),
      '@timestamp': timestamp,
      event: { ...(isPlainObject(doc.event) ? doc.event : {}), original: line.text, ingested: context.now.toISOString() },
      ...(peer ? { log: { ...(isPlainObject(doc.log) ? doc.log : {}), source: { address: peer.address } } } : {}),
      shouwang: { ...assetTags(assets, typeof host.name === 'string' ? host.name : undefined, ...ips, sourceIp, peer?.address), source },
    },
  };
}

/** A Windows event (Winlogbeat or NXLog JSON) read from a syslog or JSON line, as the windows-event format reads it. */
function windowsEvent(
  doc: Record<string, unknown>, line: Line, source: string, assets: AssetIndex, context: DecodeContext, peer: Peer | undefined, host?: string,
): Decoded {
  const decoded = decodeWindowsDoc(doc, context);
  if (!decoded.ok) return decoded;
  const event = decoded.fields as ShouwangEvent;
  event.id = eventId(source, line.position);
  event.event = { ...event.event, original: line.text, ingested: isoOf(context.now) };
  if (host && !event.host?.name) event.host = { ...event.host, name: host };
  if (peer) event.log = { ...(isPlainObject(event.log) ? event.log : {}), source: { address: peer.address } };
  // The computer that logged it (or the collector that sent it), never the client in source.ip.
  event.shouwang = { ...assetTags(assets, event.host?.name, peer?.address), source };
  return { ok: true, event };
}

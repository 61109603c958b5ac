import {
  eventId, isPlainObject, recordShapeProblem, typedFieldProblem, type AssetIndex, type ShouwangEvent,
} from '../core/index.js';
import { decodeMessage } from './decoders/messages.js';
import { RECORD_FORMATS, type RecordFormat } from './record-formats.js';
import type { EventStore } from '../store/index.js';
import { deadLetter, type DeadLetter, type DeadLetterSink } from './dead-letter.js';
import { assetTags, recordAssetTags } from './enrich.js';
import { countIngest, type IngestMetrics } from './metrics.js';
import { decodeSyslogLine, type DecodeContext } from './syslog-line.js';
import type { Peer } from './sources/syslog-server.js';

export interface Line {
  text: string;
  /** Where the line came from inside its source; with the source it makes the event id. */
  position: string;
}

export interface IngestOptions {
  source: string;
  store: EventStore;
  assets: AssetIndex;
  deadLetters: DeadLetterSink;
  metrics?: IngestMetrics;
  batchSize?: number;
  utcOffset?: string;
  now?: Date;
  /** `auto` (default): NDJSON or syslog per line; otherwise one of RECORD_FORMATS, or one built by `recordFormat`. */
  format?: string | RecordFormat;
  /** The server the records come from, for records that name none (database audit): maps them to their system. */
  host?: string;
  /** Sees each batch before it is stored: the stream matcher of the analyzers. */
  observe?: (events: readonly ShouwangEvent[]) => void;
}

export interface IngestStats {
  lines: number;
  written: number;
  duplicates: number;
  deadLettered: number;
}

type Decoded = { ok: true; event: ShouwangEvent } | { ok: false; reason: string };

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
  // What the program's message says (a failed login, a new user…), on top of the syslog header.
  const understood = decodeMessage({ message: fields.message, ...(fields.app ? { program: fields.app } : {}) });
  const event: ShouwangEvent = {
    id,
    '@timestamp': fields.timestamp,
    message: fields.message,
    event: { kind: 'event', dataset: 'syslog', original: line.text, ingested },
    host: { name: fields.host },
    ...(fields.app ? { process: { name: fields.app, ...(fields.pid ? { pid: fields.pid } : {}) } } : {}),
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

/** Decodes, enriches and writes lines in batches; what cannot be stored becomes a dead letter. */
export async function ingestLines(lines: AsyncIterable<Line> | Iterable<Line>, options: IngestOptions): Promise<IngestStats> {
  const context: DecodeContext = { utcOffset: options.utcOffset ?? '+08:00', now: options.now ?? new Date() };
  const batchSize = options.batchSize ?? 500;
  const stats: IngestStats = { lines: 0, written: 0, duplicates: 0, deadLettered: 0 };
  const count = (outcome: string, n: number) => options.metrics?.lines.inc({ source: options.source, outcome }, n);
  let events: ShouwangEvent[] = [];
  let letters: DeadLetter[] = [];
  const raw = new Map<string, Line>();

  const flush = async () => {
    if (events.length) {
      options.observe?.(events);
      const timer = options.metrics?.sinkSeconds.startTimer({ source: options.source });
      const result = await options.store.write(events);
      timer?.();
      stats.written += result.written;
      stats.duplicates += result.duplicates;
      count('written', result.written);
      count('duplicate', result.duplicates);
      for (const rejected of result.rejected) {
        const line = raw.get(rejected.id);
        letters.push(letterFor(options.source, line, `store rejected: ${rejected.reason}`));
      }
    }
    if (letters.length) {
      await options.deadLetters.write(letters);
      stats.deadLettered += letters.length;
      count('dead_letter', letters.length);
    }
    events = [];
    letters = [];
    raw.clear();
  };

  for await (const line of lines) {
    if (line.text.trim() === '') continue;
    stats.lines += 1;
    const decoded = !options.format || options.format === 'auto'
      ? decodeLine(line, options.source, options.assets, context)
      : decodeRecordLine(line, options.source, options.assets, context, options.format, options.host);
    countIngest(options.metrics, options.source, { received: 1, [decoded.ok ? 'decoded' : 'failed']: 1 });
    if (decoded.ok) {
      events.push(decoded.event);
      raw.set(decoded.event.id, line);
    } else {
      letters.push(letterFor(options.source, line, decoded.reason));
    }
    if (events.length + letters.length >= batchSize) await flush();
  }
  await flush();
  return stats;
}

const letterFor = (source: string, line: Line | undefined, reason: string) =>
  deadLetter(source, line?.position ?? '?', reason, line?.text ?? '');

import { DEFAULT_TIME_ZONE, zoneHasDaylightSaving, zoneOffset, type AssetIndex, type EventAssetTags, type ShouwangEvent } from '../../core/index.js';
import { recordAssetTags } from '../enrich.js';
import type { JoinRule } from '../record-join.js';
import { decodeJsonEvent, decodeLine, decodeRecordLine, type Decoded, type Line, type Peer } from './event-decode.js';
import { RECORD_FORMATS, recordFormat, type RecordFormat } from './record-formats.js';
import type { DecodeContext } from './syslog-line.js';

/** What a source says about its records (a `collect.files[]` entry, an HTTP source, a listener, `shouwang ingest`). */
export interface FormatSpec {
  /** The source's id: `shouwang.source`, and with a record's position its event id. */
  source: string;
  /** `auto` or `syslog` (syslog or NDJSON per line), `json` (generic JSON events), or a record format. */
  format: string;
  assets: AssetIndex;
  /** The server the records come from: records that name no host get it (and map to its system). */
  host?: string;
  /** The source's zone for times that carry none; it wins over the inventory's log source for the host. */
  utcOffset?: string;
  /** The zone when neither the source nor the inventory states one (`collect.utcOffset`). */
  defaultUtcOffset?: string;
  /** Without any of those: the offset of this zone (`timeZone`) when the line arrives, so DST zones follow their switch. */
  timeZone?: string;
  /** pgaudit: the server's `log_line_prefix`. */
  logLinePrefix?: string;
  /** app-log: a regex with named groups. */
  pattern?: string;
  /** Every event belongs to this system, whatever its host (`shouwang ingest --system`). */
  system?: EventAssetTags;
}

/** What is known of one line besides its text. */
export interface LineContext {
  now: Date;
  peer?: Peer;
  /** The zone of this sender, when it differs from the source's (a syslog sender). */
  utcOffset?: string;
  /** The line had bytes invalid in its encoding (now U+FFFD): the event is kept and tagged. */
  invalid?: boolean;
}

export interface ResolvedFormat {
  name: string;
  /** How physical lines make records, for formats whose records span lines. */
  join?: JoinRule;
  /** Never throws: a record it cannot read is `{ ok: false, reason }` (a dead letter). */
  decode(line: Line, context: LineContext): Decoded;
}

export const ENCODING_INVALID_TAG = 'encoding_invalid';

/** Every format a source may name. */
export const SOURCE_FORMATS: readonly string[] = ['auto', 'syslog', 'json', ...Object.keys(RECORD_FORMATS)];

/**
 * The one place a source's format becomes its decoder: compiled once, at the source's start. Throws
 * (with the reason) for an unknown format or an option that cannot be used (an app-log pattern that is no regex).
 */
export function resolveFormat(spec: FormatSpec): ResolvedFormat {
  const { source, assets, host } = spec;
  let decodeAt: (line: Line, context: DecodeContext, peer: Peer | undefined) => Decoded;
  let join: JoinRule | undefined;
  if (spec.format === 'auto' || spec.format === 'syslog') {
    decodeAt = (line, context, peer) => decodeLine(line, source, assets, context, peer);
  } else if (spec.format === 'json') {
    decodeAt = (line, context, peer) => decodeJsonEvent(line, source, assets, context, peer);
  } else {
    const known: RecordFormat | undefined = recordFormat(spec.format, { logLinePrefix: spec.logLinePrefix, pattern: spec.pattern });
    if (!known) throw new Error(`format: expected json, syslog or one of ${Object.keys(RECORD_FORMATS).join(', ')}, got ${JSON.stringify(spec.format)}`);
    decodeAt = (line, context) => decodeRecordLine(line, source, assets, context, known, host);
    join = known.join;
  }
  const stated = spec.utcOffset;
  const zone = spec.timeZone ?? DEFAULT_TIME_ZONE;
  // Decided once: a zone without daylight saving (Asia/Shanghai) never needs a second look at the record's own time.
  const seasonal = zoneHasDaylightSaving(zone, Date.now());
  const decode = (line: Line, context: LineContext): Decoded => {
    const explicit = context.utcOffset ?? stated ?? assets.utcOffset(host, undefined) ?? spec.defaultUtcOffset;
    // No offset stated anywhere: the zone's offset now, then at the record's own time (a line from before a DST switch).
    const utcOffset = explicit ?? zoneOffset(zone, context.now.getTime());
    let decoded = decodeAt(line, { utcOffset, now: context.now }, context.peer);
    if (!decoded.ok) return decoded;
    if (context.utcOffset === undefined && stated === undefined) {
      // A zone the inventory states for the host the record names (a MariaDB server on UTC): read it again at that zone.
      const own = assets.utcOffset(decoded.event.host?.name ?? host, decoded.event.event?.dataset);
      const at = explicit === undefined && seasonal ? Date.parse(String(decoded.event['@timestamp'])) : Number.NaN;
      const again = own ?? (Number.isFinite(at) ? zoneOffset(zone, at) : utcOffset);
      if (again !== utcOffset) {
        decoded = decodeAt(line, { utcOffset: again, now: context.now }, context.peer);
        if (!decoded.ok) return decoded;
      }
    }
    complete(decoded.event, spec, context);
    return decoded;
  };
  return { name: spec.format, ...(join ? { join } : {}), decode };
}

/** What every source adds the same way: the source's host and system, and the encoding tag. */
function complete(event: ShouwangEvent, spec: FormatSpec, context: LineContext): void {
  if (spec.host && !event.host?.name) {
    event.host = { ...event.host, name: spec.host };
    event.shouwang = { ...recordAssetTags(spec.assets, event), source: spec.source };
  }
  if (spec.system) event.shouwang = { ...spec.system, source: spec.source };
  if (context.invalid) event.tags = [...(Array.isArray(event.tags) ? (event.tags as string[]) : []), ENCODING_INVALID_TAG];
}

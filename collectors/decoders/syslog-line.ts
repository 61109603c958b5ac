/**
 * Decodes one syslog line as written to files by rsyslog/syslog-ng (RFC 3164, with or without
 * the <PRI> prefix) or sent as RFC 5424. The full source set (UDP/TCP/TLS) comes with the collectors.
 */
export interface SyslogFields {
  timestamp: string;
  host: string;
  app?: string;
  pid?: number;
  message: string;
  facility?: number;
  severity?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Network devices (Huawei, H3C) may write the year before or after the time: `Nov 26 2026 10:00:00`, `Oct  9 14:59:04 2009`.
const RFC3164 = /^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:((?:19|20)\d{2}) )?(\d{2}:\d{2}:\d{2})(?: ((?:19|20)\d{2}))? (\S+) (?:([^:[\s]+)(?:\[(\d+)\])?: ?)?(.*)$/;
const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\](?:\[.*?\])*) ?(.*)$/;

export interface DecodeContext {
  /** RFC 3164 timestamps carry no zone; government systems here log in China Standard Time. */
  utcOffset: string;
  /** RFC 3164 timestamps carry no year either: the one that puts the line closest before `now`. */
  now: Date;
}

export type Decoded = { ok: true; fields: SyslogFields } | { ok: false; reason: string };

export function decodeSyslogLine(raw: string, context: DecodeContext): Decoded {
  // Files copied from Windows hosts end lines with CRLF.
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const modern = RFC5424.exec(line);
  if (modern) {
    const [, pri, ts, host, app, procid, , , msg] = modern;
    if (Number.isNaN(Date.parse(ts!))) return { ok: false, reason: `RFC 5424 timestamp is not a date: ${ts}` };
    return {
      ok: true,
      fields: {
        timestamp: new Date(ts!).toISOString(), host: host!, message: msg!,
        ...(app !== '-' ? { app: app! } : {}),
        ...(/^\d+$/.test(procid!) ? { pid: Number(procid) } : {}),
        ...priority(pri),
      },
    };
  }
  const legacy = RFC3164.exec(line);
  if (!legacy) return { ok: false, reason: 'not a syslog line (RFC 3164 or RFC 5424)' };
  const [, pri, mon, day, yearBefore, time, yearAfter, host, app, pid, msg] = legacy;
  const month = MONTHS.indexOf(mon!);
  if (month < 0) return { ok: false, reason: `unknown month ${mon}` };
  const year = yearBefore ?? yearAfter;
  const timestamp = year === undefined ? inferYear(month, Number(day), time!, context) : atYear(Number(year), month, Number(day), time!, context.utcOffset);
  if (!timestamp) return { ok: false, reason: `bad date ${mon} ${day} ${time}` };
  return {
    ok: true,
    fields: {
      timestamp, host: host!, message: msg!,
      ...(app ? { app } : {}),
      ...(pid ? { pid: Number(pid) } : {}),
      ...priority(pri),
    },
  };
}

function priority(pri: string | undefined): { facility?: number; severity?: number } {
  if (pri === undefined) return {};
  const value = Number(pri);
  return value <= 191 ? { facility: value >> 3, severity: value & 7 } : {};
}

// Midnight of each (day, zone) seen, so a line costs an addition instead of a date parse (collect benchmark).
const DAY_STARTS = new Map<string, number>();
const pad = (n: number) => String(n).padStart(2, '0');

function dayStart(year: number, month: number, day: number, utcOffset: string): number {
  const key = `${year}-${month}-${day}${utcOffset}`;
  let ms = DAY_STARTS.get(key);
  if (ms === undefined) {
    ms = Date.parse(`${year}-${pad(month + 1)}-${pad(day)}T00:00:00${utcOffset}`);
    if (DAY_STARTS.size >= 4096) DAY_STARTS.clear();
    DAY_STARTS.set(key, ms);
  }
  return ms;
}

function inferYear(month: number, day: number, time: string, context: DecodeContext): string | undefined {
  const hours = Number(time.slice(0, 2));
  const minutes = Number(time.slice(3, 5));
  const seconds = Number(time.slice(6, 8));
  // Out-of-range times (24:00:00, 23:59:60) take the parser's own rules below.
  if (hours > 23 || minutes > 59 || seconds > 59) return inferYearByParsing(month, day, time, context);
  const sinceMidnight = ((hours * 60 + minutes) * 60 + seconds) * 1000;
  const { utcOffset, now } = context;
  for (const year of [now.getUTCFullYear(), now.getUTCFullYear() - 1]) {
    const start = dayStart(year, month, day, utcOffset);
    if (Number.isNaN(start)) return undefined;
    const ms = start + sinceMidnight;
    if (ms <= now.getTime() + 86_400_000) return new Date(ms).toISOString();
  }
  return undefined;
}

/** A time whose line states its year. */
function atYear(year: number, month: number, day: number, time: string, utcOffset: string): string | undefined {
  const ms = Date.parse(`${year}-${pad(month + 1)}-${pad(day)}T${time}${utcOffset}`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function inferYearByParsing(month: number, day: number, time: string, { utcOffset, now }: DecodeContext): string | undefined {
  for (const year of [now.getUTCFullYear(), now.getUTCFullYear() - 1]) {
    const ms = Date.parse(`${year}-${pad(month + 1)}-${pad(day)}T${time}${utcOffset}`);
    if (Number.isNaN(ms)) return undefined;
    // A line a day "in the future" belongs to last year (December logs read in January).
    if (ms <= now.getTime() + 86_400_000) return new Date(ms).toISOString();
  }
  return undefined;
}

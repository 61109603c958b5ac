import { toIsoTimestamp } from './db-audit.js';
import type { EcsFields, RecordContext, RecordDecoder } from './types.js';

/**
 * Application logs of the common Java and Python shapes (logback, log4j2, Python `logging`): one
 * line per record, read by a regex with named groups, and a stack trace or traceback on the lines
 * after it (joined by `appLogJoin`). Other shapes take a `pattern` of their own.
 */
export interface AppLogOptions {
  /**
   * A regex with named groups for one record's first line: `message` (required), `timestamp`,
   * `level`, `logger`, `thread`, and optionally `pid`, `host`, `service`. Default: the built-in shapes.
   */
  pattern?: string;
}

const DATE = '\\d{4}-\\d{2}-\\d{2}';
const TIME = '\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d{1,9})?';
const ZONE = '(?:Z|[+-]\\d{2}:?\\d{2})?';
const LEVEL = 'TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|FATAL|CRITICAL';
const THREAD = '[^\\]\\n]{0,200}';
const LOGGER = '[^\\s]{1,300}';

/** The built-in shapes, tried in order. */
export const DEFAULT_APP_LOG_PATTERNS: readonly string[] = [
  // logback's and log4j2's default `%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n`, also with a date.
  `^(?<timestamp>(?:${DATE}[ T])?${TIME}${ZONE}) +\\[(?<thread>${THREAD})\\] +(?<level>${LEVEL}) +(?<logger>${LOGGER}) +- (?<message>.*)$`,
  // `%d %-5level [%thread] %logger - %msg`
  `^(?<timestamp>${DATE}[ T]${TIME}${ZONE}) +(?<level>${LEVEL}) +\\[(?<thread>${THREAD})\\] +(?<logger>${LOGGER}) +- (?<message>.*)$`,
  // `2026-12-01 09:15:02,123 [WARN] com.x.Y - message` (log4j `%d [%p] %c - %m`), thread optional.
  `^(?<timestamp>${DATE}[ T]${TIME}${ZONE}) +\\[(?<level>${LEVEL})\\] +(?:\\[(?<thread>${THREAD})\\] +)?(?<logger>${LOGGER}) +- (?<message>.*)$`,
  // Python `%(asctime)s - %(name)s - %(levelname)s - %(message)s`.
  `^(?<timestamp>${DATE} ${TIME}) - (?<logger>${LOGGER}) - (?<level>${LEVEL}) - (?<message>.*)$`,
  // Python's basicConfig default `%(levelname)s:%(name)s:%(message)s`: no time, the time of reading stands in.
  `^(?<level>CRITICAL|ERROR|WARNING|INFO|DEBUG):(?<logger>[^:\\s]{0,300}):(?<message>.*)$`,
];

const TIMESTAMP = new RegExp(`^(?:(${DATE})[ T])?(\\d{2}:\\d{2}:\\d{2})(?:[.,](\\d{1,9}))? *(Z|[+-]\\d{2}:?\\d{2})?$`);
// A time without a date ahead of now by more than this was written yesterday (read after midnight).
const CLOCK_SKEW_MS = 5 * 60_000;

/** A compiled application-log reader: the decoder, and what starts a record (for joining the lines after it). */
export interface AppLogFormat {
  decode: RecordDecoder;
  startsRecord(line: string): boolean;
}

/** Compiles the pattern (or the defaults) once; throws with the reason when a pattern is not usable. */
export function createAppLogFormat(options: AppLogOptions = {}): AppLogFormat {
  const patterns = (options.pattern === undefined ? DEFAULT_APP_LOG_PATTERNS : [options.pattern]).map(compilePattern);
  const firstMatch = (line: string) => {
    for (const pattern of patterns) {
      const groups = pattern.exec(line)?.groups;
      if (groups) return groups;
    }
    return undefined;
  };
  const what = options.pattern === undefined ? 'the default application-log patterns (logback, log4j2, Python logging)' : 'the configured pattern';
  return {
    startsRecord: (line) => patterns.some((pattern) => pattern.test(line)),
    decode: (raw, context) => {
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const newline = text.indexOf('\n');
      const first = newline < 0 ? text : text.slice(0, newline);
      const groups = firstMatch(first.endsWith('\r') ? first.slice(0, -1) : first);
      if (!groups) return { ok: false, reason: `application log line does not match ${what}` };
      const timestamp = groups.timestamp === undefined ? context.now.toISOString() : appTimestamp(groups.timestamp, context);
      if (!timestamp) return { ok: false, reason: `application log time is not a date: ${groups.timestamp}` };
      const stack = newline < 0 ? undefined : text.slice(newline + 1).replace(/\r$/gm, '').trimEnd();
      return { ok: true, fields: appLogFields(groups, timestamp, stack) };
    },
  };
}

function compilePattern(pattern: string): RegExp {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    throw new Error(`app-log pattern is not a valid regular expression: ${(error as Error).message}`);
  }
  if (!/\(\?<message>/.test(pattern)) throw new Error('app-log pattern has no (?<message>…) group');
  return regex;
}

function appLogFields(groups: Record<string, string | undefined>, timestamp: string, stack: string | undefined): EcsFields {
  const { level, logger, thread, pid, host, service } = groups;
  const log = { ...(level ? { level: level.toLowerCase() } : {}), ...(logger ? { logger } : {}) };
  const process = { ...(pid && /^\d+$/.test(pid) ? { pid: Number(pid) } : {}), ...(thread ? { thread: { name: thread.trim() } } : {}) };
  return {
    '@timestamp': timestamp,
    message: groups.message ?? '',
    event: { kind: 'event', module: 'app' },
    ...(Object.keys(log).length ? { log } : {}),
    ...(Object.keys(process).length ? { process } : {}),
    ...(host ? { host: { name: host } } : {}),
    ...(service ? { service: { name: service } } : {}),
    ...(stack ? { error: { stack_trace: stack, ...exceptionOf(stack) } } : {}),
  };
}

// `java.lang.IllegalStateException: boom` first in a Java trace; `ValueError: boom` last in a Python one.
const JAVA_EXCEPTION = /^((?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?::\s?(.*))?$/;
const PYTHON_EXCEPTION = /^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt))(?::\s?(.*))?$/;

function exceptionOf(stack: string): Record<string, string> {
  const lines = stack.split('\n');
  const m = lines[0]!.startsWith('Traceback ') ? PYTHON_EXCEPTION.exec(lines[lines.length - 1]!) : JAVA_EXCEPTION.exec(lines[0]!);
  return m ? { type: m[1]!, ...(m[2] ? { message: m[2] } : {}) } : {};
}

/** `2026-12-01 09:15:02,123`, ISO with a zone, or a time alone (logback's default) taken as today's. */
function appTimestamp(value: string, context: RecordContext): string | undefined {
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [, date, clock, fraction, zone] = m;
  const offset = zone === undefined ? context.utcOffset : zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const time = fraction ? `${clock}.${fraction.slice(0, 3).padEnd(3, '0')}` : clock!;
  if (date) return toIsoTimestamp(date, time, offset);
  const today = localDate(context.now, offset);
  const at = toIsoTimestamp(today, time, offset);
  if (!at || Date.parse(at) - context.now.getTime() <= CLOCK_SKEW_MS) return at;
  return toIsoTimestamp(localDate(new Date(context.now.getTime() - 86_400_000), offset), time, offset);
}

/** The calendar date at `offset` (`+08:00`, `Z`) of an instant. */
function localDate(instant: Date, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, min] = offset === 'Z' ? [0, 0] : offset.slice(1).split(':').map(Number) as [number, number];
  return new Date(instant.getTime() + sign * (h * 60 + min) * 60_000).toISOString().slice(0, 10);
}

export const decodeAppLog: RecordDecoder = createAppLogFormat().decode;

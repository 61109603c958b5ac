/**
 * PostgreSQL's `log_line_prefix` (PostgreSQL docs, "Error Reporting and Logging"), compiled once per
 * source into one regex that reads a stderr-format line: the prefix's values, `LEVEL:  `, the message.
 */

/** What the prefix escapes print, by the name the decoder reads them under. */
export interface PrefixValues {
  /** %m, %t (text, maybe with a zone abbreviation) or %n (epoch seconds). */
  time?: string;
  pid?: string;
  user?: string;
  database?: string;
  /** %h, or %r's `host(port)` split into client and clientPort. */
  client?: string;
  clientPort?: string;
  application?: string;
  sqlstate?: string;
  session?: string;
  lineNumber?: string;
  sessionStart?: string;
  vxid?: string;
  xid?: string;
  commandTag?: string;
  backendType?: string;
  queryId?: string;
  leaderPid?: string;
}

export interface PrefixedLine extends PrefixValues {
  level: string;
  message: string;
}

export interface CompiledPrefix {
  prefix: string;
  /** Reads a whole line (or a record's first line); undefined when it does not have this prefix. */
  parse(line: string): PrefixedLine | undefined;
}

export const LEVELS = 'DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|QUERY|CONTEXT|LOCATION|STATEMENT';
/** Lines the server writes after a message, about it: they belong to its record. */
export const SECONDARY_LEVELS: ReadonlySet<string> = new Set(['DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'LOCATION', 'STATEMENT']);

const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?: [A-Za-z0-9+:_/-]+)?';
// Names are at most 63 bytes (NAMEDATALEN) and hosts 255: bounded, a line that does not match fails fast.
const NAME = '[^\\n]{0,63}?';
const HOST = '\\S{0,270}?';

type Group = keyof PrefixValues | 'remote';
/** Each escape: what it prints, and the value it is read into. */
const ESCAPES: Readonly<Record<string, { group: Group; pattern: string }>> = {
  m: { group: 'time', pattern: TIME },
  t: { group: 'time', pattern: TIME },
  n: { group: 'time', pattern: '\\d+(?:\\.\\d+)?' },
  p: { group: 'pid', pattern: '\\d+' },
  P: { group: 'leaderPid', pattern: '\\d*' },
  u: { group: 'user', pattern: NAME },
  d: { group: 'database', pattern: NAME },
  h: { group: 'client', pattern: HOST },
  r: { group: 'remote', pattern: HOST },
  a: { group: 'application', pattern: NAME },
  c: { group: 'session', pattern: '[0-9a-f]+\\.[0-9a-f]+' },
  l: { group: 'lineNumber', pattern: '\\d+' },
  s: { group: 'sessionStart', pattern: TIME },
  v: { group: 'vxid', pattern: '[0-9/]*' },
  x: { group: 'xid', pattern: '\\d+' },
  e: { group: 'sqlstate', pattern: '[0-9A-Z]{5}' },
  i: { group: 'commandTag', pattern: NAME },
  b: { group: 'backendType', pattern: NAME },
  Q: { group: 'queryId', pattern: '-?\\d+' },
};

// %r prints `host(port)`.
const REMOTE_WITH_PORT = /^(.*)\((\d+)\)$/s;

/** Compiles a `log_line_prefix`; `%q` ends the prefix for processes without a session (postmaster, checkpointer…). */
export function compileLogLinePrefix(prefix: string): CompiledPrefix {
  const [head = '', tail] = prefix.split(/%q(.*)/s);
  const used = new Set<string>();
  const optional = tail === undefined ? '' : `(?:${prefixPattern(tail, used)})?`;
  const regex = new RegExp(`^${prefixPattern(head, used)}${optional}(?<level>${LEVELS}):  (?<message>.*)$`, 's');
  return {
    prefix,
    parse(line) {
      const groups = regex.exec(line)?.groups;
      if (!groups) return undefined;
      const values: Record<string, string> = {};
      for (const key of Object.keys(groups)) if (groups[key] !== undefined) values[key] = groups[key]!;
      const { remote, ...parsed } = values;
      if (remote !== undefined && parsed.client === undefined) {
        const m = REMOTE_WITH_PORT.exec(remote);
        parsed.client = m ? m[1]! : remote;
        if (m) parsed.clientPort = m[2]!;
      }
      return parsed as unknown as PrefixedLine;
    },
  };
}

function prefixPattern(prefix: string, used: Set<string>): string {
  let out = '';
  for (const [, padding, escape, literal] of prefix.matchAll(/%(-?\d+)?(.)|([^%]+|%$)/gs)) {
    if (literal !== undefined) out += literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (escape === '%') out += '%';
    else {
      const spec = ESCAPES[escape!];
      if (!spec) continue; // PostgreSQL prints nothing for an unknown escape.
      // A value printed twice is read once, from its first place.
      const name = used.has(spec.group) ? undefined : spec.group;
      if (name) used.add(name);
      const body = name ? `(?<${name}>${spec.pattern})` : `(?:${spec.pattern})`;
      out += padding ? ` *${body} *` : body;
    }
  }
  return out;
}

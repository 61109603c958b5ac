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

/**
 * A name (at most 63 bytes, NAMEDATALEN) or host (255): when a literal character follows it in the
 * prefix, the value runs up to that character, so the regex never backtracks through it (a hostile
 * line cannot make it slow); names that may hold spaces (%a, %i, %b) are read lazily instead.
 */
const name = (max: number, delimiters: RegExp | undefined, chars = '[^\\n]') => (delimiter: string | undefined) =>
  delimiter !== undefined && delimiters?.test(delimiter) ? `${chars.slice(0, -1)}${classEscape(delimiter)}]{0,${max}}` : `${chars}{0,${max}}?`;
// Characters that end a name, or an address (IPv6 and host names hold `:` `.` `-`, %r `(`).
const NAME_END = /^[^\w]$/;
const HOST_END = /^[^\w:.()[\]%-]$/;
const classEscape = (c: string) => c.replace(/[\\\]^-]/g, '\\$&').replace('\n', '\\n');

type Group = keyof PrefixValues | 'remote';
/** Each escape: what it prints (given the literal character after it), and the value it is read into. */
const ESCAPES: Readonly<Record<string, { group: Group; pattern: string | ((delimiter: string | undefined) => string) }>> = {
  m: { group: 'time', pattern: TIME },
  t: { group: 'time', pattern: TIME },
  n: { group: 'time', pattern: '\\d+(?:\\.\\d+)?' },
  p: { group: 'pid', pattern: '\\d+' },
  P: { group: 'leaderPid', pattern: '\\d*' },
  u: { group: 'user', pattern: name(63, NAME_END) },
  d: { group: 'database', pattern: name(63, NAME_END) },
  h: { group: 'client', pattern: name(270, HOST_END, '[^\\s]') },
  r: { group: 'remote', pattern: name(280, HOST_END, '[^\\s]') },
  a: { group: 'application', pattern: name(63, undefined) },
  c: { group: 'session', pattern: '[0-9a-f]+\\.[0-9a-f]+' },
  l: { group: 'lineNumber', pattern: '\\d+' },
  s: { group: 'sessionStart', pattern: TIME },
  v: { group: 'vxid', pattern: '[0-9/]*' },
  x: { group: 'xid', pattern: '\\d+' },
  e: { group: 'sqlstate', pattern: '[0-9A-Z]{5}' },
  i: { group: 'commandTag', pattern: name(63, undefined) },
  b: { group: 'backendType', pattern: name(63, undefined) },
  Q: { group: 'queryId', pattern: '-?\\d+' },
};

// %r prints `host(port)`.
const REMOTE_WITH_PORT = /^(.*)\((\d+)\)$/s;

/** Compiles a `log_line_prefix`; `%q` ends the prefix for processes without a session (postmaster, checkpointer…). */
export function compileLogLinePrefix(prefix: string): CompiledPrefix {
  const [head = '', tail] = prefix.split(/%q(.*)/s);
  const used = new Set<string>();
  // The head first: a value printed in both parts is read where it is always printed.
  const always = prefixPattern(head, used);
  const optional = tail === undefined ? '' : `(?:${prefixPattern(tail, used)})?`;
  const regex = new RegExp(`^${always}${optional}(?<level>${LEVELS}):  (?<message>.*)$`, 's');
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
  const tokens = [...prefix.matchAll(/%(-?\d+)?(.)|([^%]+|%$)/gs)];
  let out = '';
  tokens.forEach(([, padding, escape, literal], i) => {
    if (literal !== undefined) out += literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (escape === '%') out += '%';
    else {
      const spec = ESCAPES[escape!];
      if (!spec) return; // PostgreSQL prints nothing for an unknown escape.
      const next = tokens[i + 1];
      const delimiter = next?.[3]?.[0] ?? (next?.[2] === '%' ? '%' : undefined);
      const pattern = typeof spec.pattern === 'string' ? spec.pattern : spec.pattern(delimiter);
      // A value printed twice is read once, from its first place.
      const name = used.has(spec.group) ? undefined : spec.group;
      if (name) used.add(name);
      const body = name ? `(?<${name}>${pattern})` : `(?:${pattern})`;
      out += padding ? ` *${body} *` : body;
    }
  });
  return out;
}

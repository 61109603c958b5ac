/**
 * The event query language of the console's search box (as Kibana's KQL/Lucene, a small subset):
 *
 *   sudo                              bare word: message full text OR exact (any case) on KEYWORD_FIELDS
 *   "Failed password"                 phrase, the same places
 *   user.name:root                    exact value of a field (message: full text)
 *   user.name:adm*                    wildcard (`*` any run of characters; any case)
 *   http.response.status_code:[400 TO 499]   range, inclusive; `{ }` exclusive; `*` open
 *   event.severity:>=3                range with >, >=, <, <=
 *   process.name:*                    the field exists
 *   a AND b, a OR b, NOT a, (a OR b) c   upper-case operators; juxtaposition is AND; AND binds tighter than OR
 *
 * Parsed once into a typed tree that keeps the column of every node; the store adapters translate
 * the tree (SQLite: store/embedded/events.ts, Elasticsearch: store/elasticsearch/events.ts). A bad
 * query is SW_ERR_STORE_INVALID_QUERY naming the column and what was expected. QUERY_LIMITS bound the
 * work a hostile query can ask of either store.
 */
import { DEFAULT_TIME_ZONE, isFieldName, nextZoneDay, parseZonedTime, ShouwangError } from '../core/index.js';
import { StoreErrors } from './errors.js';

export const QUERY_LIMITS = {
  /** Characters in the whole query. */
  length: 1000,
  /** Nesting of parentheses and NOT. */
  depth: 8,
  /** Words, phrases, field conditions: each becomes one or a few store clauses (a bare word about a dozen). */
  clauses: 32,
  /** `*` in one wildcard: each one multiplies the work of a LIKE or wildcard match. */
  wildcards: 4,
  /** Characters in one value. */
  value: 256,
} as const;

/**
 * The fields a bare word or phrase is compared with (exactly, any case), besides the message's full
 * text. Keyword-like ECS fields an analyst types the value of; IP fields match only an IP.
 */
export const KEYWORD_FIELDS = [
  'host.name', 'process.name', 'user.name', 'source.ip', 'destination.ip', 'event.action', 'event.dataset', 'event.outcome',
  'shouwang.system', 'db.name', 'url.path', 'service.name',
] as const;

/** Fields Elasticsearch maps as `ip`: a term there must be an IP, and cannot ignore case. */
export const IP_FIELDS: ReadonlySet<string> = new Set(['source.ip', 'destination.ip', 'host.ip', 'client.ip', 'server.ip', 'related.ip']);

export interface RangeBound {
  value: string;
  inclusive: boolean;
}

export type QueryNode =
  | { kind: 'all'; column: number }
  | { kind: 'and' | 'or'; children: QueryNode[]; column: number }
  | { kind: 'not'; child: QueryNode; column: number }
  /** A word or phrase; without a field it is a bare word (message OR KEYWORD_FIELDS). */
  | { kind: 'match'; field?: string; value: string; phrase: boolean; column: number }
  /** `*` stands for any run of characters; other characters are literal. */
  | { kind: 'wildcard'; field?: string; pattern: string; column: number }
  | { kind: 'range'; field: string; lower?: RangeBound; upper?: RangeBound; column: number }
  | { kind: 'exists'; field: string; column: number };

/** A number as both stores compare numbers: plain decimal, no hex, no spaces. */
export function numericValue(text: string): number | undefined {
  return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) && Number.isFinite(Number(text)) ? Number(text) : undefined;
}

/** Terms as messages: zh-CN and English, so the console shows the one the user reads. */
const EXPECTED = {
  value: ['值', 'a value'],
  condition: ['条件（词、"短语"、字段:值 或 ( )', 'a condition (word, "phrase", field:value or ( ))'],
  closeParen: ['右括号 )', 'a closing parenthesis )'],
  closeQuote: ['右引号 "', 'a closing quote "'],
  to: ['TO', 'TO'],
  closeRange: ['] 或 }', '] or }'],
  end: ['AND、OR 或查询结束', 'AND, OR or the end of the query'],
  field: ['有效的字段名', 'a valid field name'],
  date: ['日期（ISO 8601）', 'a date (ISO 8601)'],
} as const;

function invalid(column: number, zh: string, en: string): ShouwangError {
  const error = StoreErrors.invalidQuery(`第 ${column} 列：${zh} / column ${column}: ${en}`);
  return new ShouwangError(error.code, error.message, error.statusCode, { details: { column } });
}

const expected = (column: number, what: keyof typeof EXPECTED, found: string) => {
  const [zh, en] = EXPECTED[what];
  const shown = found ? JSON.stringify(found.slice(0, 20)) : '';
  return invalid(column, `应为${zh}${shown ? `，实为 ${shown}` : ''}`, `expected ${en}${shown ? `, found ${shown}` : ' at the end'}`);
};

/** The index of the first C0 control other than tab/newline/CR, or DEL: no search needs them, and FTS5 fails on NUL. */
function controlAt(text: string): number {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return i;
  }
  return -1;
}
/** Characters that end a bare word. */
const WORD_END = /[\s()"]/;
const OPERATORS = new Set(['AND', 'OR', 'NOT']);

class Parser {
  #pos = 0;
  #clauses = 0;

  constructor(readonly text: string, readonly timeZone: string) {}

  parse(): QueryNode {
    this.#space();
    if (this.#atEnd()) return { kind: 'all', column: 1 };
    const node = this.#or(0);
    this.#space();
    if (!this.#atEnd()) {
      const column = this.#column();
      throw this.text[this.#pos] === ')' ? invalid(column, '多余的右括号 )', 'unexpected closing parenthesis )') : expected(column, 'end', this.#peekWord());
    }
    return node;
  }

  #column(): number {
    return this.#pos + 1;
  }

  #atEnd(): boolean {
    return this.#pos >= this.text.length;
  }

  #space(): void {
    while (!this.#atEnd() && /\s/.test(this.text[this.#pos]!)) this.#pos += 1;
  }

  /** The raw word at the cursor (for messages and operator checks), without consuming it. */
  #peekWord(): string {
    let end = this.#pos;
    while (end < this.text.length && !WORD_END.test(this.text[end]!)) end += 1;
    return this.text.slice(this.#pos, end) || (this.text[this.#pos] ?? '');
  }

  #operator(name: string): boolean {
    this.#space();
    const word = this.#peekWord();
    if (word !== name) return false;
    this.#pos += name.length;
    return true;
  }

  #deeper(depth: number, column: number): number {
    if (depth + 1 > QUERY_LIMITS.depth) {
      throw invalid(column, `嵌套超过 ${QUERY_LIMITS.depth} 层`, `nesting deeper than ${QUERY_LIMITS.depth} levels`);
    }
    return depth + 1;
  }

  #or(depth: number): QueryNode {
    const column = (this.#space(), this.#column());
    const children = [this.#and(depth)];
    while (this.#operator('OR')) children.push(this.#and(depth));
    return children.length === 1 ? children[0]! : { kind: 'or', children, column };
  }

  #and(depth: number): QueryNode {
    const column = (this.#space(), this.#column());
    const children = [this.#not(depth)];
    for (;;) {
      this.#space();
      if (this.#atEnd() || this.text[this.#pos] === ')' || this.#peekWord() === 'OR') break;
      this.#operator('AND');
      children.push(this.#not(depth));
    }
    return children.length === 1 ? children[0]! : { kind: 'and', children, column };
  }

  #not(depth: number): QueryNode {
    this.#space();
    const column = this.#column();
    if (this.#operator('NOT')) return { kind: 'not', child: this.#not(this.#deeper(depth, column)), column };
    return this.#primary(depth);
  }

  #primary(depth: number): QueryNode {
    this.#space();
    const column = this.#column();
    if (this.#atEnd()) throw expected(column, 'condition', '');
    const char = this.text[this.#pos]!;
    if (char === '(') {
      this.#pos += 1;
      const node = this.#or(this.#deeper(depth, column));
      this.#space();
      if (this.text[this.#pos] !== ')') throw expected(this.#column(), 'closeParen', this.#peekWord());
      this.#pos += 1;
      return node;
    }
    if (char === ')') throw expected(column, 'condition', ')');
    if (char === '"') return this.#count({ kind: 'match', value: this.#phrase(), phrase: true, column });
    const word = this.#peekWord();
    if (OPERATORS.has(word)) throw expected(column, 'condition', word);
    const colon = this.#fieldColon();
    if (colon < 0) {
      const { text, stars } = this.#word();
      if (stars === 0) return this.#count({ kind: 'match', value: text, phrase: false, column });
      if (/^\*+$/.test(text)) return { kind: 'all', column };
      return this.#count(this.#wildcard(undefined, text, stars, column));
    }
    const field = this.text.slice(this.#pos, colon);
    if (!isFieldName(field) || field.length > 200) throw expected(column, 'field', field);
    this.#pos = colon + 1;
    return this.#count(this.#fieldValue(field, column));
  }

  /** The index of the `:` ending a field name at the cursor, or -1: `a.b:` with no escape or space before it. */
  #fieldColon(): number {
    for (let i = this.#pos; i < this.text.length; i += 1) {
      const c = this.text[i]!;
      if (c === ':') return i > this.#pos ? i : -1;
      if (WORD_END.test(c) || c === '\\') return -1;
    }
    return -1;
  }

  #count<T extends QueryNode>(node: T): T {
    this.#clauses += 1;
    if (this.#clauses > QUERY_LIMITS.clauses) {
      throw invalid(node.column, `条件超过 ${QUERY_LIMITS.clauses} 个`, `more than ${QUERY_LIMITS.clauses} conditions`);
    }
    return node;
  }

  #fieldValue(field: string, column: number): QueryNode {
    const at = this.#column();
    const char = this.text[this.#pos];
    if (char === undefined || /\s|\)/.test(char)) throw expected(at, 'value', char ?? '');
    if (char === '"') {
      const phrase = this.#phrase();
      return field === '@timestamp' ? this.#timestampMatch(phrase, at, column) : { kind: 'match', field, value: phrase, phrase: true, column };
    }
    if (char === '[' || char === '{') return this.#bracketRange(field, column);
    const comparison = /^(>=|<=|>|<)/.exec(this.text.slice(this.#pos))?.[1];
    if (comparison) {
      this.#pos += comparison.length;
      const valueAt = this.#column();
      const value = this.#boundValue(valueAt);
      const bound = { value: this.#checkBound(field, value, valueAt), inclusive: comparison.endsWith('=') };
      return this.#rangeNode(field, comparison.startsWith('>') ? { lower: bound } : { upper: bound }, column);
    }
    const { text, stars } = this.#word();
    if (/^\*+$/.test(text)) return { kind: 'exists', field, column };
    if (stars === 0) {
      if (field === '@timestamp') return this.#timestampMatch(text, at, column);
      return { kind: 'match', field, value: text, phrase: false, column };
    }
    return this.#wildcard(field, text, stars, column);
  }

  #wildcard(field: string | undefined, pattern: string, stars: number, column: number): QueryNode {
    if (field === 'message' || field === '@timestamp') {
      throw invalid(column, `${field} 不支持通配符`, `${field} does not take wildcards`);
    }
    if (stars > QUERY_LIMITS.wildcards) {
      throw invalid(column, `通配符 * 超过 ${QUERY_LIMITS.wildcards} 个`, `more than ${QUERY_LIMITS.wildcards} wildcards *`);
    }
    return field === undefined ? { kind: 'wildcard', pattern, column } : { kind: 'wildcard', field, pattern, column };
  }

  #bracketRange(field: string, column: number): QueryNode {
    const open = this.text[this.#pos]!;
    this.#pos += 1;
    this.#space();
    const lowerAt = this.#column();
    const lower = this.#boundValue(lowerAt, true);
    this.#space();
    if (!this.#operator('TO')) throw expected(this.#column(), 'to', this.#peekWord());
    this.#space();
    const upperAt = this.#column();
    const upper = this.#boundValue(upperAt, true);
    this.#space();
    const close = this.text[this.#pos];
    if (close !== ']' && close !== '}') throw expected(this.#column(), 'closeRange', this.#peekWord());
    this.#pos += 1;
    return this.#rangeNode(field, {
      ...(lower !== '*' ? { lower: { value: this.#checkBound(field, lower, lowerAt), inclusive: open === '[' } } : {}),
      ...(upper !== '*' ? { upper: { value: this.#checkBound(field, upper, upperAt), inclusive: close === ']' } } : {}),
    }, column);
  }

  #rangeNode(field: string, bounds: { lower?: RangeBound; upper?: RangeBound }, column: number): QueryNode {
    if (field === 'message') throw invalid(column, 'message 不支持范围', 'message does not take ranges');
    if (!bounds.lower && !bounds.upper) return { kind: 'exists', field, column };
    return { kind: 'range', field, ...bounds, column };
  }

  /** `@timestamp:<instant>`; `@timestamp:2026-11-01` is that whole day where the city is. */
  #timestampMatch(text: string, at: number, column: number): QueryNode {
    const value = this.#checkBound('@timestamp', text, at);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) return { kind: 'match', field: '@timestamp', value, phrase: false, column };
    const end = new Date(nextZoneDay(this.timeZone, Date.parse(value))).toISOString();
    return { kind: 'range', field: '@timestamp', lower: { value, inclusive: true }, upper: { value: end, inclusive: false }, column };
  }

  /** An `@timestamp` bound as an ISO instant: a date or a time without offset is read in the time zone. */
  #checkBound(field: string, value: string, column: number): string {
    if (field !== '@timestamp') return value;
    const at = parseZonedTime(value, this.timeZone);
    if (at === undefined) throw expected(column, 'date', value);
    return new Date(at).toISOString();
  }

  /** A range bound: a phrase or a word ending also at `]`, `}`; in brackets a bare `*` is open. */
  #boundValue(column: number, inBrackets = false): string {
    if (this.text[this.#pos] === '"') return this.#phrase();
    const start = this.#pos;
    let value = '';
    while (!this.#atEnd()) {
      const c = this.text[this.#pos]!;
      if (WORD_END.test(c) || (inBrackets && (c === ']' || c === '}'))) break;
      if (c === '\\' && this.#pos + 1 < this.text.length) this.#pos += 1;
      value += this.text[this.#pos];
      this.#pos += 1;
    }
    if (this.#pos === start) throw expected(column, 'value', this.text[this.#pos] ?? '');
    return this.#checkLength(value, column);
  }

  /** A bare word with `\` escapes; unescaped `*` is a wildcard (kept as `*`, escaped ones are refused inside wildcards). */
  #word(): { text: string; stars: number } {
    const column = this.#column();
    let text = '';
    let stars = 0;
    let escapedStar = false;
    while (!this.#atEnd()) {
      const c = this.text[this.#pos]!;
      if (WORD_END.test(c)) break;
      if (c === '\\' && this.#pos + 1 < this.text.length) {
        this.#pos += 1;
        const next = this.text[this.#pos]!;
        if (next === '*') escapedStar = true;
        text += next;
      } else {
        if (c === '*') stars += 1;
        text += c;
      }
      this.#pos += 1;
    }
    if (!text) throw expected(column, 'value', this.text[this.#pos] ?? '');
    if (escapedStar && stars > 0) {
      throw invalid(column, '同一个值中不能既有通配符 * 又有转义的 \\*', 'a value cannot hold both a wildcard * and an escaped \\*');
    }
    return { text: this.#checkLength(text, column), stars };
  }

  #phrase(): string {
    const column = this.#column();
    this.#pos += 1;
    let text = '';
    while (!this.#atEnd() && this.text[this.#pos] !== '"') {
      if (this.text[this.#pos] === '\\' && this.#pos + 1 < this.text.length) this.#pos += 1;
      text += this.text[this.#pos];
      this.#pos += 1;
    }
    if (this.#atEnd()) throw expected(this.#column(), 'closeQuote', '');
    this.#pos += 1;
    if (!text.trim()) throw expected(column, 'value', '""');
    return this.#checkLength(text, column);
  }

  #checkLength(value: string, column: number): string {
    if (value.length > QUERY_LIMITS.value) {
      throw invalid(column, `值超过 ${QUERY_LIMITS.value} 个字符`, `a value longer than ${QUERY_LIMITS.value} characters`);
    }
    return value;
  }
}

/** Parses the search box's text into a tree; empty text matches everything; dates without offset are in `timeZone`. Throws only SW_ERR_STORE_INVALID_QUERY. */
export function parseQuery(text: string, timeZone = DEFAULT_TIME_ZONE): QueryNode {
  if (text.length > QUERY_LIMITS.length) {
    throw invalid(QUERY_LIMITS.length + 1, `查询超过 ${QUERY_LIMITS.length} 个字符`, `query longer than ${QUERY_LIMITS.length} characters`);
  }
  const control = controlAt(text);
  if (control >= 0) throw invalid(control + 1, '不能含控制字符', 'control characters are not allowed');
  return new Parser(text, timeZone).parse();
}

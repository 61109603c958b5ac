/**
 * Sigma string values: `*` and `?` wildcards with `\` escapes, turned once into the cheapest test
 * that does the job (equality, startsWith, endsWith, includes, else one anchored regex).
 */

/** A value as a list of literal chunks and wildcards; literal text has its escapes removed. */
export type PatternToken = string | typeof ANY | typeof ONE;
export const ANY = Symbol('*');
export const ONE = Symbol('?');

/**
 * Reads Sigma escapes: `\*` `\?` `\\` stand for the character; a backslash before anything else is
 * a plain backslash (so `C:\Windows` needs no doubling).
 */
export function parseWildcards(text: string): PatternToken[] {
  const tokens: PatternToken[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        literal += next;
        i += 1;
      } else {
        literal += c;
      }
    } else if (c === '*' || c === '?') {
      if (literal) tokens.push(literal);
      literal = '';
      // `**` is the same as `*`.
      if (!(c === '*' && tokens[tokens.length - 1] === ANY)) tokens.push(c === '*' ? ANY : ONE);
    } else {
      literal += c;
    }
  }
  if (literal) tokens.push(literal);
  return tokens;
}

/** A pattern with no wildcards, as plain text (or undefined when it has one). */
export function plainText(tokens: readonly PatternToken[]): string | undefined {
  if (tokens.length === 0) return '';
  return tokens.length === 1 && typeof tokens[0] === 'string' ? tokens[0] : undefined;
}

/** Back to Sigma syntax, escaping what needs it: for messages and for encoders that work on text. */
export function formatPattern(tokens: readonly PatternToken[]): string {
  return tokens.map((t) => (t === ANY ? '*' : t === ONE ? '?' : t.replace(/[\\*?]/g, '\\$&'))).join('');
}

/** Tests an already-lowercased (when not cased) string. */
export type StringTest = (value: string) => boolean;

export interface StringMatcher {
  /** Set when the pattern is plain text: callers may index these in a Set. */
  exact?: string;
  test: StringTest;
}

/** Compiles one wildcard pattern. `cased: false` lowercases the constant: the caller lowercases the value. */
export function compilePattern(tokens: readonly PatternToken[], cased: boolean): StringMatcher {
  const norm = (s: string) => (cased ? s : s.toLowerCase());
  const plain = plainText(tokens);
  if (plain !== undefined) {
    const constant = norm(plain);
    return { exact: constant, test: (v) => v === constant };
  }
  const [first, middle, last] = tokens;
  if (tokens.length === 1 && first === ANY) return { test: () => true };
  if (tokens.length === 2 && first === ANY && typeof middle === 'string') {
    const suffix = norm(middle);
    return { test: (v) => v.endsWith(suffix) };
  }
  if (tokens.length === 2 && typeof first === 'string' && middle === ANY) {
    const prefix = norm(first);
    return { test: (v) => v.startsWith(prefix) };
  }
  if (tokens.length === 3 && first === ANY && typeof middle === 'string' && last === ANY) {
    const part = norm(middle);
    return { test: (v) => v.includes(part) };
  }
  // Literals between `*` only: found one after another with indexOf, no regex and no backtracking.
  if (!tokens.includes(ONE)) return { test: segmentTest(tokens.map((t) => (typeof t === 'string' ? norm(t) : t))) };
  const source = tokens.map((t) => (t === ANY ? '[\\s\\S]*' : t === ONE ? '[\\s\\S]' : escapeRegex(norm(t)))).join('');
  const regex = new RegExp(`^${source}$`, 'u');
  return { test: (v) => regex.test(v) };
}

function segmentTest(tokens: readonly PatternToken[]): StringTest {
  const anchoredStart = tokens[0] !== ANY;
  const anchoredEnd = tokens[tokens.length - 1] !== ANY;
  const parts = tokens.filter((t): t is string => typeof t === 'string');
  const first = anchoredStart ? parts.shift()! : undefined;
  const last = anchoredEnd ? parts.pop()! : undefined;
  const minLength = (first?.length ?? 0) + (last?.length ?? 0) + parts.reduce((n, p) => n + p.length, 0);
  return (v) => {
    if (v.length < minLength) return false;
    let from = 0;
    if (first !== undefined) {
      if (!v.startsWith(first)) return false;
      from = first.length;
    }
    const end = last !== undefined ? v.length - last.length : v.length;
    if (last !== undefined && !v.endsWith(last)) return false;
    for (const part of parts) {
      const at = v.indexOf(part, from);
      if (at < 0 || at + part.length > end) return false;
      from = at + part.length;
    }
    return true;
  };
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

import { describe, expect, it } from 'vitest';
import { ShouwangError } from '../../core/index.js';
import { parseQuery, QUERY_LIMITS, type QueryNode } from '../../store/index.js';

/** The error parseQuery throws for `text`, or a failure when it parses. */
function failure(text: string): ShouwangError {
  try {
    parseQuery(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ShouwangError);
    return error as ShouwangError;
  }
  throw new Error(`parsed: ${text}`);
}

const columnOf = (text: string) => (failure(text).details as { column: number }).column;

describe('query language parser', () => {
  it('parses bare words, phrases and field values into a tree with columns', () => {
    expect(parseQuery('sudo')).toEqual({ kind: 'match', value: 'sudo', phrase: false, column: 1 });
    expect(parseQuery('  "Failed password"')).toEqual({ kind: 'match', value: 'Failed password', phrase: true, column: 3 });
    expect(parseQuery('user.name:root')).toEqual({ kind: 'match', field: 'user.name', value: 'root', phrase: false, column: 1 });
    expect(parseQuery('message:"a b"')).toEqual({ kind: 'match', field: 'message', value: 'a b', phrase: true, column: 1 });
    expect(parseQuery('')).toEqual({ kind: 'all', column: 1 });
    expect(parseQuery('*')).toEqual({ kind: 'all', column: 1 });
  });

  it('binds AND tighter than OR, reads juxtaposition as AND, and nests parentheses and NOT', () => {
    const tree = parseQuery('a b OR NOT (c OR d:e)');
    expect(tree).toMatchObject({
      kind: 'or', children: [
        { kind: 'and', children: [{ kind: 'match', value: 'a' }, { kind: 'match', value: 'b' }] },
        { kind: 'not', column: 8, child: { kind: 'or', children: [{ value: 'c' }, { field: 'd', value: 'e' }] } },
      ],
    });
    expect(parseQuery('a AND b')).toMatchObject({ kind: 'and', children: [{ value: 'a' }, { value: 'b', column: 7 }] });
  });

  it('reads wildcards, ranges and exists', () => {
    expect(parseQuery('user.name:adm*')).toEqual({ kind: 'wildcard', field: 'user.name', pattern: 'adm*', column: 1 });
    expect(parseQuery('adm*')).toEqual({ kind: 'wildcard', pattern: 'adm*', column: 1 });
    expect(parseQuery('http.response.status_code:[400 TO 499]')).toEqual({
      kind: 'range', field: 'http.response.status_code', lower: { value: '400', inclusive: true }, upper: { value: '499', inclusive: true }, column: 1,
    });
    expect(parseQuery('x:{1 TO *]')).toMatchObject({ kind: 'range', lower: { value: '1', inclusive: false } });
    expect(parseQuery('x:{1 TO *]')).not.toHaveProperty('upper');
    expect(parseQuery('event.severity:>=3')).toMatchObject({ kind: 'range', lower: { value: '3', inclusive: true } });
    expect(parseQuery('event.severity:<3')).toMatchObject({ kind: 'range', upper: { value: '3', inclusive: false } });
    expect(parseQuery('process.name:*')).toEqual({ kind: 'exists', field: 'process.name', column: 1 });
    expect(parseQuery('url.path:a\\*b')).toEqual({ kind: 'match', field: 'url.path', value: 'a*b', phrase: false, column: 1 });
  });

  it('names the column and what was expected, in Chinese and English', () => {
    const error = failure('user.name:root AND (sshd OR');
    expect(error.code).toBe('SW_ERR_STORE_INVALID_QUERY');
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/第 28 列：应为条件.*column 28: expected a condition/);
    expect(columnOf('(a OR b')).toBe(8);
    expect(failure('(a OR b').message).toMatch(/closing parenthesis/);
    expect(columnOf('a) b')).toBe(2);
    expect(columnOf('x:[1 TO 2')).toBe(10);
    expect(failure('x:[1 2]').message).toMatch(/expected TO/);
    expect(columnOf('"unclosed')).toBe(10);
    expect(columnOf('a AND')).toBe(6);
    expect(columnOf('a OR OR b')).toBe(6);
    expect(columnOf('user.name: root')).toBe(11);
    expect(columnOf('bad..field:x')).toBe(1);
    expect(failure('@timestamp:>=yesterday').message).toMatch(/column 14: expected a date/);
    expect(failure('@timestamp:>=2026-02-30').message).toMatch(/column 14: expected a date/);
    expect(failure('@timestamp:"Dec 5 2026"').message).toMatch(/expected a date/);
    expect(failure('message:err*').message).toMatch(/message does not take wildcards/);
    expect(failure('message:[a TO b]').message).toMatch(/message does not take ranges/);
  });

  it('refuses queries past the documented limits: length, depth, clauses, wildcards, value length, control characters', () => {
    expect(failure('a'.repeat(QUERY_LIMITS.length + 1)).message).toMatch(/longer than 1000/);
    expect(parseQuery(`${'('.repeat(QUERY_LIMITS.depth)}a${')'.repeat(QUERY_LIMITS.depth)}`)).toMatchObject({ kind: 'match' });
    expect(failure(`${'('.repeat(QUERY_LIMITS.depth + 1)}a${')'.repeat(QUERY_LIMITS.depth + 1)}`).message).toMatch(/nesting deeper than 8/);
    expect(failure(`${'NOT '.repeat(QUERY_LIMITS.depth + 1)}a`).message).toMatch(/nesting deeper/);
    expect(failure('(((((((((((((((((((((((((((((((((((((((((((((((((('.repeat(10)).message).toMatch(/nesting deeper/);
    expect(parseQuery(Array.from({ length: QUERY_LIMITS.clauses }, (_, i) => `w${i}`).join(' OR '))).toMatchObject({ kind: 'or' });
    expect(failure(Array.from({ length: QUERY_LIMITS.clauses + 1 }, (_, i) => `w${i}`).join(' OR ')).message).toMatch(/more than 32 conditions/);
    expect(failure('a:*b*c*d*e*f').message).toMatch(/more than 4 wildcards/);
    expect(failure(`a:${'x'.repeat(QUERY_LIMITS.value + 1)}`).message).toMatch(/longer than 256/);
    expect(columnOf('ok \u0000')).toBe(4);
  });

  it('throws nothing but the typed 400 on random input (fuzz, fixed seed)', () => {
    // mulberry32: small, seeded, and its low bits are as random as its high ones.
    let seed = 0x5eed;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return (x ^ (x >>> 14)) >>> 0;
    };
    const alphabet = ['a', 'b', ':', '"', '(', ')', ' ', '*', '[', ']', '{', '}', 'TO', 'AND', 'OR', 'NOT', '>', '>=', '<', '\\', '.', '@', '-', '1', '中', '\u0000', '\n', 'x.y'];
    const corpus = ['user.name:adm* AND NOT (sshd OR "Failed password")', 'x:[400 TO 499] OR y:>=3', 'process.name:* -a b', 'a:"q\\"x" (b)'];
    const kinds = new Set<string>();
    for (let i = 0; i < 20_000; i += 1) {
      const length = next() % 24;
      const random = Array.from({ length }, () => (next() % 10 === 0 ? String.fromCharCode(next() % 0x3000) : alphabet[next() % alphabet.length]!)).join('');
      // Half random tokens, half a valid query truncated and with random text spliced in.
      const base = corpus[next() % corpus.length]!;
      const cut = next() % (base.length + 1);
      const text = i % 2 ? random : `${base.slice(0, cut)}${random.slice(0, next() % 3)}${base.slice(cut + (next() % 3))}`;
      try {
        const walk = (node: QueryNode): void => {
          kinds.add(node.kind);
          if (node.kind === 'and' || node.kind === 'or') node.children.forEach(walk);
          if (node.kind === 'not') walk(node.child);
        };
        walk(parseQuery(text));
      } catch (error) {
        expect(error, text).toBeInstanceOf(ShouwangError);
        expect((error as ShouwangError).code, text).toBe('SW_ERR_STORE_INVALID_QUERY');
        expect((error as ShouwangError).statusCode).toBe(400);
        const column = ((error as ShouwangError).details as { column: number }).column;
        expect(column, text).toBeGreaterThanOrEqual(1);
        expect(column, text).toBeLessThanOrEqual(Math.max(text.length + 1, QUERY_LIMITS.length + 1));
      }
    }
    expect([...kinds].sort()).toEqual(['all', 'and', 'exists', 'match', 'not', 'or', 'range', 'wildcard']);
  });

  it('keeps the tree a plain typed value', () => {
    const tree: QueryNode = parseQuery('a:1');
    expect(JSON.parse(JSON.stringify(tree))).toEqual(tree);
  });

  it('reads @timestamp values without an offset in the time zone, and a bare date as that whole local day', () => {
    expect(parseQuery('@timestamp:>=2026-11-01')).toMatchObject({ kind: 'range', lower: { value: '2026-10-31T16:00:00.000Z', inclusive: true } });
    expect(parseQuery('@timestamp:>=2026-11-01', 'UTC')).toMatchObject({ lower: { value: '2026-11-01T00:00:00.000Z' } });
    expect(parseQuery('@timestamp:<2026-11-01T08:00:00+08:00', 'UTC')).toMatchObject({ upper: { value: '2026-11-01T00:00:00.000Z', inclusive: false } });
    expect(parseQuery('@timestamp:[2026-11-01 TO 2026-11-02}')).toMatchObject({
      lower: { value: '2026-10-31T16:00:00.000Z' }, upper: { value: '2026-11-01T16:00:00.000Z', inclusive: false },
    });
    expect(parseQuery('@timestamp:2026-11-01')).toEqual({
      kind: 'range', field: '@timestamp', column: 1,
      lower: { value: '2026-10-31T16:00:00.000Z', inclusive: true }, upper: { value: '2026-11-01T16:00:00.000Z', inclusive: false },
    });
    // The day the clocks go back in Berlin has 25 hours.
    expect(parseQuery('@timestamp:2026-10-25', 'Europe/Berlin')).toMatchObject({
      lower: { value: '2026-10-24T22:00:00.000Z' }, upper: { value: '2026-10-25T23:00:00.000Z' },
    });
    expect(parseQuery('@timestamp:2026-11-01T08:00:00Z')).toEqual({ kind: 'match', field: '@timestamp', value: '2026-11-01T08:00:00.000Z', phrase: false, column: 1 });
  });
});

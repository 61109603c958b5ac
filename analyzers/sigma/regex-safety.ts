/**
 * A conservative check for regexes that can backtrack catastrophically (exponential time in the input
 * length), run when a rule is compiled, so a rule file on disk and a pasted rule are refused alike.
 * Refused, where the outer repetition is unbounded (`*`, `+`, `{n,}`):
 * - star height above one: a repeated group that itself holds an unbounded repetition, `(a+)+`, `(\w*\s?)*`;
 * - a repeated group with alternatives that can start with the same character, `(a|a)*`, `(a|ab)*`,
 *   `(\w|\d)+`, or with an alternative that can match nothing, `(a|)+`;
 * - a repeated group whose body can match nothing, `(a?)*`;
 * - backreferences, `(x)\1` (matching them is NP-hard in general).
 * Not caught: polynomial blow-ups such as `\d*\d*\d*x`, or `(.*a){20}` (bounded outer count). The pasted
 * path therefore also runs in a worker with a time and memory budget (rule-sandbox.ts).
 */

/** Why the pattern is refused, or undefined when it passes. */
export function backtrackingRisk(source: string, flags = ''): string | undefined {
  let tree: Alternation;
  try {
    tree = new Reader(source).readAll();
  } catch (error) {
    if (error instanceof TooDeep) return `groups nested more than ${MAX_DEPTH} deep`;
    return undefined; // RegExp itself reports syntax errors
  }
  const chars = new CharSamples(source, flags);
  return riskIn(tree, chars);
}

/** Deeper nesting is refused rather than checked: the check recurses once per level. */
const MAX_DEPTH = 100;
class TooDeep extends Error {}

type Node =
  | { type: 'char'; source: string }
  | { type: 'any' }
  | { type: 'assert' }
  | { type: 'backref' }
  | { type: 'group'; body: Alternation; lookaround: boolean }
  | { type: 'repeat'; node: Node; min: number; max: number };
type Sequence = Node[];
type Alternation = Sequence[];

class Reader {
  #i = 0;
  #depth = 0;
  readonly #s: string;
  constructor(source: string) {
    this.#s = source;
  }

  readAll(): Alternation {
    const alternation = this.#alternation();
    if (this.#i < this.#s.length) throw new Error('unbalanced )');
    return alternation;
  }

  #alternation(): Alternation {
    const branches: Alternation = [this.#sequence()];
    while (this.#s[this.#i] === '|') {
      this.#i += 1;
      branches.push(this.#sequence());
    }
    return branches;
  }

  #sequence(): Sequence {
    const items: Sequence = [];
    while (this.#i < this.#s.length && this.#s[this.#i] !== '|' && this.#s[this.#i] !== ')') {
      const atom = this.#atom();
      const quantifier = this.#quantifier();
      items.push(quantifier ? { type: 'repeat', node: atom, ...quantifier } : atom);
    }
    return items;
  }

  #atom(): Node {
    const s = this.#s;
    const start = this.#i;
    const c = s[this.#i]!;
    this.#i += 1;
    if (c === '^' || c === '$') return { type: 'assert' };
    if (c === '.') return { type: 'any' };
    if (c === '(') {
      let lookaround = false;
      if (s[this.#i] === '?') {
        const named = /^\?<(?![=!])[^>]*>/.exec(s.slice(this.#i));
        if (named) this.#i += named[0].length;
        else if (/^\?<?[=!]/.test(s.slice(this.#i))) {
          lookaround = true;
          this.#i += s[this.#i + 1] === '<' ? 3 : 2;
        } else this.#i += 2; // (?:
      }
      if (++this.#depth > MAX_DEPTH) throw new TooDeep();
      const body = this.#alternation();
      if (s[this.#i] !== ')') throw new Error('unclosed (');
      this.#i += 1;
      this.#depth -= 1;
      return lookaround ? { type: 'assert' } : { type: 'group', body, lookaround };
    }
    if (c === '[') {
      if (s[this.#i] === '^') this.#i += 1;
      if (s[this.#i] === ']') this.#i += 1;
      while (this.#i < s.length && s[this.#i] !== ']') this.#i += s[this.#i] === '\\' ? 2 : 1;
      this.#i += 1;
      return { type: 'char', source: s.slice(start, this.#i) };
    }
    if (c === '\\') {
      const next = s[this.#i] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && s[this.#i + 1] === '<')) {
        this.#i += /^\d+|^k<[^>]*>/.exec(s.slice(this.#i))![0].length;
        return { type: 'backref' };
      }
      if (next === 'b' || next === 'B') {
        this.#i += 1;
        return { type: 'assert' };
      }
      const escape = /^(?:[pP]\{[^}]*\}|x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|c[A-Za-z]|0|[\s\S])/.exec(s.slice(this.#i));
      this.#i += escape ? escape[0].length : 0;
      return { type: 'char', source: s.slice(start, this.#i) };
    }
    return { type: 'char', source: c };
  }

  #quantifier(): { min: number; max: number } | undefined {
    const rest = this.#s.slice(this.#i);
    const match = /^(?:([*+?])|\{(\d+)(,(\d*))?\})\??/.exec(rest);
    if (!match) return undefined;
    this.#i += match[0].length;
    if (match[1]) return { min: match[1] === '+' ? 1 : 0, max: match[1] === '?' ? 1 : Infinity };
    const min = Number(match[2]);
    return { min, max: match[3] === undefined ? min : match[4] ? Number(match[4]) : Infinity };
  }
}

/** Whether two character atoms can match the same character, found by trying sample characters. */
class CharSamples {
  readonly #samples: string[];
  readonly #flags: string;
  readonly #cache = new Map<string, Set<string>>();

  constructor(source: string, flags: string) {
    this.#flags = flags.replace(/[gy]/g, '');
    const samples = new Set<string>();
    for (let code = 0; code < 128; code += 1) samples.add(String.fromCharCode(code));
    // Every character the pattern names (range ends included) and a few outside ASCII.
    for (const c of source) samples.add(c);
    for (const m of source.matchAll(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|u\{([0-9a-fA-F]{1,6})\})/g)) {
      const code = parseInt(m[1] ?? m[2] ?? m[3]!, 16);
      if (code <= 0x10ffff) samples.add(String.fromCodePoint(code));
    }
    for (const c of ['\u00a0', '\u00e9', '\u0130', '\u017f', '\u212a', '\u2028', '\u3000', '中', '\ud83d\ude00']) samples.add(c);
    this.#samples = [...samples];
  }

  matches(atom: string): Set<string> {
    let set = this.#cache.get(atom);
    if (!set) {
      set = new Set();
      let regex: RegExp | undefined;
      try {
        regex = new RegExp(`^(?:${atom})$`, this.#flags);
      } catch {
        regex = undefined;
      }
      for (const c of this.#samples) if (!regex || regex.test(c)) set.add(c);
      this.#cache.set(atom, set);
    }
    return set;
  }

  all(): Set<string> {
    return new Set(this.#samples);
  }
}

const unbounded = (node: Node): boolean => node.type === 'repeat' && node.max === Infinity;

function nullable(node: Node): boolean {
  switch (node.type) {
    case 'assert': return true;
    case 'backref': return true;
    case 'group': return node.body.some((branch) => branch.every(nullable));
    case 'repeat': return node.min === 0 || nullable(node.node);
    default: return false;
  }
}

/** The characters a match of the sequence can start with (all, for a backreference). */
function firstChars(sequence: Sequence, chars: CharSamples): Set<string> {
  const out = new Set<string>();
  for (const node of sequence) {
    for (const c of firstOf(node, chars)) out.add(c);
    if (!nullable(node)) break;
  }
  return out;
}

function firstOf(node: Node, chars: CharSamples): Set<string> {
  switch (node.type) {
    case 'char': return chars.matches(node.source);
    case 'any': return chars.matches('.');
    case 'backref': return chars.all();
    case 'assert': return new Set();
    case 'group': return new Set(node.body.flatMap((branch) => [...firstChars(branch, chars)]));
    case 'repeat': return firstOf(node.node, chars);
  }
}

function holdsUnbounded(node: Node): boolean {
  if (unbounded(node)) return true;
  if (node.type === 'repeat') return holdsUnbounded(node.node);
  if (node.type === 'group') return node.body.some((branch) => branch.some(holdsUnbounded));
  return false;
}

/**
 * Star height above one, except a run of one character class that cannot match what follows it in the
 * repeated body (`(-[a-z]+)*`, `(/\*[^*]*\*\/)+`): where such a run stops is decided by the text, so
 * it cannot be split between iterations in more than one way.
 */
function nestedUnbounded(body: Alternation, chars: CharSamples): boolean {
  const bodyFirst = new Set(body.flatMap((branch) => [...firstChars(branch, chars)]));
  return body.some((branch) => branch.some((node, i) => {
    if (!holdsUnbounded(node)) return false;
    if (node.type !== 'repeat' || (node.node.type !== 'char' && node.node.type !== 'any')) return true;
    const rest = branch.slice(i + 1);
    const follow = firstChars(rest, chars);
    if (rest.every(nullable)) for (const c of bodyFirst) follow.add(c);
    const run = firstOf(node.node, chars);
    return [...run].some((c) => follow.has(c));
  }));
}

function riskIn(alternation: Alternation, chars: CharSamples): string | undefined {
  for (const branch of alternation) {
    for (const node of branch) {
      const risk = riskOf(node, chars);
      if (risk) return risk;
    }
  }
  return undefined;
}

function riskOf(node: Node, chars: CharSamples): string | undefined {
  if (node.type === 'backref') return 'backreference';
  if (node.type === 'group') return riskIn(node.body, chars);
  if (node.type !== 'repeat') return undefined;
  const inner = node.node;
  if (node.max === Infinity && inner.type !== 'char' && inner.type !== 'any') {
    const body: Alternation = inner.type === 'group' ? inner.body : [[inner]];
    if (nestedUnbounded(body, chars)) return 'nested quantifiers (star height > 1)';
    if (nullable(inner)) return 'a repeated group that can match the empty string';
    if (inner.type === 'group' && inner.body.length > 1) {
      const firsts = inner.body.map((branch) => firstChars(branch, chars));
      for (let a = 0; a < firsts.length; a += 1) {
        for (let b = a + 1; b < firsts.length; b += 1) {
          const shared = [...firsts[a]!].find((c) => firsts[b]!.has(c));
          if (shared !== undefined) return `a repeated alternation whose branches overlap (both can start with ${JSON.stringify(shared)})`;
        }
      }
    }
  }
  return riskOf(inner, chars);
}

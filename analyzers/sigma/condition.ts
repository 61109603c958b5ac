/**
 * The Sigma condition grammar, parsed into a tree once per rule. Precedence, least binding first:
 * or, and, not, `x of pattern`, parentheses.
 */

export type ConditionNode =
  | { type: 'and' | 'or'; items: ConditionNode[] }
  | { type: 'not'; item: ConditionNode }
  | { type: 'ref'; name: string }
  /** `1 of sel*`, `all of them`; `count` is 'all' or at least N. */
  | { type: 'of'; count: number | 'all'; pattern: string };

export class ConditionError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

interface Token {
  text: string;
  at: number;
}

const TOKEN = /\s*(\(|\)|[^\s()]+)/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (TOKEN.lastIndex < text.length && (match = TOKEN.exec(text))) {
    tokens.push({ text: match[1]!, at: match.index + match[0].length - match[1]!.length });
  }
  return tokens;
}

const IDENTIFIER = /^[\w*.-]+$/;

/** Parses one condition string; throws ConditionError with the column of the problem. */
export function parseCondition(text: string): ConditionNode {
  if (text.includes('|')) {
    throw new ConditionError('Sigma 1 聚合表达式不再支持 aggregation expressions ("| count() …") are not part of Sigma 2: write a correlation rule', text.indexOf('|') + 1);
  }
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position]?.text.toLowerCase();
  const fail = (message: string): never => {
    throw new ConditionError(message, (tokens[position]?.at ?? text.length) + 1);
  };

  const parseOr = (): ConditionNode => {
    const items = [parseAnd()];
    while (peek() === 'or') {
      position += 1;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  };
  const parseAnd = (): ConditionNode => {
    const items = [parseNot()];
    while (peek() === 'and') {
      position += 1;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  };
  const parseNot = (): ConditionNode => {
    if (peek() === 'not') {
      position += 1;
      return { type: 'not', item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): ConditionNode => {
    const token = tokens[position];
    if (!token) return fail('条件不完整 condition ends too early');
    const word = token.text.toLowerCase();
    if (word === '(') {
      position += 1;
      const inner = parseOr();
      if (peek() !== ')') fail('缺少右括号 missing ")"');
      position += 1;
      return inner;
    }
    if (tokens[position + 1]?.text.toLowerCase() === 'of') {
      const count = word === 'all' ? 'all' : /^[1-9]\d*$/.test(word) ? Number(word) : undefined;
      if (count === undefined) fail(`"${token.text} of" 应为 "1 of" 或 "all of" expected "1 of" or "all of"`);
      position += 2;
      const target = tokens[position];
      if (!target || !IDENTIFIER.test(target.text)) fail('"of" 之后缺少标识符模式 expected an identifier pattern or "them" after "of"');
      position += 1;
      return { type: 'of', count: count!, pattern: target!.text };
    }
    if (['and', 'or', 'not', ')', 'of'].includes(word) || !IDENTIFIER.test(token.text)) {
      return fail(`意外的 unexpected "${token.text}"`);
    }
    position += 1;
    return { type: 'ref', name: token.text };
  };

  const tree = parseOr();
  if (position < tokens.length) fail(`意外的 unexpected "${tokens[position]!.text}"`);
  return tree;
}

/** Identifier names an `of` pattern covers; `them` leaves out those starting with `_`. */
export function identifiersFor(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((name) => !name.startsWith('_'));
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return identifiers.filter((name) => regex.test(name));
}

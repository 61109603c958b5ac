import { isIP } from 'node:net';
import { isPlainObject } from './fields.js';

/**
 * Bounds on one record, checked where its JSON is parsed and again by both stores. ECS itself nests
 * about 6 levels (`process.parent.group_leader.user.name`); 32 leaves room for any sender's own fields
 * while keeping every later step (expand, serialize, index) far from the stack limit. 1,000 fields is
 * Elasticsearch's default `index.mapping.total_fields.limit`.
 */
export const RECORD_LIMITS = {
  /** Levels of objects and arrays, a dotted key counting one level per part. */
  maxDepth: 32,
  /** Keys in the whole record, at every level (a dotted key counting one per part). */
  maxFields: 1000,
  /** Characters in one string value. */
  maxStringChars: 1 << 20,
} as const;

// Reused by every call (the check is synchronous): no allocation per value on the ingest hot path.
const pendingValues: unknown[] = [];
const pendingDepths: number[] = [];

/** Why a parsed record is past RECORD_LIMITS, or undefined. Iterative, and stops at the first limit hit. */
export function recordShapeProblem(doc: unknown): string | undefined {
  return recordShape(doc).problem;
}

/**
 * recordShapeProblem, and whether expandDotted could change the record's JSON: a key with a dot, or an
 * object that is not a plain one (a Date, a boxed string). Learnt on the same walk, so a store that
 * serialises at once skips the copy for the usual record.
 */
export function recordShape(doc: unknown): RecordShape {
  try {
    return walkShape(doc);
  } finally {
    pendingValues.length = 0;
    pendingDepths.length = 0;
  }
}

export interface RecordShape {
  problem: string | undefined;
  expands: boolean;
}

const problem = (text: string): RecordShape => ({ problem: text, expands: false });

function walkShape(doc: unknown): RecordShape {
  const { maxDepth, maxFields, maxStringChars } = RECORD_LIMITS;
  let fields = 0;
  let expands = false;
  pendingValues.push(doc);
  pendingDepths.push(1);
  while (pendingValues.length) {
    const value = pendingValues.pop();
    const depth = pendingDepths.pop()!;
    if (typeof value === 'string') {
      if (value.length > maxStringChars) return problem(`record too large: a string value is longer than ${maxStringChars} characters`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return problem(`record too deep: nested more than ${maxDepth} levels`);
    if (Array.isArray(value)) {
      for (const item of value) {
        pendingValues.push(item);
        pendingDepths.push(depth + 1);
      }
      continue;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    const plain = prototype === Object.prototype || prototype === null;
    if (!plain) expands = true;
    // for-in allocates no key array (Object.keys here was a twentieth of the collector's garbage); only a plain
    // object's enumerable keys are all its own.
    for (const key in value) {
      if (!plain && !Object.hasOwn(value, key)) continue;
      let parts = 1;
      for (let dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', dot + 1)) parts += 1;
      if (parts > 1) expands = true;
      fields += parts;
      if (fields > maxFields) return problem(`record too large: more than ${maxFields} fields`);
      if (depth + parts - 1 > maxDepth) return problem(`record too deep: nested more than ${maxDepth} levels`);
      pendingValues.push((value as Record<string, unknown>)[key]);
      pendingDepths.push(depth + parts);
    }
  }
  return { problem: undefined, expands };
}

const KEYWORD_MAX_CHARS = 8191; // 32,766 UTF-8 bytes, Lucene's longest term, at 4 bytes a character
const isLong = (value: unknown) => (typeof value === 'number' && Math.abs(value) < 9.2e18)
  || (typeof value === 'string' && /^-?\d{1,18}(\.\d+)?$/.test(value));
const isIpText = (value: unknown) => typeof value === 'string' && isIP(value) !== 0;
const isKeyword = (value: unknown) => typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
  || (typeof value === 'string' && value.length <= KEYWORD_MAX_CHARS);

const IP = ['an IP address', isIpText] as const;
const LONG = ['an integer', isLong] as const;
const KEYWORD = [`a value of at most ${KEYWORD_MAX_CHARS} characters`, isKeyword] as const;

/**
 * The ECS fields the stores give a type (store/elasticsearch/indices.ts), by parent object: a value of
 * another type is refused by Elasticsearch, so it is refused by name here for both stores alike.
 */
const TYPED_FIELDS: Record<string, Record<string, readonly [what: string, ok: (value: unknown) => boolean]>> = {
  event: { severity: LONG },
  host: { ip: IP, name: KEYWORD },
  source: { ip: IP, port: LONG },
  destination: { ip: IP, port: LONG },
  client: { ip: IP },
  server: { ip: IP },
  related: { ip: IP, user: KEYWORD, hosts: KEYWORD },
  user: { name: KEYWORD },
  shouwang: {},
};
const TYPED_PARENTS = Object.keys(TYPED_FIELDS).map((parent) => ({
  parent,
  children: Object.entries(TYPED_FIELDS[parent]!).map(([child, [what, ok]]) => ({ child, dotted: `${parent}.${child}`, what, ok })),
}));

/**
 * Why an event has a well-known ECS field of the wrong type, or undefined. Arrays are checked element
 * by element. Nested fields are read, and a literal `host.ip` key at the top as well.
 */
export function typedFieldProblem(event: Record<string, unknown>): string | undefined {
  for (const { parent, children } of TYPED_PARENTS) {
    const object = Object.hasOwn(event, parent) ? event[parent] : undefined;
    if (object !== undefined && object !== null && !isPlainObject(object)) return `${parent} must be an object, got ${describe(object)}`;
    for (const { child, dotted, what, ok } of children) {
      const problem = valueProblem(object?.[child], ok) ?? valueProblem(Object.hasOwn(event, dotted) ? event[dotted] : undefined, ok);
      if (problem !== undefined) return `${dotted} must be ${what}, got ${problem}`;
    }
  }
  return undefined;
}

/** How a value (or an element of it) is not what `ok` wants, described; undefined when it is. */
function valueProblem(value: unknown, ok: (value: unknown) => boolean): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return ok(value) ? undefined : describe(value);
  for (const item of value) if (item !== null && !ok(item)) return describe(item);
  return undefined;
}

function describe(value: unknown): string {
  const text = typeof value === 'object' && value !== null ? (Array.isArray(value) ? 'an array' : 'an object') : JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

import { isIP } from 'node:net';
import { getField, isPlainObject } from './fields.js';

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

/** Why a parsed record is past RECORD_LIMITS, or undefined. Iterative, and stops at the first limit hit. */
export function recordShapeProblem(doc: unknown): string | undefined {
  const { maxDepth, maxFields, maxStringChars } = RECORD_LIMITS;
  let fields = 0;
  const stack: [value: unknown, depth: number][] = [[doc, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [value, depth] = top;
    if (typeof value === 'string') {
      if (value.length > maxStringChars) return `record too large: a string value is longer than ${maxStringChars} characters`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return `record too deep: nested more than ${maxDepth} levels`;
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(value)) {
      let parts = 1;
      for (let dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', dot + 1)) parts += 1;
      fields += parts;
      if (fields > maxFields) return `record too large: more than ${maxFields} fields`;
      if (depth + parts - 1 > maxDepth) return `record too deep: nested more than ${maxDepth} levels`;
      stack.push([(value as Record<string, unknown>)[key], depth + parts]);
    }
  }
  return undefined;
}

const KEYWORD_MAX_CHARS = 8191; // 32,766 UTF-8 bytes, Lucene's longest term, at 4 bytes a character
const isLong = (value: unknown) => (typeof value === 'number' && Math.abs(value) < 9.2e18)
  || (typeof value === 'string' && /^-?\d{1,18}(\.\d+)?$/.test(value));
const isIpText = (value: unknown) => typeof value === 'string' && isIP(value) !== 0;
const isKeyword = (value: unknown) => typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
  || (typeof value === 'string' && value.length <= KEYWORD_MAX_CHARS);

/**
 * The ECS fields the stores give a type (store/elasticsearch/indices.ts): a value of another type is
 * refused by Elasticsearch, so it is refused by name here for both stores alike.
 */
const TYPED_FIELDS: readonly (readonly [field: string, what: string, ok: (value: unknown) => boolean])[] = [
  ...['host.ip', 'source.ip', 'destination.ip', 'client.ip', 'server.ip', 'related.ip'].map((f) => [f, 'an IP address', isIpText] as const),
  ...['source.port', 'destination.port', 'event.severity'].map((f) => [f, 'an integer', isLong] as const),
  ...['host.name', 'user.name', 'related.user', 'related.hosts'].map((f) => [f, `a value of at most ${KEYWORD_MAX_CHARS} characters`, isKeyword] as const),
];
const OBJECT_FIELDS = ['event', 'host', 'source', 'destination', 'client', 'server', 'related', 'user', 'shouwang'];

/** Why an expanded event has a well-known ECS field of the wrong type, or undefined. Arrays are checked element by element. */
export function typedFieldProblem(event: Record<string, unknown>): string | undefined {
  for (const field of OBJECT_FIELDS) {
    const value = event[field];
    if (value !== undefined && value !== null && !isPlainObject(value)) return `${field} must be an object, got ${describe(value)}`;
  }
  for (const [field, what, ok] of TYPED_FIELDS) {
    const value = getField(event, field);
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    const bad = values.find((item) => item !== null && !ok(item));
    if (bad !== undefined) return `${field} must be ${what}, got ${describe(bad)}`;
  }
  return undefined;
}

function describe(value: unknown): string {
  const text = typeof value === 'object' && value !== null ? (Array.isArray(value) ? 'an array' : 'an object') : JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** ECS documents are nested objects; rules, filters and mappings name fields by dotted path. */

const FIELD_PATTERN = /^[A-Za-z0-9_@][A-Za-z0-9_@.-]*$/;

/** Segments that would reach an object's prototype when a name becomes a key (`filters[name] ??= []`). */
const PROTOTYPE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

export function isFieldName(name: string): boolean {
  return FIELD_PATTERN.test(name) && !name.includes('..') && !name.endsWith('.')
    && !name.split('.').some((segment) => PROTOTYPE_SEGMENTS.has(segment));
}

/** Reads `a.b.c` from a nested object; a literal dotted key wins over nesting at each level. */
export function getField(doc: unknown, path: string): unknown {
  // A loop, not recursion: a long path from a pasted rule cannot exhaust the stack.
  let node = doc;
  let rest = path;
  for (;;) {
    if (node === null || typeof node !== 'object') return undefined;
    const record = node as Record<string, unknown>;
    if (Object.hasOwn(record, rest)) return record[rest];
    const dot = rest.indexOf('.');
    if (dot < 0) return undefined;
    node = record[rest.slice(0, dot)];
    rest = rest.slice(dot + 1);
  }
}

/**
 * Turns `{"host.name": "a"}` into `{host: {name: "a"}}` so every adapter stores one shape. Objects
 * that meet at one path are merged. Iterative with its own stack: hostile nesting cannot overflow it.
 */
export function expandDotted<T extends Record<string, unknown>>(doc: T): T {
  // On the ingest hot path (every decoded event): walks each key by index instead of splitting it.
  // Depth first in key order, as recursion would be, so a later key still wins over an earlier one.
  const out: Record<string, unknown> = {};
  const stack: { from: Record<string, unknown>; into: Record<string, unknown>; keys: string[]; next: number }[] = [
    { from: doc, into: out, keys: Object.keys(doc), next: 0 },
  ];
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.keys.length) {
      stack.pop();
      continue;
    }
    const key = frame.keys[frame.next++]!;
    const value = frame.from[key];
    let node = frame.into;
    let start = 0;
    for (let dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', start)) {
      const part = key.slice(start, dot);
      const child = ownField(node, part);
      node = isPlainObject(child) ? child : setOwnField(node, part, {});
      start = dot + 1;
    }
    const last = start === 0 ? key : key.slice(start);
    if (isPlainObject(value)) {
      // Every object in `out` is one made here, so expanding into one that is already there is safe.
      const current = ownField(node, last);
      const into = isPlainObject(current) ? current : setOwnField(node, last, {});
      stack.push({ from: value, into, keys: Object.keys(value), next: 0 });
    } else {
      setOwnField(node, last, value);
    }
  }
  return out as T;
}

/**
 * A field of the object itself, never one inherited: a record's `"__proto__"` or `"constructor"`
 * key is data (JSON.parse makes it an own property), and must not reach Object.prototype.
 */
function ownField(node: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function setOwnField<V>(node: Record<string, unknown>, key: string, value: V): V {
  if (key === '__proto__') Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
  else node[key] = value;
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Merges `extra` into `base`, object by object; values in `extra` win. Neither input is changed. */
export function mergeFields<T extends Record<string, unknown>>(base: T, extra: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  // Iterative: each pair is (a copy we own, the extra object merged into it).
  const stack: [into: Record<string, unknown>, from: Record<string, unknown>][] = [[out, extra]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [into, from] = top;
    for (const key of Object.keys(from)) {
      const value = from[key];
      const current = ownField(into, key);
      if (isPlainObject(current) && isPlainObject(value)) {
        stack.push([setOwnField(into, key, { ...current }), value]);
      } else {
        setOwnField(into, key, value);
      }
    }
  }
  return out as T;
}

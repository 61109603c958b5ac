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
  if (doc === null || typeof doc !== 'object') return undefined;
  const record = doc as Record<string, unknown>;
  if (path in record) return record[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  return getField(record[path.slice(0, dot)], path.slice(dot + 1));
}

/** Turns `{"host.name": "a"}` into `{host: {name: "a"}}` so every adapter stores one shape. */
export function expandDotted<T extends Record<string, unknown>>(doc: T): T {
  // On the ingest hot path (every decoded event): walks each key by index instead of splitting it.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(doc)) {
    const value = doc[key];
    const expanded = isPlainObject(value) ? expandDotted(value) : value;
    let node = out;
    let start = 0;
    for (let dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', start)) {
      const part = key.slice(start, dot);
      const child = node[part];
      node = isPlainObject(child) ? child : (node[part] = {}) as Record<string, unknown>;
      start = dot + 1;
    }
    const last = start === 0 ? key : key.slice(start);
    const current = node[last];
    node[last] = isPlainObject(current) && isPlainObject(expanded) ? { ...current, ...expanded } : expanded;
  }
  return out as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Merges `extra` into `base`, object by object; values in `extra` win. Neither input is changed. */
export function mergeFields<T extends Record<string, unknown>>(base: T, extra: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const key of Object.keys(extra)) {
    const value = extra[key];
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeFields(current, value) : value;
  }
  return out as T;
}

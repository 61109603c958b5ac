/** ECS documents are nested objects; rules, filters and mappings name fields by dotted path. */

const FIELD_PATTERN = /^[A-Za-z0-9_@][A-Za-z0-9_@.-]*$/;

export function isFieldName(name: string): boolean {
  return FIELD_PATTERN.test(name) && !name.includes('..') && !name.endsWith('.');
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
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const expanded = isPlainObject(value) ? expandDotted(value) : value;
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(node[part])) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    node[last] = isPlainObject(node[last]) && isPlainObject(expanded) ? { ...node[last], ...expanded } : expanded;
  }
  return out as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Merges `extra` into `base`, object by object; values in `extra` win. Neither input is changed. */
export function mergeFields<T extends Record<string, unknown>>(base: T, extra: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeFields(current, value) : value;
  }
  return out as T;
}

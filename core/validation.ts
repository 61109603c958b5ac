import type { z } from 'zod';

/** Reads a value at a zod issue path from the raw input, so messages can quote what was given. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * What was given, as far as it is safe to print: maps by their keys and lists by their length (a password
 * written beside the right key, `password:` for `passwordEnv:`, is in there), and a URL without its `user:pass@`.
 */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `(a list of ${value.length})`;
  if (value !== null && typeof value === 'object') return `(a map with ${Object.keys(value).slice(0, 8).join(', ') || 'no keys'})`;
  const text = JSON.stringify(value).replace(/\/\/[^/@\s"]*@/g, '//(hidden)@');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

const SECRET_FIELD = /password|secret|token|credential|private/i;

/** One line per problem: `field.path: <zod message>, got <value>`. */
export function formatIssues(error: z.ZodError, input: unknown, describeField?: (path: string) => string): string {
  return error.issues
    .map((issue) => {
      const path = formatPath(issue.path);
      const label = describeField ? describeField(path) : path;
      // A password pasted into the wrong field must not reach the terminal or the logs.
      const secret = issue.path.some((key) => SECRET_FIELD.test(String(key)));
      return `  - ${label || '(root)'}: ${issue.message}, got ${secret ? '(hidden)' : show(valueAt(input, issue.path))}`;
    })
    .join('\n');
}

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

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

const SECRET_FIELD = /password|secret|token/i;

/** One line per problem: `field.path: <zod message>, got <value>`. */
export function formatIssues(error: z.ZodError, input: unknown, describeField?: (path: string) => string): string {
  return error.issues
    .map((issue) => {
      const path = formatPath(issue.path);
      const label = describeField ? describeField(path) : path;
      // A password pasted into the wrong field must not reach the terminal or the logs.
      const secret = SECRET_FIELD.test(String(issue.path[issue.path.length - 1] ?? ''));
      return `  - ${label || '(root)'}: ${issue.message}, got ${secret ? '(hidden)' : show(valueAt(input, issue.path))}`;
    })
    .join('\n');
}

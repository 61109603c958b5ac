const MAX_LENGTH = 1000;

/**
 * A YAML value as JSON for a problem message. YAML aliases can make a value that holds itself
 * (`a: &x {k: *x}`), which JSON.stringify refuses; a huge value is cut.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = '[一个引用自身的值 a value that refers to itself]';
  }
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text;
}

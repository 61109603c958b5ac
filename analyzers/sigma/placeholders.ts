/**
 * Values of the `expand` modifier's `%name%` placeholders (Sigma 2.1 modifiers appendix): a YAML
 * file named by `analyze.placeholders` (`Admins: [admin, dba]`) and the inventory's `placeholders`.
 * Where both name one placeholder, the values are joined.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../../core/index.js';
import { RuleErrors } from './errors.js';

export type Placeholders = Record<string, string[]>;

const value = z.union([z.string(), z.number()]).transform(String);
const PlaceholdersSchema = z.record(
  z.string().regex(/^[\w.-]+$/, 'a placeholder name: letters, digits, _ . -'),
  z.union([value.transform((v) => [v]), z.array(value).min(1)]),
);

export function parsePlaceholders(text: string, where: string): Placeholders {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw RuleErrors.placeholdersInvalid(where, (error as Error).message);
  }
  const parsed = PlaceholdersSchema.safeParse(raw);
  if (!parsed.success) throw RuleErrors.placeholdersInvalid(where, formatIssues(parsed.error, raw));
  return parsed.data;
}

export function loadPlaceholders(file: string): Placeholders {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw RuleErrors.placeholdersInvalid(file, (error as Error).message);
  }
  return parsePlaceholders(text, file);
}

export function mergePlaceholders(...sources: (Placeholders | undefined)[]): Placeholders {
  const out: Placeholders = {};
  for (const source of sources) {
    for (const [name, values] of Object.entries(source ?? {})) out[name] = [...new Set([...(out[name] ?? []), ...values])];
  }
  return out;
}

/**
 * Field mapping, as pySigma processing pipelines do it, but as configuration: Sigma field names per
 * logsource → our ECS fields, and per logsource a condition (`when`) that says which events it is.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../../core/index.js';
import { shippedRulesPath } from '../shipped-path.js';
import { RuleErrors } from './errors.js';

export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
}

export interface LogsourceMapping {
  name: string;
  logsource: Logsource;
  /** A Sigma search value over ECS fields (a map, or a list of maps for "any of"); absent: every event. */
  when?: unknown;
  fields: Record<string, string[]>;
  /** Where names the table does not list live, e.g. `auditd.data.` for raw auditd keys. */
  unmappedPrefix?: string;
}

export interface FieldMapping {
  /** Fields keyword searches look in. */
  keywordFields: string[];
  /** Zone of the time modifiers (hour, day…), minutes east of UTC. */
  timeOffsetMinutes: number;
  /** For every logsource. */
  fields: Record<string, string[]>;
  logsources: LogsourceMapping[];
}

const targets = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));
const logsourceSchema = z.strictObject({ product: z.string().optional(), category: z.string().optional(), service: z.string().optional() });

const MappingSchema = z.strictObject({
  keywordFields: z.array(z.string().min(1)).min(1).default(['message']),
  timeOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'expected ±HH:MM').default('+00:00'),
  fields: z.record(z.string(), targets).default({}),
  logsources: z.array(z.strictObject({
    name: z.string().min(1),
    logsource: logsourceSchema,
    when: z.unknown().optional(),
    fields: z.record(z.string(), targets).default({}),
    unmappedPrefix: z.string().min(1).optional(),
  })).default([]),
});

/** No renaming and no logsource conditions: rules see events exactly as written (test vectors). */
export function identityMapping(): FieldMapping {
  return { keywordFields: ['message'], timeOffsetMinutes: 0, fields: {}, logsources: [] };
}

export function parseFieldMapping(text: string, where: string): FieldMapping {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw RuleErrors.mappingInvalid(where, (error as Error).message);
  }
  const result = MappingSchema.safeParse(raw);
  if (!result.success) throw RuleErrors.mappingInvalid(where, formatIssues(result.error, raw));
  const { timeOffset, ...rest } = result.data;
  const sign = timeOffset.startsWith('-') ? -1 : 1;
  const [hours, minutes] = timeOffset.slice(1).split(':').map(Number) as [number, number];
  return {
    ...rest,
    timeOffsetMinutes: sign * (hours * 60 + minutes),
    logsources: rest.logsources.map((entry) => ({
      ...entry,
      logsource: lowerLogsource(entry.logsource),
    })),
  };
}

export function loadFieldMapping(file: string): FieldMapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw RuleErrors.mappingInvalid(file, (error as Error).message);
  }
  return parseFieldMapping(text, file);
}

/** The mapping shipped in rules/mappings/default.yaml, found from the source tree, a build under it, or the working directory. */
export function defaultMappingPath(): string {
  return shippedRulesPath('mappings/default.yaml');
}

export function loadDefaultMapping(): FieldMapping {
  return loadFieldMapping(defaultMappingPath());
}

/** What a rule's logsource resolves to: the entries that cover it, most general first, and its field names. */
export interface ResolvedLogsource {
  entries: LogsourceMapping[];
  resolveField(name: string): string[];
}

export function resolveLogsource(mapping: FieldMapping, logsource: Logsource | undefined): ResolvedLogsource {
  const wanted = lowerLogsource(logsource ?? {});
  const entries = mapping.logsources
    .filter((entry) => Object.entries(entry.logsource).every(([key, value]) => wanted[key as keyof Logsource] === value))
    .sort((a, b) => Object.keys(a.logsource).length - Object.keys(b.logsource).length);
  const fields: Record<string, string[]> = { ...mapping.fields };
  let prefix: string | undefined;
  for (const entry of entries) {
    Object.assign(fields, entry.fields);
    prefix = entry.unmappedPrefix ?? prefix;
  }
  return {
    entries,
    // Dotted names and `@timestamp` are already ECS paths (our own rules): only bare Sigma names get the prefix.
    resolveField: (name) => fields[name] ?? [prefix && !name.includes('.') && !name.startsWith('@') ? `${prefix}${name}` : name],
  };
}

function lowerLogsource(logsource: Logsource): Logsource {
  const out: Logsource = {};
  for (const key of ['product', 'category', 'service'] as const) {
    const value = logsource[key];
    if (value !== undefined) out[key] = value.toLowerCase();
  }
  return out;
}

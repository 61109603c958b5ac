/**
 * The MLPS 2.0 (GB/T 22239-2019) control catalog: the requirements Shouwang's monitoring can
 * evidence, at levels 2, 3 and 4. The YAML groups requirements by control and lists, per row, the
 * item letter each level gives it; here that is expanded once into items (`8.1.4.3 a)`), indexed by
 * clause, with each item linked to its equivalents at the other levels.
 *
 * Rule tags name a control (`mlps.8.1.4.3`) or one item (`mlps.8.1.4.3.a`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../../core/index.js';
import { shippedRulesPath } from '../shipped-path.js';
import { MlpsErrors } from './errors.js';

export type MlpsLevel = 2 | 3 | 4;
export type MlpsAreaKey = 'boundary' | 'computing' | 'management';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface MlpsItem {
  /** `8.1.4.3 a)` */
  clause: string;
  /** `8.1.4.3` */
  controlClause: string;
  letter: string;
  level: MlpsLevel;
  area: Bilingual & { key: MlpsAreaKey };
  control: Bilingual;
  requirement: Bilingual;
  /** The same requirement at the other levels, e.g. `7.1.4.3 a)`, `9.1.4.3 a)`. */
  equivalents: string[];
}

export interface MlpsControl {
  /** `8.1.4.3` */
  clause: string;
  level: MlpsLevel;
  area: Bilingual & { key: MlpsAreaKey };
  control: Bilingual;
  items: MlpsItem[];
  /** The same control at the other levels that have it. */
  equivalents: string[];
}

/** Where the catalog ships, `rules/mlps/catalog.yaml`: found from the source tree, a build under it, or the working directory. */
export function defaultMlpsCatalogPath(): string {
  return shippedRulesPath('mlps/catalog.yaml');
}

const LEVEL_CHAPTER: Record<MlpsLevel, string> = { 2: '7', 3: '8', 4: '9' };
const CLAUSE = /^([789])\.1\.[345]\.\d{1,2}$/;
const LETTER = z.string().regex(/^[a-z]$/, 'an item letter a–z');
const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
const levelKey = z.enum(['2', '3', '4']);

const catalogSchema = z.strictObject({
  areas: z.strictObject({ boundary: bilingual, computing: bilingual, management: bilingual }),
  controls: z.array(
    z.strictObject({
      area: z.enum(['boundary', 'computing', 'management']),
      control: bilingual,
      clauses: z.partialRecord(levelKey, z.string().regex(CLAUSE, 'a clause like 8.1.4.3')),
      requirements: z.array(
        z.strictObject({
          levels: z.partialRecord(levelKey, LETTER),
          zh: z.string().min(1),
          en: z.string().min(1),
          text: z.partialRecord(levelKey, bilingual).optional(),
        }),
      ).min(1),
    }),
  ).min(1),
});

type CatalogDocument = z.infer<typeof catalogSchema>;

export class MlpsCatalog {
  readonly items: readonly MlpsItem[];
  readonly controls: readonly MlpsControl[];
  readonly #items = new Map<string, MlpsItem>();
  readonly #controls = new Map<string, MlpsControl>();

  constructor(items: MlpsItem[], controls: MlpsControl[]) {
    this.items = items;
    this.controls = controls;
    for (const item of items) this.#items.set(item.clause, item);
    for (const control of controls) this.#controls.set(control.clause, control);
  }

  /** `8.1.4.3` → the control; `8.1.4.3 a)` (or `8.1.4.3.a`) → the control the item belongs to. */
  controlByClause(clause: string): MlpsControl | undefined {
    const normalized = normalizeClause(clause);
    if (!normalized) return undefined;
    return this.#controls.get(normalized.control);
  }

  /** `8.1.4.3 a)` or `8.1.4.3.a` → the item. */
  itemByClause(clause: string): MlpsItem | undefined {
    const normalized = normalizeClause(clause);
    return normalized?.letter ? this.#items.get(`${normalized.control} ${normalized.letter})`) : undefined;
  }

  /** The items a rule tag names: all items of a control (`mlps.8.1.4.3`) or one (`mlps.8.1.4.3.a`); [] when unknown. */
  clausesForTag(tag: string): MlpsItem[] {
    if (!tag.toLowerCase().startsWith('mlps.')) return [];
    const clause = tag.slice('mlps.'.length);
    const normalized = normalizeClause(clause);
    if (!normalized) return [];
    if (normalized.letter) {
      const item = this.itemByClause(clause);
      return item ? [item] : [];
    }
    return [...(this.#controls.get(normalized.control)?.items ?? [])];
  }

  /** Whether a tag names something in the catalog (tags of other namespaces are not MLPS tags: false). */
  resolvesTag(tag: string): boolean {
    return this.clausesForTag(tag).length > 0;
  }

  /**
   * A clause (control or item) at one level → the same at the given levels (default: all that have
   * it), itself included. `equivalentClauses('8.1.4.3')` → `['7.1.4.3', '8.1.4.3', '9.1.4.3']`.
   */
  equivalentClauses(clause: string, levels: readonly MlpsLevel[] = [2, 3, 4]): string[] {
    const item = this.itemByClause(clause);
    const control = this.controlByClause(clause);
    const found = item ? [item.clause, ...item.equivalents] : control ? [control.clause, ...control.equivalents] : [];
    return found
      .filter((c) => levels.includes(levelOfClause(c)))
      .sort((a, b) => levelOfClause(a) - levelOfClause(b));
  }

  /** The tags a rule evidencing a (level-3) control should carry: `mlps.7.1.4.3`, `mlps.8.1.4.3`, `mlps.9.1.4.3`. */
  tagsFor(clause: string): string[] {
    return this.equivalentClauses(clause).map((c) => `mlps.${c.replace(/ ([a-z])\)$/, '.$1')}`);
  }
}

/** Parses and validates catalog YAML; throws SW_ERR_MLPS_CATALOG_INVALID naming each problem. */
export function parseMlpsCatalog(text: string, file = 'catalog.yaml'): MlpsCatalog {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw MlpsErrors.catalogInvalid(file, `  - not YAML: ${(error as Error).message}`);
  }
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) throw MlpsErrors.catalogInvalid(file, formatIssues(parsed.error, raw));
  return buildCatalog(parsed.data, file);
}

/** Reads the catalog file (default: the shipped one). */
export function loadMlpsCatalog(path = defaultMlpsCatalogPath()): MlpsCatalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw MlpsErrors.catalogRead(path, (error as Error).message);
  }
  return parseMlpsCatalog(text, path);
}

function buildCatalog(doc: CatalogDocument, file: string): MlpsCatalog {
  const problems: string[] = [];
  const items: MlpsItem[] = [];
  const controls: MlpsControl[] = [];
  const seen = new Set<string>();

  doc.controls.forEach((entry, c) => {
    const where = `controls[${c}] ${entry.control.zh}`;
    const area = { key: entry.area, ...doc.areas[entry.area] };
    const clauses = Object.entries(entry.clauses) as [`${MlpsLevel}`, string][];
    const byLevel = new Map<MlpsLevel, MlpsControl>();
    for (const [levelText, clause] of clauses) {
      const level = Number(levelText) as MlpsLevel;
      if (!clause.startsWith(`${LEVEL_CHAPTER[level]}.`)) {
        problems.push(`  - ${where}: level ${level} clause ${clause} is not in chapter ${LEVEL_CHAPTER[level]}`);
        continue;
      }
      if (seen.has(clause)) problems.push(`  - ${where}: clause ${clause} is listed twice`);
      seen.add(clause);
      byLevel.set(level, { clause, level, area, control: entry.control, items: [], equivalents: [] });
    }
    for (const control of byLevel.values()) {
      control.equivalents = [...byLevel.values()].filter((other) => other !== control).map((other) => other.clause);
    }

    entry.requirements.forEach((row, r) => {
      const rowItems: MlpsItem[] = [];
      for (const [levelText, letter] of Object.entries(row.levels) as [`${MlpsLevel}`, string][]) {
        const level = Number(levelText) as MlpsLevel;
        const control = byLevel.get(level);
        if (!control) {
          problems.push(`  - ${where}.requirements[${r}]: level ${level} has no clause for this control`);
          continue;
        }
        const clause = `${control.clause} ${letter})`;
        if (seen.has(clause)) problems.push(`  - ${where}.requirements[${r}]: item ${clause} is listed twice`);
        seen.add(clause);
        const text = row.text?.[levelText] ?? { zh: row.zh, en: row.en };
        rowItems.push({
          clause, controlClause: control.clause, letter, level, area, control: entry.control, requirement: text, equivalents: [],
        });
      }
      for (const [levelText] of Object.entries(row.text ?? {})) {
        if (!(levelText in row.levels)) problems.push(`  - ${where}.requirements[${r}]: text for level ${levelText}, which the row does not have`);
      }
      for (const item of rowItems) {
        item.equivalents = rowItems.filter((other) => other !== item).map((other) => other.clause);
        byLevel.get(item.level)!.items.push(item);
        items.push(item);
      }
    });
    for (const control of byLevel.values()) {
      control.items.sort((a, b) => a.letter.localeCompare(b.letter));
      controls.push(control);
    }
  });
  if (problems.length) throw MlpsErrors.catalogInvalid(file, problems.join('\n'));
  return new MlpsCatalog(items, controls);
}

/** `8.1.4.3 a)`, `8.1.4.3a`, `8.1.4.3.a` → control + letter; undefined when it is not a clause. */
function normalizeClause(clause: string): { control: string; letter?: string } | undefined {
  const match = /^([789]\.1\.[345]\.\d{1,2})(?:(?:\.| ?)([a-z])\)?)?$/i.exec(clause.trim());
  if (!match) return undefined;
  return match[2] ? { control: match[1]!, letter: match[2].toLowerCase() } : { control: match[1]! };
}

function levelOfClause(clause: string): MlpsLevel {
  return ({ '7': 2, '8': 3, '9': 4 } as const)[clause[0] as '7' | '8' | '9'];
}

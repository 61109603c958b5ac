/**
 * The MLPS 2.0 (GB/T 22239-2019) control catalog: the requirements Shouwang's monitoring can
 * evidence or touches, at levels 2, 3 and 4. The YAML groups requirements by control and lists, per
 * row, the item letter and the GB/T 28448-2019 测评单元 id each level gives it; here that is expanded
 * once into items (`8.1.4.3 a)`, or `7.1.3.3` for a control with a single requirement), indexed by
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
export type MlpsAreaKey = 'boundary' | 'computing' | 'management' | 'operations';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface MlpsItem {
  /** `8.1.4.3 a)`; the control's clause (`7.1.3.3`) when it has a single requirement without a letter. */
  clause: string;
  /** `8.1.4.3` */
  controlClause: string;
  /** `a`; '' for the single requirement of a control. */
  letter: string;
  /** The GB/T 28448-2019 测评单元 that assesses the item, e.g. `L3-CES1-12`. */
  testUnit: string;
  level: MlpsLevel;
  area: Bilingual & { key: MlpsAreaKey };
  control: Bilingual;
  requirement: Bilingual;
  /** The same requirement at the other levels, e.g. `7.1.4.3 a)`, `9.1.4.3 a)`. */
  equivalents: string[];
}

/** One clause an alert cites, resolved to a requirement of the catalog (a control ref gives one per item). */
export interface MlpsRequirementRef {
  /** The clause as cited: `8.1.4.3 a)` or `8.1.4.3`. */
  ref: string;
  /** The item: `8.1.4.3 a)`. */
  clause: string;
  level: MlpsLevel;
  testUnit: string;
  control: Bilingual;
  requirement: Bilingual;
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
const CLAUSE = /^([789])\.1\.(?:[345]|10)\.\d{1,2}$/;
/** An item letter, or `-` for the single requirement of a control (GB/T 22239-2019 gives it none). */
const LETTER = z.string().regex(/^(?:[a-z]|-)$/, 'an item letter a–z, or - for a single requirement');
const UNIT = z.string().regex(/^L[1-5]-[A-Z]{3}\d-\d{2}$/, 'a 测评单元 id like L3-CES1-12');
/** GB/T 28448-2019 unit codes of the 安全通用要求 areas (附录C). */
const AREA_UNIT: Record<MlpsAreaKey, string> = { boundary: 'ABS1', computing: 'CES1', management: 'SMC1', operations: 'MMS1' };
const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
const levelKey = z.enum(['2', '3', '4']);

const catalogSchema = z.strictObject({
  areas: z.strictObject({ boundary: bilingual, computing: bilingual, management: bilingual, operations: bilingual }),
  controls: z.array(
    z.strictObject({
      area: z.enum(['boundary', 'computing', 'management', 'operations']),
      control: bilingual,
      /** The control's name where a level words it differently (7.1.3.4 恶意代码防范, 8.1.3.4 恶意代码和垃圾邮件防范). */
      names: z.partialRecord(levelKey, bilingual).optional(),
      clauses: z.partialRecord(levelKey, z.string().regex(CLAUSE, 'a clause like 8.1.4.3')),
      requirements: z.array(
        z.strictObject({
          levels: z.partialRecord(levelKey, LETTER),
          units: z.partialRecord(levelKey, UNIT),
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

  /** `8.1.4.3 a)` or `8.1.4.3.a` → the item; `7.1.3.3` → the single requirement of that control. */
  itemByClause(clause: string): MlpsItem | undefined {
    const normalized = normalizeClause(clause);
    if (!normalized) return undefined;
    return this.#items.get(normalized.letter ? `${normalized.control} ${normalized.letter})` : normalized.control);
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
    // A bare control clause means the control, even when its single requirement has the same number.
    const item = normalizeClause(clause)?.letter ? this.itemByClause(clause) : undefined;
    const control = this.controlByClause(clause);
    const found = item ? [item.clause, ...item.equivalents] : control ? [control.clause, ...control.equivalents] : [];
    return found
      .filter((c) => levels.includes(levelOfClause(c)))
      .sort((a, b) => levelOfClause(a) - levelOfClause(b));
  }

  /**
   * The requirement texts behind cited clauses, in the order cited: an item gives itself, a control
   * all its items. A clause the catalog does not hold gives nothing (the ref itself stays with the alert).
   */
  resolveRefs(refs: readonly string[]): MlpsRequirementRef[] {
    const resolved: MlpsRequirementRef[] = [];
    for (const ref of refs) {
      const items = normalizeClause(ref)?.letter ? [this.itemByClause(ref)] : this.controlByClause(ref)?.items ?? [];
      for (const item of items) {
        if (!item) continue;
        resolved.push({
          ref, clause: item.clause, level: item.level, testUnit: item.testUnit, control: item.control, requirement: item.requirement,
        });
      }
    }
    return resolved;
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
  const seenItems = new Set<string>();
  const units = new Map<string, string>();

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
      byLevel.set(level, { clause, level, area, control: entry.names?.[levelText] ?? entry.control, items: [], equivalents: [] });
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
        const single = letter === '-';
        const clause = single ? control.clause : `${control.clause} ${letter})`;
        if (seenItems.has(clause)) problems.push(`  - ${where}.requirements[${r}]: item ${clause} is listed twice`);
        seenItems.add(clause);
        const testUnit = row.units[levelText] ?? '';
        const unitPrefix = `L${level}-${AREA_UNIT[entry.area]}-`;
        if (!testUnit) problems.push(`  - ${where}.requirements[${r}]: ${clause} has no 测评单元 (units.${level})`);
        else if (!testUnit.startsWith(unitPrefix)) {
          problems.push(`  - ${where}.requirements[${r}]: ${clause} unit ${testUnit} is not a level-${level} ${area.zh} unit (${unitPrefix}nn)`);
        }
        if (testUnit && units.has(testUnit)) problems.push(`  - ${where}.requirements[${r}]: unit ${testUnit} is given twice (${units.get(testUnit)}, ${clause})`);
        if (testUnit) units.set(testUnit, clause);
        const text = row.text?.[levelText] ?? { zh: row.zh, en: row.en };
        rowItems.push({
          clause, controlClause: control.clause, letter: single ? '' : letter, testUnit, level, area, control: control.control,
          requirement: text, equivalents: [],
        });
      }
      for (const [field, values] of [['text', row.text], ['units', row.units]] as const) {
        for (const levelText of Object.keys(values ?? {})) {
          if (!(levelText in row.levels)) problems.push(`  - ${where}.requirements[${r}]: ${field} for level ${levelText}, which the row does not have`);
        }
      }
      for (const item of rowItems) {
        item.equivalents = rowItems.filter((other) => other !== item).map((other) => other.clause);
        byLevel.get(item.level)!.items.push(item);
        items.push(item);
      }
    });
    for (const control of byLevel.values()) {
      control.items.sort((a, b) => a.letter.localeCompare(b.letter));
      if (control.items.some((item) => item.letter === '') && control.items.length > 1) {
        problems.push(`  - ${where}: ${control.clause} has a single requirement (-) and lettered items too`);
      }
      controls.push(control);
    }
  });
  if (problems.length) throw MlpsErrors.catalogInvalid(file, problems.join('\n'));
  return new MlpsCatalog(items, controls);
}

/** `8.1.4.3 a)`, `8.1.4.3a`, `8.1.4.3.a` → control + letter; undefined when it is not a clause. */
function normalizeClause(clause: string): { control: string; letter?: string } | undefined {
  const match = /^([789]\.1\.(?:[345]|10)\.\d{1,2})(?:(?:\.| ?)([a-z])\)?)?$/i.exec(clause.trim());
  if (!match) return undefined;
  return match[2] ? { control: match[1]!, letter: match[2].toLowerCase() } : { control: match[1]! };
}

function levelOfClause(clause: string): MlpsLevel {
  return ({ '7': 2, '8': 3, '9': 4 } as const)[clause[0] as '7' | '8' | '9'];
}

/**
 * Why an alert fired, in terms an analyst reads: the rule's description and recommended response, the
 * fields its detection names with the values the sample events carried, and the entities to search for.
 */
import { getField, isPlainObject } from '../core/index.js';
import { loadRuleDir, type DetectionRule, type RuleDocument } from '../analyzers/index.js';

/** A rule file's own top-level field (Sigma allows custom ones): `{zh, en}` or one "中文 / English" string. */
export const RESPONSE_FIELD = 'x-shouwang-response';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface MatchedField {
  field: string;
  /** What the rule looks for, as written (modifiers included), e.g. `failure` or `|re (?i)/shell`. */
  expected: string[];
  /** The distinct values of the sample events, at most MAX_VALUES. */
  values: string[];
  /** The rule that names it: the alert's own, or a base rule of a correlation. */
  rule: string;
}

export interface AlertExplanation {
  rule?: { id: string; title: string; description?: string; falsepositives: string[]; kind: RuleDocument['kind'] };
  response?: Bilingual;
  matched: MatchedField[];
  entities: { field: string; value: string }[];
}

/** The fields an analyst pivots on; each becomes a `field:value` search. */
export const ENTITY_FIELDS = ['host.name', 'user.name', 'source.ip', 'process.name', 'db.name', 'db.objects'] as const;
const MAX_VALUES = 5;
const MAX_EXPECTED = 8;
const MAX_CHAIN = 4;

/** The rules as documents, by id and by name (correlations name their base rules either way). */
export class RuleBook {
  readonly #byKey = new Map<string, RuleDocument>();

  constructor(documents: readonly RuleDocument[]) {
    for (const doc of documents) {
      this.#byKey.set(doc.id, doc);
      if (doc.name) this.#byKey.set(doc.name, doc);
    }
  }

  static async load(dir: string): Promise<RuleBook> {
    return new RuleBook((await loadRuleDir(dir)).documents);
  }

  get(key: string): RuleDocument | undefined {
    return this.#byKey.get(key);
  }

  explain(ruleId: string, events: readonly Record<string, unknown>[]): AlertExplanation {
    const doc = this.get(ruleId);
    const named = doc ? this.#namedFields(doc, 0) : [];
    const matched: MatchedField[] = [];
    const seen = new Set<string>();
    for (const item of named) {
      const key = `${item.rule}\u0000${item.field}`;
      if (seen.has(key)) continue;
      seen.add(key);
      matched.push({ ...item, values: distinctValues(events, item.field) });
    }
    const entities = ENTITY_FIELDS.flatMap((field) => distinctValues(events, field).map((value) => ({ field, value })));
    const response = doc ? readResponse(doc.custom.other[RESPONSE_FIELD]) : undefined;
    return {
      ...(doc ? {
        rule: {
          id: doc.id, title: doc.title, kind: doc.kind, falsepositives: doc.falsepositives,
          ...(doc.description ? { description: doc.description } : {}),
        },
      } : {}),
      ...(response ? { response } : {}),
      matched,
      entities,
    };
  }

  /** Detection fields of a rule; for a correlation its group-by fields and those of its base rules. */
  #namedFields(doc: RuleDocument, depth: number): Omit<MatchedField, 'values'>[] {
    if (doc.kind === 'detection') return detectionFields(doc);
    if (doc.kind !== 'correlation' || depth >= MAX_CHAIN) return [];
    const own = doc.correlation.groupBy.map((field) => ({ field, expected: [], rule: doc.title }));
    const bases = doc.correlation.rules;
    return [...own, ...bases.flatMap((key) => {
      const base = this.get(key);
      return base ? this.#namedFields(base, depth + 1) : [];
    })];
  }
}

function detectionFields(doc: DetectionRule): Omit<MatchedField, 'values'>[] {
  const fields: Omit<MatchedField, 'values'>[] = [];
  for (const search of doc.detection.searches.values()) {
    for (const matchers of search.type === 'fields' ? [search.matchers] : search.maps.map((map) => map.matchers)) {
      for (const { field, modifiers, values } of matchers) {
        if (!field) continue;
        const prefix = modifiers.length ? `|${modifiers.join('|')} ` : '';
        const expected = values.slice(0, MAX_EXPECTED).map((v) => `${prefix}${v === null ? 'null' : String(v)}`);
        fields.push({ field, expected, rule: doc.title });
      }
    }
  }
  return fields;
}

function distinctValues(events: readonly Record<string, unknown>[], field: string): string[] {
  const values = new Set<string>();
  for (const event of events) {
    const value = getField(event, field);
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null || typeof item === 'object') continue;
      values.add(String(item));
      if (values.size >= MAX_VALUES) return [...values];
    }
  }
  return [...values];
}

function readResponse(value: unknown): Bilingual | undefined {
  if (isPlainObject(value) && typeof value.zh === 'string' && typeof value.en === 'string') return { zh: value.zh, en: value.en };
  if (typeof value === 'string') {
    const at = value.indexOf(' / ');
    return at < 0 ? { zh: value, en: value } : { zh: value.slice(0, at), en: value.slice(at + 3) };
  }
  return undefined;
}

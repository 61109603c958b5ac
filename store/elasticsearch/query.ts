import type { estypes } from '@elastic/elasticsearch';
import { checkField, decodeCursor, encodeCursor, pageSize, textTerms, toMillis } from '../paging.js';
import { TOTAL_COUNT_LIMIT, type Page, type PageRequest, type Scope, type TimeRange } from '../ports.js';
import type { Client } from '@elastic/elasticsearch';
import { isIP } from 'node:net';
import { IP_FIELDS, KEYWORD_FIELDS, numericValue, type QueryNode } from '../query-language.js';
import { call } from './translate.js';

export type Clause = estypes.QueryDslQueryContainer;

const MATCH_NONE: Clause = { match_none: {} };

/** Department scope as a filter; an empty list matches nothing, absent matches all. */
export function scopeClause(field: string, scope: Scope | undefined): Clause[] {
  if (!scope?.departments) return [];
  return scope.departments.length ? [{ terms: { [field]: [...scope.departments] } }] : [MATCH_NONE];
}

export function termsClause(field: string, values: readonly unknown[] | undefined): Clause[] {
  if (values === undefined) return [];
  return values.length ? [{ terms: { [checkField(field)]: values as estypes.FieldValue[] } }] : [MATCH_NONE];
}

export function rangeClause(field: string, range: TimeRange): Clause[] {
  if (!range.from && !range.to) return [];
  return [{
    range: {
      [field]: {
        ...(range.from ? { gte: toMillis(range.from, 'from') } : {}),
        ...(range.to ? { lt: toMillis(range.to, 'to') } : {}),
        format: 'epoch_millis',
      },
    },
  }];
}

/** Every term must appear in the message; each is a phrase, so a Chinese word keeps its characters together. */
export function textClause(field: string, text: string | undefined): Clause[] {
  return textTerms(text).map((term) => ({ match_phrase: { [field]: term } }));
}

export const bool = (filter: Clause[]): Clause => ({ bool: { filter } });

const MATCH_ALL: Clause = { match_all: {} };
const any = (should: Clause[]): Clause => ({ bool: { should, minimum_should_match: 1 } });

/** `*` is the only wildcard of ours; Elasticsearch's `?` and `\\` are literal here. */
const wildcardValue = (pattern: string) => pattern.replace(/[\\?]/g, (c) => `\\${c}`);

/** Exact on a keyword, phrase on the message; lenient, so `source.ip:abc` or `port:x` match nothing instead of failing. */
function equalsClause(field: string, value: string): Clause {
  if (field === 'message') return { match_phrase: { message: value } };
  return { match: { [field]: { query: value, lenient: true } } };
}

function rangeClauseOf(node: Extract<QueryNode, { kind: 'range' }>): Clause {
  const bounds = [node.lower?.value, node.upper?.value].filter((v) => v !== undefined);
  const numeric = bounds.every((v) => numericValue(v) !== undefined);
  const value = (text: string) => (node.field === '@timestamp' ? toMillis(text, '@timestamp') : numeric ? numericValue(text)! : text);
  return {
    range: {
      [node.field]: {
        ...(node.lower ? { [node.lower.inclusive ? 'gte' : 'gt']: value(node.lower.value) } : {}),
        ...(node.upper ? { [node.upper.inclusive ? 'lte' : 'lt']: value(node.upper.value) } : {}),
        ...(node.field === '@timestamp' ? { format: 'epoch_millis' } : {}),
      },
    },
  };
}

/**
 * The search box's query tree (store/query-language.ts) as a bool query, the same meaning as the
 * embedded store's SQL: a bare word is a message phrase OR an exact, any-case keyword (an IP field only for an IP).
 */
export function matchClause(node: QueryNode): Clause {
  switch (node.kind) {
    case 'all':
      return MATCH_ALL;
    case 'and':
      return { bool: { filter: node.children.map(matchClause) } };
    case 'or':
      return any(node.children.map(matchClause));
    case 'not':
      return { bool: { must_not: [matchClause(node.child)] } };
    case 'match':
      if (node.field !== undefined) return equalsClause(checkField(node.field), node.value);
      return any([
        { match_phrase: { message: node.value } },
        ...KEYWORD_FIELDS.flatMap((field): Clause[] => (IP_FIELDS.has(field)
          ? (isIP(node.value) ? [{ term: { [field]: node.value } }] : [])
          : [{ term: { [field]: { value: node.value, case_insensitive: true } } }])),
      ]);
    case 'wildcard': {
      const value = wildcardValue(node.pattern);
      if (node.field !== undefined) return { wildcard: { [checkField(node.field)]: { value, case_insensitive: true } } };
      return any(KEYWORD_FIELDS.filter((field) => !IP_FIELDS.has(field)).map((field) => ({ wildcard: { [field]: { value, case_insensitive: true } } })));
    }
    case 'range':
      return rangeClauseOf({ ...node, field: checkField(node.field) });
    case 'exists':
      return { exists: { field: checkField(node.field) } };
  }
}

/** Keyset paging on (time field, tiebreak field) with search_after; the cursor format matches the embedded store. */
export async function searchPage<T>(
  client: Client,
  options: {
    index: string;
    query: Clause;
    timeField: string;
    tiebreak: string;
    page: PageRequest | undefined;
    decode: (source: unknown) => T;
    /** Turns the cursor's id back into the tiebreak field's type. */
    tiebreakValue?: (id: string) => estypes.FieldValue;
  },
): Promise<Page<T>> {
  const size = pageSize(options.page);
  const order = options.page?.order ?? 'desc';
  const after = options.page?.after ? decodeCursor(options.page.after) : undefined;
  const response = await call(() =>
    client.search({
      index: options.index,
      query: options.query,
      size: size + 1,
      sort: [{ [options.timeField]: { order, format: 'epoch_millis' } } as estypes.SortCombinations, { [options.tiebreak]: order }],
      track_total_hits: TOTAL_COUNT_LIMIT,
      ignore_unavailable: true,
      allow_no_indices: true,
      ...(after ? { search_after: [after[0], options.tiebreakValue ? options.tiebreakValue(after[1]) : after[1]] } : {}),
    }),
  );
  const hits = response.hits.hits;
  const more = hits.length > size;
  const items = hits.slice(0, size);
  const last = items[items.length - 1];
  const total = response.hits.total as estypes.SearchTotalHits;
  return {
    items: items.map((hit) => options.decode(hit._source)),
    total: Math.min(total.value, TOTAL_COUNT_LIMIT),
    ...(total.relation === 'gte' ? { totalIsLowerBound: true as const } : {}),
    ...(more && last?.sort ? { next: encodeCursor([Number(last.sort[0]), String(last.sort[1])]) } : {}),
  };
}

export type AfterKey = Record<string, estypes.FieldValue>;

/** Every bucket of the composite aggregation `name`, asking `page` again with each after_key until a page comes back empty. */
export async function* compositeBuckets<B>(name: string, page: (after: AfterKey | undefined) => Promise<estypes.SearchResponse>): AsyncGenerator<B> {
  let after: AfterKey | undefined;
  do {
    const composite = (await page(after)).aggregations?.[name] as { buckets: B[]; after_key?: AfterKey } | undefined;
    const buckets = composite?.buckets ?? [];
    yield* buckets;
    after = buckets.length ? composite?.after_key : undefined;
  } while (after);
}

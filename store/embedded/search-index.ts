import { KEYWORD_FIELDS } from '../query-language.js';

/**
 * The full-text index of events (events_search, FTS5 trigram, contentless): the message, and the
 * values of KEYWORD_FIELDS each between two U+001F. A phrase `"\u001fsudo\u001f"` on the keywords
 * column then matches only a whole value, so a bare word is one index lookup for both places; the
 * exact comparison runs on the few rows it finds. Changing KEYWORD_FIELDS needs a migration that
 * re-fills the keywords column (store/embedded/migrations.ts holds the same list).
 */
export const KEYWORD_SEPARATOR = '\u001f';

const jsonPath = (field: string) => `$${field.split('.').map((part) => `."${part}"`).join('')}`;

/** SQL for the keywords column of the document in `doc` (a column or `new.doc`). */
export const keywordTermsSql = (doc: string) =>
  `(SELECT group_concat(char(31) || replace(value, char(31), ' ') || char(31), ' ') FROM json_each(json_extract(${doc}, ${
    KEYWORD_FIELDS.map((field) => `'${jsonPath(field)}'`).join(', ')})) WHERE type = 'text')`;

/** An FTS5 phrase: the text quoted, its quotes doubled. */
export const ftsPhrase = (text: string) => `"${text.replace(/"/g, '""')}"`;

/** The FTS5 query for a value of a keyword field, as a superset of the exact (any case) matches. */
export const keywordPhrase = (value: string) =>
  `keywords : ${ftsPhrase(`${KEYWORD_SEPARATOR}${value.replaceAll(KEYWORD_SEPARATOR, ' ')}${KEYWORD_SEPARATOR}`)}`;

import { expandDotted, isFieldName, recordShape, typedFieldProblem, type ShouwangEvent } from '../core/index.js';
import { StoreErrors } from './errors.js';
import type { PageRequest } from './ports.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** A cursor is the sort key of the last item seen: (time, id), as Elasticsearch's search_after. */
export type Cursor = [time: number, id: string];

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') {
      return value as Cursor;
    }
  } catch {
    // fall through to the error below
  }
  throw StoreErrors.invalidQuery(`bad page cursor ${JSON.stringify(text.slice(0, 40))}`);
}

export function pageSize(page: PageRequest | undefined): number {
  const size = page?.size ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw StoreErrors.invalidQuery(`page size must be 1–${MAX_PAGE_SIZE}, got ${size}`);
  }
  return size;
}

export function checkField(field: string): string {
  if (!isFieldName(field)) throw StoreErrors.invalidQuery(`bad field name ${JSON.stringify(field)}`);
  return field;
}

export function toMillis(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw StoreErrors.invalidQuery(`${what} is not a date: ${JSON.stringify(iso)}`);
  return ms;
}

/** C0 controls (tab, newline and carriage return are spacing) and DEL: no message search needs them, and FTS5 fails on NUL. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/** Splits full-text input into terms; quotes are dropped so they cannot change the query syntax. */
export function textTerms(text: string | undefined): string[] {
  if (text && hasControlCharacter(text)) throw StoreErrors.invalidQuery('text contains control characters (控制字符)');
  return (text ?? '').split(/\s+/).map((term) => term.replace(/"/g, '')).filter(Boolean);
}

/** Why an event cannot be stored at all, or undefined; both adapters report it the same way. */
export function eventRejectReason(event: { id?: unknown; '@timestamp'?: unknown }): string | undefined {
  if (typeof event.id !== 'string' || event.id.length === 0) return 'missing id';
  if (typeof event['@timestamp'] !== 'string' || Number.isNaN(Date.parse(event['@timestamp']))) {
    return `@timestamp is not a date: ${JSON.stringify(event['@timestamp'])}`;
  }
  return undefined;
}

/**
 * The event as both adapters store it (dotted keys expanded), or why it cannot be stored: no id or
 * date, past RECORD_LIMITS, or a typed ECS field of the wrong type. One place, so both refuse alike.
 * The usual decoded event has nothing to expand and is returned as it is (the copy was most of the cost
 * of an Elasticsearch write, pipeline benchmark): a writer must not change what it gets.
 */
export function storableEvent(raw: ShouwangEvent): { event: ShouwangEvent } | { reason: string } {
  const basic = eventRejectReason(raw);
  if (basic) return { reason: basic };
  const shape = recordShape(raw);
  if (shape.problem) return { reason: shape.problem };
  const event = shape.expands ? expandDotted(raw) : raw;
  const typed = typedFieldProblem(event);
  return typed ? { reason: typed } : { event };
}

/**
 * storableEvent and its JSON, for a store that serialises at once: the same checks and the same text,
 * without expandDotted's copy when it would change nothing (no dotted key, plain objects only), which
 * is the usual decoded event. Not for a writer that keeps the object: it may be the caller's own.
 */
export function storableJson(raw: ShouwangEvent): { event: ShouwangEvent; json: string } | { reason: string } {
  const prepared = storableEvent(raw);
  return 'reason' in prepared ? prepared : { event: prepared.event, json: JSON.stringify(prepared.event) };
}

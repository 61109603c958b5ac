import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { consoleOpenApi, HTTP_API_PAGE } from '../../bin/docs-api.js';
import { renderHttpApi, typeOf } from '../../bin/openapi-markdown.js';

describe('docs/reference/http-api.md', () => {
  it('is the current rendering of the console OpenAPI document (run npm run docs:api when this fails)', async () => {
    const doc = await consoleOpenApi();
    expect(Object.keys(doc.paths)).toContain('/api/evidence/{job}/verify'); // every optional feature registered
    expect(readFileSync(HTTP_API_PAGE, 'utf8')).toBe(renderHttpApi(doc));
  });

  it('writes short types for the schema shapes zod produces', () => {
    expect(typeOf({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })).toBe('string | array of string');
    expect(typeOf({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })).toBe('integer (≥0)');
    expect(typeOf({ enum: ['asc', 'desc'] })).toBe('"asc" | "desc"');
    expect(typeOf(undefined)).toBe('any');
  });
});

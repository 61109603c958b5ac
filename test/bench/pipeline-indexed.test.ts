import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { elasticsearchCount, elasticsearchIndexed } from '../../bench/pipeline-receivers.js';
import { dropTestIndices } from '../harness/elasticsearch.js';

const url = inject('elasticsearchUrl');
const prefix = `test-bench-indexed-${randomUUID().slice(0, 8)}`;

afterAll(() => dropTestIndices(url, prefix));

describe('pipeline bench: indexed count', () => {
  it('counts documents Elasticsearch has indexed before a refresh shows them, and not the refused ones', async () => {
    const index = `${prefix}-events-2026.12`;
    // No scheduled refresh: _count sees nothing until the explicit refresh below.
    const created = await fetch(`${url}/${index}`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { refresh_interval: -1, number_of_replicas: 0 }, mappings: { properties: { n: { type: 'long' } } } }),
    });
    expect(created.ok).toBe(true);
    const lines = Array.from({ length: 120 }, (_, n) => `{"create":{"_id":"${n}"}}\n{"n":${n}}\n`);
    lines.push('{"create":{"_id":"bad"}}\n{"n":"not a number"}\n');
    const bulk = await fetch(`${url}/${index}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('') });
    expect(((await bulk.json()) as { errors: boolean }).errors).toBe(true);

    const pattern = `${prefix}-events-*`;
    expect(await elasticsearchIndexed(url, pattern)()).toBe(120);
    expect(await elasticsearchCount(url, pattern)()).toBe(0);
    await fetch(`${url}/${index}/_refresh`, { method: 'POST' });
    expect(await elasticsearchCount(url, pattern)()).toBe(120);
    // A pattern that matches nothing yet (the receiver has not written) counts 0, as _count does.
    expect(await elasticsearchIndexed(url, `${prefix}-none-*`)()).toBe(0);
  });
});

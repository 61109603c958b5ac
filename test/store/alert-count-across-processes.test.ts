import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ElasticsearchStore, EmbeddedStore, type Store } from '../../store/index.js';
import { DIST } from '../harness/built.js';
import { dropTestIndices } from '../harness/elasticsearch.js';

// Several collector processes raise the same alert (same rule, group and window): the store adds their counts up.
// Each process here upserts the alert `WRITES` times with count 1, both at once against one store; the final count is
// the sum and no write fails. (A retried Elasticsearch write that had landed is not counted twice:
// test/store/elasticsearch-lost-response.test.ts.)

const WRITER = resolve('test/store/fixtures/alert-writer.mjs');

interface Outcome { errors: string[]; created: number; updated: number }

/** Starts one writer process per name, lets them go together, and returns what each reported. */
async function writeTogether(args: (writer: string) => string[], writers: readonly string[]): Promise<Outcome[]> {
  const children = writers.map((writer) => {
    const child = spawn(process.execPath, [WRITER, DIST, ...args(writer)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const next = () => new Promise<string>((done, fail) => {
      lines.once('line', done);
      child.once('exit', (code) => fail(new Error(`writer ${writer} exited with ${code}`)));
    });
    return { child, next };
  });
  await Promise.all(children.map(({ next }) => next().then((line) => expect(line).toBe('ready'))));
  const results = children.map(({ next }) => next());
  for (const { child } of children) child.stdin.write('go\n');
  return (await Promise.all(results)).map((line) => JSON.parse(line) as Outcome);
}

function describeStore(name: string, writes: number, open: () => Promise<Store>, location: () => string[]) {
  describe(`alert counts across processes on the ${name} store`, () => {
    // Schema and indices made once, before the writers race.
    beforeAll(async () => (await open()).close());
    it('adds up the counts two processes write into the same alert at the same time, and no write fails', async () => {
      const id = `test-${randomUUID()}`;
      const outcomes = await writeTogether((writer) => [...location(), id, String(writes), writer], ['collector-a', 'collector-b']);
      expect(outcomes.flatMap((outcome) => outcome.errors)).toEqual([]);
      expect(outcomes.reduce((sum, outcome) => sum + outcome.created, 0)).toBe(1);
      expect(outcomes.reduce((sum, outcome) => sum + outcome.created + outcome.updated, 0)).toBe(2 * writes);
      const store = await open();
      try {
        const alert = await store.alerts.get(id);
        expect(alert?.count).toBe(2 * writes);
        const last = new Date(Date.parse('2026-03-02T08:00:00Z') + (writes - 1) * 1000).toISOString();
        expect(alert?.writers).toEqual({ 'collector-a': last, 'collector-b': last });
      } finally {
        await store.close();
      }
    }, 120_000);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-alert-count-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dbPath = join(dir, 'alerts.db');
describeStore('embedded (SQLite)', 400, async () => new EmbeddedStore({ path: dbPath }), () => ['embedded', dbPath, '-']);

const url = inject('elasticsearchUrl');
const indexPrefix = `test-${randomUUID().slice(0, 8)}`;
afterAll(() => dropTestIndices(url, indexPrefix));
describeStore('Elasticsearch', 15, () => ElasticsearchStore.open({ url, indexPrefix }), () => ['elasticsearch', url, indexPrefix]);

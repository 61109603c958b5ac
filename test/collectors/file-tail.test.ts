import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AssetIndex, createMetricsRegistry, loadInventory, type ShouwangEvent } from '../../core/index.js';
import {
  createIngestMetrics, EventSink, expandGlob, FileDeadLetterSink, FileTailer, type FileSourceConfig, type TailSink,
} from '../../collectors/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const root = mkdtempSync(join(tmpdir(), 'shouwang-tail-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const line = (n: number, tag = 'app') => `Nov 20 10:00:01 gaj-jwzh-app01 ${tag}[7]: line ${n} of the test\n`;
const lines = (from: number, count: number, tag?: string) => Array.from({ length: count }, (_, i) => line(from + i, tag)).join('');

/** A tailer into a real SQLite store through a real sink, in a fresh directory. */
async function setup(source: Partial<FileSourceConfig> & { paths?: string[] } = {}) {
  const dir = mkdtempSync(join(root, 'case-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const store = new EmbeddedStore({ path: join(dir, 'events.db') });
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = createIngestMetrics(registry);
  const deadLetters = new FileDeadLetterSink(join(dir, 'dead-letter'));
  const sink = new EventSink({ store: store.events, spoolDir: join(dir, 'spool'), deadLetters, batchSize: 500, flushIntervalMs: 20, metrics });
  const config: FileSourceConfig = {
    id: 'files', paths: [join(logs, '*.log')], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096, ...source,
  };
  let tailer: FileTailer | undefined;
  const start = async () => {
    tailer = await FileTailer.start({ source: config, sink, assets, deadLetters, metrics, checkpointPath: join(dir, 'checkpoints', 'files.json') });
    return tailer;
  };
  const cleanup = async () => {
    await tailer?.close();
    await sink.close();
    await store.close();
  };
  cleanups.push(cleanup);
  /** Waits until the store holds `expected` events, then one more poll to catch any extra. */
  const stored = async (expected: number) => {
    await eventually(async () => expect((await store.events.range()).count).toBeGreaterThanOrEqual(expected), { interval: 20 });
    await tailer!.nextPoll();
    await sink.flush();
    return (await store.events.range()).count;
  };
  return { dir, logs, store, sink, registry, deadLetters, start, stored, stop: () => tailer!.close(), config };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('file tailing', () => {
  it('stores lines appended over time, waiting for the newline of a partial last line', async () => {
    const t = await setup();
    const file = join(t.logs, 'app.log');
    writeFileSync(file, lines(0, 100));
    const tailer = await t.start();
    expect(await t.stored(100)).toBe(100);
    appendFileSync(file, lines(100, 100));
    await tailer.nextPoll();
    appendFileSync(file, 'Nov 20 10:00:02 gaj-jwzh-app01 app[7]: written in two ');
    await tailer.nextPoll();
    expect(await t.stored(200)).toBe(200); // the half line waits
    appendFileSync(file, 'pieces\n' + line(201));
    expect(await t.stored(202)).toBe(202);
    const joined = await t.store.events.search({ text: 'pieces' });
    expect(joined.items.map((event) => event.message)).toEqual(['written in two pieces']);
    expect(joined.items[0]).toMatchObject({ log: { file: { path: file } }, shouwang: { source: 'files', system: 'gaj-jwzh' } });
    const metrics = await t.registry.getSingleMetricAsString('shouwang_ingest_received_total');
    expect(metrics).toContain('source="files"} 202');
  });

  it('picks up new files that match the pattern and ignores those that do not', async () => {
    const t = await setup();
    const base = t.logs;
    t.config.paths = [join(base, '**', 'svc-*.log')];
    const tailer = await t.start();
    mkdirSync(join(base, 'a', 'b'), { recursive: true });
    writeFileSync(join(base, 'svc-1.log'), lines(0, 3));
    writeFileSync(join(base, 'a', 'b', 'svc-2.log'), lines(0, 4));
    writeFileSync(join(base, 'a', 'other.log'), lines(0, 5));
    await tailer.nextPoll();
    expect(await t.stored(7)).toBe(7);
    expect((await expandGlob(join(base, '**', '*.log'))).length).toBe(3);
  });

  it('follows a rename rotation: the old file is read to its end, the new one from 0, nothing lost or doubled', async () => {
    const t = await setup();
    const file = join(t.logs, 'app.log');
    writeFileSync(file, lines(0, 200));
    const tailer = await t.start();
    expect(await t.stored(200)).toBe(200);
    appendFileSync(file, lines(200, 50)); // not read yet when the rotation happens
    renameSync(file, `${file}.1`);
    writeFileSync(file, lines(0, 100, 'new'));
    appendFileSync(`${file}.1`, lines(250, 10)); // the writer still had the old file open
    await tailer.nextPoll();
    expect(await t.stored(360)).toBe(360);
    appendFileSync(file, lines(100, 5, 'new'));
    expect(await t.stored(365)).toBe(365);
  });

  it('follows copytruncate: a shorter file, or one whose first line changed, is read again from 0', async () => {
    const t = await setup();
    const file = join(t.logs, 'app.log');
    writeFileSync(file, lines(0, 200));
    const tailer = await t.start();
    expect(await t.stored(200)).toBe(200);
    appendFileSync(file, lines(200, 30));
    expect(await t.stored(230)).toBe(230);
    truncateSync(file, 0);
    appendFileSync(file, lines(0, 40, 'after'));
    expect(await t.stored(270)).toBe(270);
    // Truncated and already longer than before by the next look: only the first line tells.
    await tailer.nextPoll();
    truncateSync(file, 0);
    appendFileSync(file, lines(0, 300, 'again'));
    expect(await t.stored(570)).toBe(570);
  });

  it('starts at the end of files met the first time, and resumes from the checkpoint after a restart', async () => {
    const t = await setup({ startAt: 'end' });
    const file = join(t.logs, 'app.log');
    writeFileSync(file, lines(0, 100) + 'Nov 20 10:00:02 gaj-jwzh-app01 app[7]: a half line at start');
    const tailer = await t.start();
    await tailer.nextPoll();
    appendFileSync(file, ' is read when complete\n' + lines(100, 5));
    expect(await t.stored(6)).toBe(6);
    await t.stop();
    appendFileSync(file, lines(105, 3)); // written while stopped
    writeFileSync(join(t.logs, 'late.log'), lines(0, 2, 'late')); // a new file: read whole
    await t.start();
    expect(await t.stored(11)).toBe(11);
  });

  it('finishes a file rotated by rename while the tailer was stopped, and refuses an unknown format', async () => {
    const t = await setup();
    const file = join(t.logs, 'app.log');
    writeFileSync(file, lines(0, 50));
    await t.start();
    expect(await t.stored(50)).toBe(50);
    await t.stop();
    appendFileSync(file, lines(50, 20)); // written before the rotation, never read
    renameSync(file, join(t.logs, 'app.log.1'));
    writeFileSync(file, lines(0, 30, 'new'));
    await t.start();
    expect(await t.stored(100)).toBe(100);
    await expect(FileTailer.start({
      source: { ...t.config, id: 'bad', format: 'nginx-ish' }, sink: t.sink, assets, deadLetters: t.deadLetters, checkpointPath: join(t.dir, 'bad.json'),
    })).rejects.toMatchObject({ code: 'SW_ERR_CONFIG_INVALID', message: expect.stringContaining('got "nginx-ish"') });
  });

  it('decodes GBK files into correct Chinese, and keeps lines with bad bytes, flagged', async () => {
    const t = await setup({ encoding: 'gbk' });
    const header = Buffer.from('Nov 20 10:00:01 gaj-jwzh-app01 oa[7]: ');
    const gbk = Buffer.from('d3c3bba720d5c5ceb020b5c7c2bccaa7b0dc', 'hex'); // 用户 张伟 登录失败
    const bad = Buffer.from([0x61, 0xff, 0x62]);
    writeFileSync(join(t.logs, 'oa.log'), Buffer.concat([header, gbk, Buffer.from('\n'), header, bad, Buffer.from('\n')]));
    await t.start();
    expect(await t.stored(2)).toBe(2);
    const { items } = await t.store.events.search({}, { size: 10 });
    const messages = items.map((event) => event.message).sort();
    expect(messages[1]).toBe('用户 张伟 登录失败');
    expect(items.find((event) => event.message !== '用户 张伟 登录失败')).toMatchObject({ tags: ['encoding_invalid'] });
  });

  it('joins multi-line pgaudit csvlog records and sends an over-long line to the dead letters', async () => {
    const t = await setup({ format: 'pgaudit-csv', maxLineBytes: 1024, host: 'gaj-jwzh-db01' });
    t.config.paths = [join(t.logs, 'postgresql-*.csv')];
    const file = join(t.logs, 'postgresql-Thu.csv');
    const tailer = await t.start();
    writeFileSync(file, `2026-11-26 17:59:26.730 UTC,"postgres","postgres",1759,"127.0.0.1:47052",6b08737e.6df,3,"SELECT",2026-11-26 17:59:26 UTC,3/2,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,""select * from t where s = 'x\n`);
    await tailer.nextPoll();
    await tailer.nextPoll();
    expect(await t.stored(0)).toBe(0); // the record is not complete yet
    appendFileSync(file, `y'"",<not logged>",,,,,,,,,"psql","client backend",,0\n${'x'.repeat(3000)}\n`);
    appendFileSync(file, `2026-11-26 17:59:26.787 UTC,"auditor","postgres",1761,"::1:47056",6b08737e.6e1,2,"authentication",2026-11-26 17:59:26 UTC,3/4,0,FATAL,28P01,"password authentication failed for user ""auditor""","Connection matched pg_hba.conf line 1: ""host all auditor 127.0.0.1/32 scram-sha-256""",,,,,,,,"","client backend",,0\n`);
    expect(await t.stored(2)).toBe(2);
    const { items } = await t.store.events.search({}, { size: 10 });
    expect(items.find((event) => (event.db as { operation_class?: string } | undefined)?.operation_class === 'READ')).toMatchObject({ db: { statement: "select * from t where s = 'x\ny'" }, host: { name: 'gaj-jwzh-db01' } });
    const letters = readFileSync(join(t.dir, 'dead-letter', `${new Date().toISOString().slice(0, 10)}.ndjson`), 'utf8').trim().split('\n');
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!)).toMatchObject({ source: 'files', reason: expect.stringContaining('longer than 1024 bytes'), raw: 'x'.repeat(1024) });
  });
});

describe('file checkpoints', () => {
  it('reads a batch again when the sink refused it, so nothing is skipped', async () => {
    const dir = mkdtempSync(join(root, 'refused-'));
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const taken: string[] = [];
    let refusals = 1;
    const sink: TailSink = {
      saturated: false,
      write: async (events) => {
        if (refusals-- > 0) throw new Error('sink refused this batch');
        taken.push(...events.map((event) => event.message!));
      },
    };
    const tailer = await FileTailer.start({
      source: { id: 'refused', paths: [file], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096 },
      sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath: join(dir, 'checkpoints.json'),
    });
    try {
      await tailer.nextPoll();
      await tailer.nextPoll();
      expect(taken).toEqual(Array.from({ length: 10 }, (_, n) => `line ${n} of the test`));
    } finally {
      await tailer.close();
    }
  });


  it('moves only after the sink has acknowledged the events before it', async () => {
    const dir = mkdtempSync(join(root, 'held-'));
    const file = join(dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const held: { events: readonly ShouwangEvent[]; release: () => void }[] = [];
    const sink: TailSink = {
      saturated: false,
      write: (events) => new Promise<void>((release) => held.push({ events, release })),
    };
    const checkpointPath = join(dir, 'checkpoints.json');
    const offset = () => {
      try {
        return Object.values((JSON.parse(readFileSync(checkpointPath, 'utf8')) as { files: Record<string, { offset: number }> }).files)[0]?.offset;
      } catch {
        return undefined; // not written yet
      }
    };
    const tailer = await FileTailer.start({
      source: { id: 'held', paths: [file], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096 },
      sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath,
    });
    try {
      await eventually(() => expect(held[0]?.events).toHaveLength(10), { interval: 10 });
      expect(offset() ?? 0).toBe(0); // written to the sink, not acknowledged: still at the start
      // As after a crash now: a second tailer on the same checkpoints must read the unacknowledged lines again.
      const replayed: ShouwangEvent[] = [];
      const replay = await FileTailer.start({
        source: { id: 'held', paths: [file], format: 'syslog', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096 },
        sink: { saturated: false, write: async (events) => void replayed.push(...events) },
        assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath,
      });
      await replay.nextPoll();
      await replay.close();
      expect(replayed.map((event) => event.id)).toEqual(held[0]!.events.map((event) => event.id));
      held[0]!.release();
      await tailer.nextPoll();
      expect(offset()).toBe(statSync(file).size);
    } finally {
      for (const write of held) write.release();
      await tailer.close();
    }
  });
});

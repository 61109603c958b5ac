import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, unlinkSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { startAnalysis } from '../../analyzers/index.js';
import {
  PathTarget, checkRansomware, deflateRatio, formatSetName, recordBackupResults, sampleFile, shannonEntropy, storedFingerprints, takeSnapshot,
  verifyBackups, type BackupTarget, type BackupEventSink, type SetFingerprint,
} from '../../backup/index.js';
import { SystemSchema, type BackupCheckResult, type BusinessSystem } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-ransomware-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const SET_TIMES = [0, 1, 2].map((i) => new Date(Date.UTC(2026, 11, 4 + i, 2)));
const setName = (i: number) => formatSetName(SET_TIMES[i]!);
/** A fixed mtime for files that did not change, as rsync -a and cp -p keep it. */
const OLD_MTIME = new Date(Date.UTC(2026, 10, 1));

// A deterministic pseudo-random stream (xorshift) so the fixture is the same every run.
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}
const WORDS = ('社保 缴费 参保 人员 单位 基数 医保 报销 审批 窗口 the of and request citizen record approval payment status pending '
  + 'completed district office account transfer pension review archive notice policy').split(' ');
function prose(seed: number, lines: number): string {
  const r = rng(seed);
  return Array.from({ length: lines }, () => Array.from({ length: 6 + Math.floor(r() * 10) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ')).join('\n') + '\n';
}
function csv(seed: number, rows: number): string {
  const r = rng(seed);
  const header = 'id,name,district,amount,date,status\n';
  return header + Array.from({ length: rows }, (_, i) =>
    `${100000 + i},${WORDS[Math.floor(r() * 10)]}${Math.floor(r() * 100)},${['黄浦', '徐汇', '长宁', '静安'][Math.floor(r() * 4)]},`
    + `${(r() * 10_000).toFixed(2)},2026-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')},`
    + `${r() < 0.8 ? 'done' : 'pending'}`).join('\n') + '\n';
}
function json(seed: number, items: number): string {
  const r = rng(seed);
  return JSON.stringify({ generated: '2026-12-04', items: Array.from({ length: items }, (_, i) => ({ id: i, owner: WORDS[Math.floor(r() * WORDS.length)], score: Math.round(r() * 100), tags: ['a', 'b'] })) }, null, 2);
}
/** A real PNG: signature, IHDR, one IDAT of a noisy photo-like image, IEND (CRCs are not checked by the sampler). */
function png(seed: number, size: number): Buffer {
  const r = rng(seed);
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let i = 0; i < raw.length; i++) raw[i] = i % (size * 3 + 1) === 0 ? 0 : Math.floor(r() * 256);
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateRawSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Set 1's files: a realistic mix of text, CSV, JSON, SQL, and a few already-compressed files. */
function realisticFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 8; i++) files[`docs/notice-${i}.txt`] = Buffer.from(prose(10 + i, 40 + i * 30));
  for (let i = 0; i < 6; i++) files[`data/payments-${i}.csv`] = Buffer.from(csv(100 + i, 300 + i * 200));
  files['data/payments-big.csv'] = Buffer.from(csv(999, 40_000)); // ~2 MiB: sampled at its start and middle
  for (let i = 0; i < 4; i++) files[`config/service-${i}.json`] = Buffer.from(json(200 + i, 50 + i * 20));
  files['db/shbx.sql'] = Buffer.from(`-- MariaDB dump\nCREATE TABLE t (id int, name text);\n${csv(300, 2000).replace(/^(.*)$/gm, 'INSERT INTO t VALUES ($1);')}`);
  files['archive/2025.csv.gz'] = gzipSync(csv(400, 5000));
  files['archive/logs.tar.gz'] = gzipSync(prose(401, 4000));
  files['images/seal.png'] = png(500, 96);
  files['images/map.png'] = png(501, 128);
  return files;
}

function writeFiles(setDir: string, files: Record<string, Buffer>): void {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(setDir, path)), { recursive: true });
    writeFileSync(join(setDir, path), data);
    utimesSync(join(setDir, path), OLD_MTIME, OLD_MTIME);
  }
}

const walk = (root: string, relative = ''): string[] => readdirSync(join(root, relative), { withFileTypes: true }).flatMap((entry) => {
  const path = relative ? `${relative}/${entry.name}` : entry.name;
  return entry.isDirectory() ? walk(root, path) : [path];
});

/** A copy of the previous set, as an incremental-forever job writes it: unchanged files keep their mtime. */
function copySet(root: string, from: number, to: number): string {
  const target = join(root, setName(to));
  cpSync(join(root, setName(from)), target, { recursive: true, preserveTimestamps: true });
  return target;
}

/** Sets 0 and 1 (a few ordinary edits between them); returns the root. */
function baseSets(): string {
  const root = join(dir, `target-${randomUUID()}`);
  writeFiles(join(root, setName(0)), realisticFiles());
  const set1 = copySet(root, 0, 1);
  writeFileSync(join(set1, 'docs/notice-0.txt'), prose(77, 90));
  writeFileSync(join(set1, 'docs/notice-new.txt'), prose(78, 60));
  return root;
}

/** What ransomware does to the source before the backup runs: each file encrypted with the real openssl and renamed. */
function encryptSet(setDir: string, extension: string): void {
  for (const path of walk(setDir)) {
    const file = join(setDir, path);
    execFileSync('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', 'pass:shouwang-test', '-in', file, '-out', `${file}${extension}`]);
    unlinkSync(file);
  }
}

const examine = async (root: string, stored?: SetFingerprint) => {
  const target = new PathTarget(root);
  const snapshot = await takeSnapshot('same-city', target);
  return checkRansomware(snapshot, stored ? { stored } : {});
};

interface RansomDetail {
  flipped: { path: string; now: string; before: { entropy: number; ratio: number }; after: { entropy: number; ratio: number } }[];
  flippedFiles: number; comparable: number; flippedShare: number; stayedHighEntropy: number; signals: string[]; severity?: string;
  newExtension?: { extension: string; files: number; share: number }; changeRate: { rate: number }; previousChangeRate?: { rate: number };
  fingerprintSource: string; fingerprint: SetFingerprint; unreadable?: { path: string; error: string }[];
}
const detailOf = (outcome: { detail: Record<string, unknown> }) => outcome.detail as unknown as RansomDetail;

describe('ransomware signals between sets (real files, real openssl)', () => {
  it('a set whose files were encrypted with openssl aes-256-cbc and renamed .locked → critical, naming the flipped files with figures', async () => {
    const root = baseSets();
    encryptSet(copySet(root, 1, 2), '.locked');
    const outcome = await examine(root);
    const detail = detailOf(outcome);
    expect(outcome.status).toBe('fail');
    expect(detail.severity).toBe('critical');
    expect(detail.signals).toEqual(['entropy', 'extension', 'change-rate']);
    expect(detail.newExtension).toMatchObject({ extension: '.locked', share: 1 });
    // Every text/CSV/JSON/SQL file sampled flipped; the gzip and PNG files were high-entropy before and are not counted as flips.
    expect(detail.comparable).toBeGreaterThanOrEqual(18);
    expect(detail.flippedFiles).toBe(detail.comparable);
    expect(detail.stayedHighEntropy).toBe(4);
    const big = detail.flipped.find((file) => file.path === 'data/payments-big.csv')!;
    expect(big.now).toBe('data/payments-big.csv.locked');
    expect(big.before.ratio).toBeLessThan(0.5);
    expect(big.after.ratio).toBeGreaterThanOrEqual(1);
    expect(big.after.entropy).toBeGreaterThan(7.99);
    expect(outcome.summary).toContain('疑似被勒索软件加密');
    expect(outcome.summary).toMatch(/files .*\.locked/);
    expect(detail.changeRate.rate).toBe(1);
    expect(detail.previousChangeRate!.rate).toBeLessThan(0.1);
  });

  it('encrypted in place with names kept (no rename) → still critical from entropy', async () => {
    const root = baseSets();
    const set2 = copySet(root, 1, 2);
    encryptSet(set2, '.tmp');
    for (const path of walk(set2)) execFileSync('mv', [join(set2, path), join(set2, path.slice(0, -'.tmp'.length))]);
    const outcome = await examine(root);
    const detail = detailOf(outcome);
    expect(outcome.status).toBe('fail');
    expect(detail.newExtension).toBeUndefined();
    expect(detail.signals).toContain('entropy');
    expect(detail.flipped.map((file) => file.now)).toContain('db/shbx.sql');
  });

  it('a random 5–8 character extension per file counts as a common new extension', async () => {
    const root = baseSets();
    const set2 = copySet(root, 1, 2);
    for (const path of walk(set2)) execFileSync('mv', [join(set2, path), join(set2, `${path}.${randomBytes(4).toString('hex').slice(0, 6)}`)]);
    const outcome = await examine(root);
    const detail = detailOf(outcome);
    // Renamed but not encrypted: a warning, not critical.
    expect(outcome.status).toBe('warn');
    expect(detail.newExtension).toMatchObject({ extension: 'random 5–8 char', share: 1 });
    expect(detail.flippedFiles).toBe(0);
  });

  it('a normal next set with changed but compressible files (edits, additions) → no alert', async () => {
    const root = baseSets();
    const set2 = copySet(root, 1, 2);
    writeFileSync(join(set2, 'data/payments-0.csv'), csv(1000, 900));
    writeFileSync(join(set2, 'data/payments-big.csv'), csv(999, 41_000));
    writeFileSync(join(set2, 'config/service-1.json'), json(1001, 200));
    for (let i = 0; i < 3; i++) writeFileSync(join(set2, `docs/added-${i}.txt`), prose(1100 + i, 80));
    unlinkSync(join(set2, 'docs/notice-7.txt'));
    const outcome = await examine(root);
    const detail = detailOf(outcome);
    expect(outcome.status).toBe('pass');
    expect(detail.signals).toEqual([]);
    expect(detail.flippedFiles).toBe(0);
    expect(outcome.summary).toContain('无勒索软件迹象');
  });

  it('already-compressed files that change but stay high-entropy → no alert', async () => {
    const root = baseSets();
    const set2 = copySet(root, 1, 2);
    writeFileSync(join(set2, 'archive/2025.csv.gz'), gzipSync(csv(2000, 6000)));
    writeFileSync(join(set2, 'archive/logs.tar.gz'), gzipSync(prose(2001, 5000)));
    writeFileSync(join(set2, 'images/seal.png'), png(2002, 96));
    writeFileSync(join(set2, 'images/map.png'), png(2003, 128));
    writeFileSync(join(set2, 'archive/2026.csv.gz'), gzipSync(csv(2004, 3000)));
    const outcome = await examine(root);
    const detail = detailOf(outcome);
    expect(outcome.status).toBe('pass');
    expect(detail.stayedHighEntropy).toBe(4);
    expect(detail.flippedFiles).toBe(0);
  });

  it('samples the same paths in consecutive sets, and uses a stored fingerprint of the previous set instead of reading it', async () => {
    const root = baseSets();
    const first = detailOf(await examine(join(root)));
    // Pretend the previous run stored set 1's fingerprint: then removing set 1's files must not matter.
    encryptSet(copySet(root, 1, 2), '.locked');
    const stored = first.fingerprint;
    expect(stored.set).toBe(setName(1));
    for (const path of walk(join(root, setName(1)))) writeFileSync(join(root, setName(1), path), '');
    const outcome = await examine(root, stored);
    const detail = detailOf(outcome);
    expect(detail.fingerprintSource).toBe('stored');
    expect(outcome.status).toBe('fail');
    expect(detail.fingerprint.files.map((file) => file.path).sort()).toEqual(stored.files.map((file) => `${file.path}.locked`).sort());
  });
});

describe('through verifyBackups, the store and the backup rules', () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'shouwang-ransomware-store-'));
  const store = new EmbeddedStore({ path: join(storeDir, 'store.db') });
  afterAll(async () => {
    await store.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  const system = (sameCity: string, offSite: string): BusinessSystem => SystemSchema.parse({
    id: `rsj-${randomUUID().slice(0, 8)}`, name: '社保系统', department: 'rsj', mlpsLevel: 3, zone: '政务外网', owner: { name: '李工' },
    backup: { rpo: '1d', rto: '4h', retention: '7d', sameCity: { type: 'path', path: sameCity }, offSite: { type: 'path', path: offSite } },
  });

  it('stores the fingerprint, compares the next run with it, and the rule raises a critical alert naming the files', async () => {
    const sameCity = baseSets();
    const offSite = baseSets();
    const sys = system(sameCity, offSite);
    const analysis = await startAnalysis({ rulesDir: join(process.cwd(), 'rules/shouwang'), alerts: store.alerts, latenessMs: 60_000 });
    const sink: BackupEventSink = async (events) => {
      analysis.analyze(events);
      await analysis.flush();
    };
    try {
      const now = new Date(SET_TIMES[1]!.getTime() + DAY / 4);
      const firstRun = await verifyBackups(sys, { runId: 'run-1', now, fingerprints: storedFingerprints(store.jobResults, sys.id) });
      await recordBackupResults(store, sys, firstRun, sink);
      const ransom1 = firstRun.find((r) => r.site === 'same-city' && r.detail.check === 'ransomware') as BackupCheckResult;
      expect(ransom1.status).toBe('pass');
      expect(ransom1.detail.clause).toBe('GB/T 22239-2019 8.1.4.9 数据备份恢复');

      encryptSet(copySet(sameCity, 1, 2), '.encrypted');
      copySet(offSite, 1, 2);
      const secondRun = await verifyBackups(sys, {
        runId: 'run-2', now: new Date(SET_TIMES[2]!.getTime() + DAY / 4), fingerprints: storedFingerprints(store.jobResults, sys.id),
      });
      await recordBackupResults(store, sys, secondRun, sink);
      const ransom2 = secondRun.find((r) => r.site === 'same-city' && r.detail.check === 'ransomware') as BackupCheckResult;
      const offSite2 = secondRun.find((r) => r.site === 'off-site' && r.detail.check === 'ransomware') as BackupCheckResult;
      expect(ransom2.status).toBe('fail');
      expect(ransom2.detail.fingerprintSource).toBe('stored');
      expect(offSite2.status).toBe('pass');

      const alerts = (await store.alerts.search({ system: [sys.id] }, { size: 100 })).items;
      const ransomAlerts = alerts.filter((alert) => alert.rule.id === 'c2ef49e9-ec8a-41e3-8e13-2bf843c2ae9b');
      expect(ransomAlerts).toHaveLength(1);
      expect(ransomAlerts[0]!.rule.level).toBe('critical');
      expect(ransomAlerts[0]!.mlps.join(' ')).toContain('8.1.4.9');
      const event = await store.events.get(ransomAlerts[0]!.sampleEventIds[0]!);
      expect(event?.message).toMatch(/疑似被勒索软件加密.*files .*\.encrypted/);
    } finally {
      await analysis.close();
    }
  });
});

describe('entropy and deflate ratio: known and hostile inputs', () => {
  it('measures known inputs exactly', async () => {
    expect(shannonEntropy(Buffer.alloc(0))).toBe(0);
    expect(shannonEntropy(Buffer.alloc(4096, 0x41))).toBe(0);
    expect(shannonEntropy(Buffer.from('abababab'))).toBeCloseTo(1, 10);
    expect(shannonEntropy(Buffer.from(Array.from({ length: 256 }, (_, i) => i)))).toBeCloseTo(8, 10);
    expect(shannonEntropy(Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 4)))).toBeCloseTo(2, 10);
    expect(await deflateRatio(Buffer.alloc(0))).toBe(0);
    expect(await deflateRatio(Buffer.alloc(65_536))).toBeLessThan(0.01);
    expect(await deflateRatio(randomBytes(65_536))).toBeGreaterThanOrEqual(1);
  });

  const files = join(dir, 'hostile');
  const target = new PathTarget(files);
  mkdirSync(join(files, 'set'), { recursive: true });
  const info = (path: string) => {
    const stat = statSync(join(files, 'set', path));
    return { path, size: stat.size, mtimeMs: stat.mtimeMs };
  };

  it('random data a little over two blocks → the middle block does not overlap the first (deflate would find the repeat)', async () => {
    writeFileSync(join(files, 'set', 'random.bin'), randomBytes((140 << 10) + 17));
    const sample = await sampleFile(target, 'set', info('random.bin'));
    expect(sample.bytes).toBe(128 << 10);
    expect(sample.ratio).toBeGreaterThanOrEqual(1);
    expect(sample.entropy).toBeGreaterThan(7.99);
  });

  it('an empty file → zero bytes sampled, zero entropy, no error', async () => {
    writeFileSync(join(files, 'set', 'empty'), '');
    expect(await sampleFile(target, 'set', info('empty'))).toEqual({ bytes: 0, entropy: 0, ratio: 0 });
  });

  it('a 64 GiB sparse file → two blocks read (start and middle), not the file', async () => {
    const fd = openSync(join(files, 'set', 'sparse.img'), 'w');
    ftruncateSync(fd, 64 * 1024 ** 3);
    closeSync(fd);
    const sample = await sampleFile(target, 'set', info('sparse.img'));
    expect(sample).toMatchObject({ bytes: 128 << 10, entropy: 0 });
    expect(sample.ratio).toBeLessThan(0.01);
  });

  it('a file gone between listing and reading → a clear error in the sample, not a throw', async () => {
    writeFileSync(join(files, 'set', 'gone'), 'x'.repeat(10_000));
    const listed = info('gone');
    unlinkSync(join(files, 'set', 'gone'));
    const sample = await sampleFile(target, 'set', listed);
    expect(sample.error).toMatch(/ENOENT/);
    expect(sample.bytes).toBe(0);
  });

  it('a stream that fails half-way (a dropped SFTP link, a restic dump error) → a clear error, not a throw', async () => {
    const failing: BackupTarget = {
      description: 'failing', listSets: async () => [], listFiles: async () => [], readSmallFile: async () => undefined, close: async () => {},
      openRead: () => {
        const out = new PassThrough();
        out.write(Buffer.alloc(1000, 0x61));
        setImmediate(() => out.destroy(new Error('connection reset')));
        return out;
      },
    };
    const sample = await sampleFile(failing, 'set', { path: 'a.csv', size: 1_000_000, mtimeMs: 0 });
    expect(sample.error).toBe('connection reset');
  });

  it('a target that cannot seek (restic, Borg) samples the same two blocks, in one read of the file', async () => {
    const data = Buffer.concat([Buffer.alloc(300_000, 0x61), randomBytes(200_000), Buffer.alloc(300_000, 0x62)]);
    writeFileSync(join(files, 'set', 'mixed.bin'), data);
    let opened = 0;
    const streaming: BackupTarget = {
      description: 'streaming', listSets: async () => [], listFiles: async () => [], readSmallFile: async () => undefined, close: async () => {},
      openRead: (set, path, options) => {
        opened += 1;
        expect(options?.start).toBeUndefined();
        return target.openRead(set, path, { ...(options?.highWaterMark ? { highWaterMark: options.highWaterMark } : {}) });
      },
    };
    const seeking = await sampleFile(target, 'set', info('mixed.bin'));
    const streamed = await sampleFile(streaming, 'set', info('mixed.bin'));
    expect(streamed).toEqual(seeking);
    expect(opened).toBe(1);
    // The first block is all 'a'; the middle block is random: together about half incompressible.
    expect(seeking.bytes).toBe(128 << 10);
    expect(seeking.entropy).toBeGreaterThan(4);
    expect(seeking.ratio).toBeGreaterThan(0.4);
    expect(seeking.ratio).toBeLessThan(0.6);
  });

  it('a file that grew since it was listed is still read only up to the sample bound', async () => {
    writeFileSync(join(files, 'set', 'growing.log'), Buffer.alloc(10 << 20, 0x62));
    const sample = await sampleFile(target, 'set', { ...info('growing.log'), size: 100 });
    expect(sample.bytes).toBe(128 << 10);
  });

  it('an unreadable file in the latest set is named in the detail and the check still decides', async () => {
    const root = baseSets();
    const set2 = copySet(root, 1, 2);
    const snapshot = await takeSnapshot('same-city', new PathTarget(root));
    rmSync(join(set2, 'data'), { recursive: true });
    mkdirSync(join(set2, 'data'));
    const outcome = await checkRansomware(snapshot);
    const detail = detailOf(outcome);
    expect(outcome.status).toBe('pass');
    expect(detail.unreadable?.map((file) => file.path)).toContain('data/payments-big.csv');
    expect(readFileSync(join(set2, 'docs/notice-0.txt'), 'utf8').length).toBeGreaterThan(0);
  });
});

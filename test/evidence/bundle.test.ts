import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackage, ensureExecutable, verifyAuditExtract, type ChainedAuditEntry } from '../../core/index.js';
import {
  EvidenceErrors, digestsOf, exportEvidenceBundle, fingerprintOf, gatherFacts, readZipEntries, ZIP_LIMITS, generateSigningKey, signManifest, sm2Supported,
  systemVerdicts, verifyEvidenceBundle, type ExportOptions, type Manifest, type SigningKey,
} from '../../evidence/index.js';
import { DEPT_A, DEPT_B, GOOD, PARTIAL, PERIOD, SILENT, seedFixture, type Fixture } from './fixture.js';

const readZip = readZipEntries;

function writeZip(path: string, entries: Map<string, Buffer>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => {
      writeFileSync(path, Buffer.concat(chunks));
      resolve();
    });
  });
}

const ndjsonLines = (data: Buffer | undefined) => (data ?? Buffer.alloc(0)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

let fixture: Fixture;
let key: SigningKey;
let bundle: string;
let entries: Map<string, Buffer>;

const exportTo = (name: string, extra: Partial<ExportOptions> = {}) =>
  exportEvidenceBundle({ store: fixture.store, selection: { ...PERIOD }, key, out: join(fixture.dir, name), ...extra });

beforeAll(async () => {
  fixture = await seedFixture();
  key = generateSigningKey();
  bundle = (await exportTo('all.zip')).path;
  entries = await readZip(bundle);
}, 120_000);

afterAll(async () => {
  await fixture?.close();
});

describe('status rules on constructed data', () => {
  it('decides each evidenced control from the data', async () => {
    const facts = await gatherFacts(fixture.store, { ...PERIOD });
    const verdict = (system: string) => systemVerdicts(facts.systems.find((s) => s.system.id === system)!);
    expect(verdict(GOOD)).toMatchObject({
      auditCoverage: { status: '符合' }, auditRecords: { status: '符合' }, auditProtection: { status: '未测评' },
      intrusion: { status: '符合' }, incidentHandling: { status: '符合' }, backupLocal: { status: '符合' }, backupOffsite: { status: '符合' },
      // 安全运维管理: the policy (no retention stated) and a passing same-city drill with both copies checked.
      backupIdentification: { status: '部分符合' }, backupStipulation: { status: '部分符合' }, backupProcedures: { status: '符合' },
      emergencyDrill: { status: '部分符合' },
    });
    // One event in December, then June only: not six months without gaps.
    expect(verdict(GOOD).auditRetention).toMatchObject({ status: '部分符合' });
    // No audit event in the whole period → 安全审计 不符合; no backup policy → 不符合 (not 不适用).
    expect(verdict(SILENT)).toMatchObject({
      auditCoverage: { status: '不符合' }, auditRetention: { status: '不符合' }, intrusion: { status: '不符合' }, incidentHandling: { status: '未测评' },
      backupLocal: { status: '不符合' }, backupOffsite: { status: '不符合' },
      backupIdentification: { status: '不符合' }, backupStipulation: { status: '不符合' }, backupProcedures: { status: '不符合' },
      emergencyDrill: { status: '未测评' },
    });
    // One host silent and logs only since 10 June; nginx records reach no intrusion rule; an alert nobody touched; a failed off-site check; no drill.
    expect(verdict(PARTIAL)).toMatchObject({
      auditCoverage: { status: '部分符合' }, intrusion: { status: '不符合' }, incidentHandling: { status: '不符合' },
      backupLocal: { status: '部分符合' }, backupOffsite: { status: '部分符合' },
      backupProcedures: { status: '部分符合' }, emergencyDrill: { status: '未测评' },
    });

    const good = facts.systems.find((s) => s.system.id === GOOD)!;
    expect(good.audit).toMatchObject({ reportingSources: 2, expectedSources: 2, eventsInPeriod: 170 });
    expect(good.audit.retention).toMatchObject({ requiredFrom: '2026-01-01 08:00:00 +08:00', oldestEvent: '2025-12-01 08:00:00 +08:00' });
    expect(good.audit.retention.gapDays).toBeGreaterThan(100);
    expect(good.intrusion).toMatchObject({ matches: 3, reachingDatasets: ['mariadb.audit', 'system.auth'] });
    // Acknowledged after 60, 120 and 180 minutes: the median is two hours.
    expect(good.handling).toMatchObject({ alerts: 3, handled: 3, medianAckSeconds: 7200 });
    // Its shouwang.backup event is Shouwang's record, not the system's audit log.
    expect(facts.systems.find((s) => s.system.id === SILENT)!.audit).toMatchObject({ eventsInPeriod: 0, records: { sampled: 0 } });
    expect(facts.systems.find((s) => s.system.id === SILENT)!.audit.retention.oldestEvent).toBeUndefined();
    const partial = facts.systems.find((s) => s.system.id === PARTIAL)!;
    expect(partial.audit.silentSources).toEqual(['partial-db']);
  });

  it('measures the evidence window up to now, so a period still running cannot reach the minimum window early', async () => {
    const now = Date.now();
    const facts = await gatherFacts(fixture.store, { from: new Date(now - 10 * 86_400_000).toISOString(), to: new Date(now + 30 * 86_400_000).toISOString() });
    expect(facts.periodDays).toBeGreaterThan(9.9);
    expect(facts.periodDays).toBeLessThan(10.1);
    expect(facts.systems[0]!.periodDays).toBe(facts.periodDays);
  });

  it('writes the controls table as CSV with a BOM and as XLSX, with the rule behind each status', async () => {
    const csv = entries.get('controls.csv')!;
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = csv.toString('utf8').slice(1).split('\r\n');
    expect(lines[0]).toContain('条款 Clause');
    const row = (system: string, clause: string) => lines.find((l) => l.includes(`(${system})`) && l.includes(`,${clause},`));
    expect(row(SILENT, '8.1.4.3 a)')).toContain(',不符合,');
    expect(row(SILENT, '8.1.4.3 a)')).toContain('期间内无审计事件');
    expect(row(GOOD, '8.1.4.9 b)')).toContain(',符合,');
    expect(row(GOOD, '8.1.4.1 a)')).toContain('需人工核查');
    // Level-2 clauses for the level-2 system.
    expect(row(PARTIAL, '7.1.4.3 a)')).toContain(',部分符合,');
    // Each row names its GB/T 28448-2019 测评单元, of the system's level.
    expect(lines[0]).toContain('测评单元 / Test unit');
    expect(row(GOOD, '8.1.4.9 b)')).toContain(',L3-CES1-30,');
    expect(row(SILENT, '8.1.4.3 a)')).toContain(',L3-CES1-12,');
    expect(row(PARTIAL, '7.1.4.8 a)')).toContain(',L2-CES1-19,');
    expect(row(PARTIAL, '7.1.4.8 a)')).toContain(',部分符合,');
    expect(lines.some((l) => l.includes('7.1.4.9'))).toBe(false);
    // zh-CN with English: the control, the requirement and the status in English beside the standard's Chinese.
    expect(lines[0]).toContain('控制点（英文）Control (English),要求（英文）Requirement (English),状态（英文）Status (English)');
    expect(row(GOOD, '8.1.4.1 a)')).toContain(',Identification and authentication,');
    expect(row(GOOD, '8.1.4.1 a)')).toContain('Identify and authenticate users who log in');
    expect(row(GOOD, '8.1.4.1 a)')).toContain(',not assessed (manual review)');
    expect(row(SILENT, '8.1.4.3 a)')).toMatch(/,non-compliant$/);

    const xlsxPath = join(fixture.dir, 'controls.xlsx');
    writeFileSync(xlsxPath, entries.get('controls.xlsx')!);
    const xlsx = await readZip(xlsxPath);
    expect([...xlsx.keys()].sort()).toEqual(['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml']);
    const sheet = xlsx.get('xl/worksheets/sheet1.xml')!.toString('utf8');
    expect(sheet).toContain('8.1.4.3 a)');
    expect(sheet).toContain('不符合');
    expect((sheet.match(/<row /g) ?? []).length).toBe(lines.filter(Boolean).length);

    // An independent reader (openpyxl from Debian python3-openpyxl, so Debian's python3) opens it and sees the same cells.
    await ensureDebianPackage({ debianPackage: 'python3-openpyxl', file: '/usr/lib/python3/dist-packages/openpyxl/__init__.py' });
    const read = execFileSync('/usr/bin/python3', ['-c', [
      'import json, sys, openpyxl',
      'ws = openpyxl.load_workbook(sys.argv[1]).active',
      'print(json.dumps([[c.value for c in row] for row in ws.iter_rows()], ensure_ascii=False))',
    ].join('\n'), xlsxPath], { encoding: 'utf8' });
    const cells = JSON.parse(read) as (string | number)[][];
    expect(cells).toHaveLength(lines.filter(Boolean).length);
    expect(cells[0]![3]).toBe('条款 Clause');
    expect(cells[0]![4]).toBe('测评单元 / Test unit');
    const silentAudit = cells.find((c) => String(c[0]).includes(SILENT) && c[3] === '8.1.4.3 a)');
    expect(silentAudit?.[4]).toBe('L3-CES1-12');
    expect(silentAudit?.[7]).toBe('不符合');
    // Every unit is one of the row's level.
    for (const c of cells.slice(1)) expect(String(c[4]), String(c[3])).toMatch(new RegExp(`^L${c[2]}-(ABS|CES|SMC|MMS)1-\\d{2}$`));
    expect(cells.find((c) => String(c[0]).includes(PARTIAL))?.[2]).toBe(2);
  });

  it('writes bounded evidence samples, alerts with timelines, backup results, drills and the audit trail', () => {
    const samples = ndjsonLines(entries.get(`evidence/audit-samples/${GOOD}.ndjson`));
    const auth = samples.filter((e) => (e.event as { dataset?: string }).dataset === 'system.auth');
    expect(auth).toHaveLength(100);
    expect(samples.filter((e) => (e.event as { dataset?: string }).dataset === 'mariadb.audit')).toHaveLength(20);
    expect(ndjsonLines(entries.get(`evidence/audit-samples/${SILENT}.ndjson`))).toEqual([]);
    const alerts = ndjsonLines(entries.get('evidence/alerts.ndjson'));
    expect(alerts).toHaveLength(4);
    expect(alerts.every((a) => Array.isArray(a.timeline) && (a.timeline as unknown[]).length >= 1)).toBe(true);
    expect(ndjsonLines(entries.get('evidence/backup-checks.ndjson'))).toHaveLength(8);
    expect(ndjsonLines(entries.get('evidence/restore-drills.ndjson'))).toHaveLength(1);
    expect(ndjsonLines(entries.get('evidence/console-audit.ndjson')).map((e) => e.action)).toEqual(['alert.update', 'user.create']);
  });
});

describe('verify', () => {
  it('accepts an untouched bundle, naming the bundle key it used', async () => {
    const report = await verifyEvidenceBundle(bundle);
    expect(report).toMatchObject({ ok: true, changed: [], added: [], removed: [], signatureValid: true, keySource: 'bundle' });
    expect(report.fingerprint).toMatch(/^SHA256:/);
    // The report's cover names the signer, read back from the PDF text.
    expect(report.reportFingerprints).toEqual([fingerprintOf(key.publicKey)]);
    expect(await verifyEvidenceBundle(bundle, { publicKey: key.publicKey })).toMatchObject({ ok: true, keySource: 'pinned' });
  });

  const tampered = async (name: string, change: (files: Map<string, Buffer>) => void) => {
    const files = new Map(entries);
    change(files);
    const path = join(fixture.dir, name);
    await writeZip(path, files);
    return path;
  };

  it('names a file with one changed byte', async () => {
    const path = await tampered('changed.zip', (files) => {
      const data = Buffer.from(files.get('evidence/alerts.ndjson')!);
      data[10] = data[10]! ^ 1;
      files.set('evidence/alerts.ndjson', data);
    });
    const report = await verifyEvidenceBundle(path);
    expect(report).toMatchObject({ ok: false, changed: ['evidence/alerts.ndjson'], added: [], removed: [], signatureValid: true });
    expect(report.problems.join('\n')).toContain('file changed: evidence/alerts.ndjson');
  });

  it('refuses a deflate bomb or an entry flood by declared sizes, before inflating, with a clear error', async () => {
    const bomb = await tampered('bomb.zip', (files) => files.set('evidence/zeros.ndjson', Buffer.alloc(8 * 1024 * 1024)));
    const limits = { ...ZIP_LIMITS, entryBytes: 1024 * 1024 };
    await expect(readZipEntries(bomb, limits)).rejects.toMatchObject({ code: 'SW_ERR_EVIDENCE_BUNDLE', message: expect.stringContaining('evidence/zeros.ndjson unpacks to 8388608 bytes') });
    await expect(readZipEntries(bundle, { ...ZIP_LIMITS, entries: 2 })).rejects.toMatchObject({ message: expect.stringContaining('more than 2 entries') });
    await expect(readZipEntries(bundle, { ...ZIP_LIMITS, totalBytes: 1000 })).rejects.toMatchObject({ message: expect.stringContaining('more than 1000 bytes') });
    expect((await readZipEntries(bomb)).get('evidence/zeros.ndjson')).toHaveLength(8 * 1024 * 1024); // within the defaults
  });

  it('names an added file and a removed file', async () => {
    const added = await verifyEvidenceBundle(await tampered('added.zip', (files) => files.set('evidence/extra.ndjson', Buffer.from('{}\n'))));
    expect(added).toMatchObject({ ok: false, added: ['evidence/extra.ndjson'], changed: [], removed: [] });
    const removed = await verifyEvidenceBundle(await tampered('removed.zip', (files) => files.delete('controls.csv')));
    expect(removed).toMatchObject({ ok: false, removed: ['controls.csv'], changed: [], added: [] });
  });

  it('detects an edited manifest, even one edited to hide a changed file', async () => {
    const path = await tampered('manifest.zip', (files) => {
      const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
      const csv = Buffer.concat([files.get('controls.csv')!, Buffer.from('forged\r\n')]);
      files.set('controls.csv', csv);
      const entry = manifest.files.find((f: { path: string }) => f.path === 'controls.csv');
      entry.size = csv.length;
      entry.sha256 = 'f'.repeat(64);
      files.set('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)));
    });
    const report = await verifyEvidenceBundle(path);
    expect(report.ok).toBe(false);
    expect(report.signatureValid).toBe(false);
    expect(report.wrongKey).toBe(false);
    expect(report.problems.join('\n')).toContain('the manifest was edited');
  });

  it('fails when report.pdf comes from a bundle signed with another key, re-signing nothing, and never parses the unsigned PDF', async () => {
    const other = generateSigningKey();
    const otherPdf = (await readZip((await exportTo('other-key.zip', { key: other, selection: { ...PERIOD, system: GOOD } })).path)).get('report.pdf')!;
    const report = await verifyEvidenceBundle(await tampered('swapped-pdf.zip', (files) => files.set('report.pdf', otherPdf)));
    expect(report).toMatchObject({ ok: false, changed: ['report.pdf'], signatureValid: true });
    expect(report.problems).toContain('文件已被修改 / file changed: report.pdf');
    // The bytes the signature does not cover never reach pdftotext.
    expect(report.reportFingerprints).toBeUndefined();
  });

  it('fails a bundle re-signed by another key around the original report (digests and signature hold)', async () => {
    const other = generateSigningKey();
    const path = await tampered('resigned.zip', (files) => {
      const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest;
      manifest.signature = { ...manifest.signature, publicKey: other.publicKey.export({ type: 'spki', format: 'pem' }) as string, fingerprint: fingerprintOf(other.publicKey) };
      files.set('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      files.set('manifest.sig', Buffer.from(`${signManifest(manifest, other).toString('base64')}\n`));
    });
    const report = await verifyEvidenceBundle(path);
    expect(report).toMatchObject({ ok: false, changed: [], added: [], removed: [], signatureValid: true, reportFingerprints: [fingerprintOf(key.publicKey)] });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(new RegExp(`^${EvidenceErrors.reportKey.code}: .*${fingerprintOf(key.publicKey).replace(/[+/]/g, '\\$&')}`));
  });

  it('fails a report.pdf that names no fingerprint or is not a PDF at all', async () => {
    for (const bytes of [Buffer.from('%PDF-1.3\n%%EOF\n'), Buffer.from([0, 1, 2, 255, 254])]) {
      const path = await tampered('no-fingerprint.zip', (files) => {
        files.set('report.pdf', bytes);
        const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest;
        manifest.files = manifest.files.map((f) => (f.path === 'report.pdf' ? digestsOf('report.pdf', bytes) : f));
        files.set('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
        files.set('manifest.sig', Buffer.from(`${signManifest(manifest, key).toString('base64')}\n`));
      });
      const report = await verifyEvidenceBundle(path);
      expect(report).toMatchObject({ ok: false, changed: [], signatureValid: true, reportFingerprints: [] });
      expect(report.problems).toEqual([expect.stringContaining(`${EvidenceErrors.reportKey.code}: `)]);
    }
  });

  it('fails a manifest.json or manifest.sig with one byte changed, even where the parsed manifest and signature stay the same', async () => {
    const manifestText = entries.get('manifest.json')!.toString('utf8');
    const signatureText = entries.get('manifest.sig')!.toString('utf8');
    const edits: [string, string, string][] = [
      ['manifest.json', 'manifest-space.zip', manifestText.replace('{\n  "', '{\n   "')],
      ['manifest.json', 'manifest-no-newline.zip', manifestText.slice(0, -1)],
      ['manifest.json', 'manifest-escaped.zip', manifestText.replace('"shouwang-evidence/1"', '"shouwang-evidence\\/1"')],
      ['manifest.sig', 'sig-junk.zip', `*${signatureText}`],
      ['manifest.sig', 'sig-space.zip', `${signatureText.trimEnd()} \n`],
    ];
    for (const [file, name, text] of edits) {
      const path = await tampered(name, (files) => files.set(file, Buffer.from(text, 'utf8')));
      const report = await verifyEvidenceBundle(path, { publicKey: key.publicKey });
      expect(report.ok, name).toBe(false);
      expect(report.problems.join('\n'), name).toContain(`${file} 的字节不是导出时写入的格式，已被修改 / its bytes are not as exported`);
    }
  });

  it('names a wrong key when the public key is pinned', async () => {
    const other = generateSigningKey();
    const report = await verifyEvidenceBundle(bundle, { publicKey: other.publicKey });
    expect(report).toMatchObject({ ok: false, wrongKey: true, signatureValid: false, changed: [], added: [], removed: [] });
    expect(report.problems.join('\n')).toContain('wrong key');
  });

  it.runIf(sm2Supported())('signs and verifies with SM2 (SM3 digest) when OpenSSL supports it', async () => {
    const sm2 = generateSigningKey('sm2');
    const summary = await exportTo('sm2.zip', { key: sm2, selection: { ...PERIOD, system: GOOD } });
    const manifest = JSON.parse((await readZip(summary.path)).get('manifest.json')!.toString('utf8'));
    expect(manifest.signature.algorithm).toBe('sm2');
    expect(await verifyEvidenceBundle(summary.path, { publicKey: sm2.publicKey })).toMatchObject({ ok: true });
    expect(await verifyEvidenceBundle(summary.path, { publicKey: key.publicKey })).toMatchObject({ ok: false, wrongKey: true });
  });
});

describe('department scope', () => {
  it('exports only the departments in the caller scope', async () => {
    const summary = await exportTo('scoped.zip', { scope: { departments: [DEPT_A] } });
    const files = await readZip(summary.path);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    expect(manifest.selection.systems).toEqual([GOOD, SILENT]);
    expect([...files.keys()].filter((name) => name.includes(PARTIAL))).toEqual([]);
    expect(ndjsonLines(files.get('evidence/alerts.ndjson')).map((a) => a.department)).toEqual([DEPT_A, DEPT_A, DEPT_A]);
    expect(files.get('controls.csv')!.toString('utf8')).not.toContain(PARTIAL);
    // The console trail keeps only entries about the exported alerts.
    expect(ndjsonLines(files.get('evidence/console-audit.ndjson')).map((e) => e.action)).toEqual(['alert.update']);
  });

  it('refuses a department or system outside the scope as not found', async () => {
    await expect(exportTo('other.zip', { scope: { departments: [DEPT_A] }, selection: { ...PERIOD, department: DEPT_B } }))
      .rejects.toMatchObject({ code: EvidenceErrors.notFound.code });
    await expect(exportTo('other.zip', { scope: { departments: [DEPT_A] }, selection: { ...PERIOD, system: PARTIAL } }))
      .rejects.toMatchObject({ code: EvidenceErrors.notFound.code });
    await expect(exportTo('bad.zip', { selection: { from: PERIOD.to, to: PERIOD.from } }))
      .rejects.toMatchObject({ code: EvidenceErrors.selection.code });
  });
});

describe('report.pdf', () => {
  it('has the Chinese headings and figures as text, and renders a page', async () => {
    const pdftotext = await ensureExecutable({ command: 'pdftotext', debianPackage: 'poppler-utils' });
    const pdftoppm = await ensureExecutable({ command: 'pdftoppm', debianPackage: 'poppler-utils' });
    const pdf = join(fixture.dir, 'report.pdf');
    writeFileSync(pdf, entries.get('report.pdf')!);
    const text = execFileSync(pdftotext, ['-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' });
    for (const heading of ['等级保护合规证据报告', '总体情况', '系统摘要', '控制项摘要', '政务服务网', '档案系统', '预约挂号']) {
      expect(text).toContain(heading);
    }
    expect(text).toContain('审计事件 170 条');
    expect(text).toContain('日志源上报 1/2');
    expect(text).toContain('Rules: each item is decided on its own.');
    expect(text).toContain('入侵告警 3 条，已处置 3（有处置记录 3），确认时间中位数 2.0h');
    // Targets from the policy; the drill's time in +08:00.
    expect(text).toContain('RPO 目标 10min，RTO 目标 4.0h');
    expect(text).toContain('最近 2026-06-15 11:00:00 +08:00 pass，RTO 实际 30min');
    // The cover: period in +08:00, the minimum evidence window and the real-time RPO bound.
    expect(text).toContain('期间 Period：2026-06-01 08:00:00 +08:00 — 2026-07-01 08:00:00 +08:00（至今 30 天 days elapsed）');
    expect(text).toContain('最短取证期间 Minimum evidence window：30 天 days');
    expect(text).toContain('异地实时备份 RPO 上限');
    expect(text).toContain('8.1.4.3 a) 安全审计：不符合');
    expect(text).toContain('未测评（需人工核查）');
    // The level-2 system's verdicts cite only level-2 items: intrusion at 7.1.3.3, no 集中管控 retention.
    const partialBlock = text.slice(text.indexOf('预约挂号（sys-partial）'), text.indexOf('控制项摘要'));
    expect(partialBlock.replace(/\s+/g, '')).toContain('7.1.3.3入侵防范：不符合');
    expect(partialBlock).not.toContain('留存要求');
    expect(partialBlock).not.toMatch(/[89]\.1\.\d+\.\d+/);
    expect(text).toContain('8.1.4.9 b)（测评单元 L3-CES1-30）');

    const artifacts = join(process.cwd(), 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    const prefix = join(artifacts, 'evidence-report');
    execFileSync(pdftoppm, ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', pdf, prefix]);
    const png = readFileSync(`${prefix}.png`);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

describe('time zone', () => {
  it('writes report.pdf, controls.csv and the facts in the configured zone, and records it in the manifest', async () => {
    const pdftotext = await ensureExecutable({ command: 'pdftotext', debianPackage: 'poppler-utils' });
    const files = await readZip((await exportTo('utc.zip', { settings: { timeZone: 'UTC' } })).path);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest;
    expect(manifest.timeZone).toBe('UTC');
    expect((JSON.parse(entries.get('manifest.json')!.toString('utf8')) as Manifest).timeZone).toBe('Asia/Shanghai');
    expect(await verifyEvidenceBundle(join(fixture.dir, 'utc.zip'))).toMatchObject({ ok: true });

    const pdf = join(fixture.dir, 'utc-report.pdf');
    writeFileSync(pdf, files.get('report.pdf')!);
    const text = execFileSync(pdftotext, ['-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' });
    // The same instants as in the default bundle (2026-06-01 08:00:00 +08:00 …), now in UTC.
    expect(text).toContain('期间 Period：2026-06-01 00:00:00 +00:00 — 2026-07-01 00:00:00 +00:00');
    expect(text).toContain('时区 Time zone：UTC');
    expect(text).toContain('最近 2026-06-15 03:00:00 +00:00 pass');
    expect(text.split('\n').filter((l) => l.includes('+08:00'))).toEqual([]);
    const csv = files.get('controls.csv')!.toString('utf8');
    expect(csv).toContain('2026-06-15 03:00:00 +00:00');
    expect(csv).not.toContain('+08:00');
    const good = ndjsonLines(files.get('evidence/system-facts.ndjson')).find((s) => s.system === GOOD)!;
    expect(good).toMatchObject({ settings: { timeZone: 'UTC' }, audit: { retention: { requiredFrom: '2026-01-01 00:00:00 +00:00' } } });
  }, 120_000);
});

describe('period boundaries', () => {
  // Runs last: it adds an alert to the silent system, which the tests above expect to have none.
  it('keeps an alert raised in the period that went on firing after it, and leaves out one raised after the period', async () => {
    const raised = '2026-06-30T15:00:00.000Z';
    const base = (await fixture.store.alerts.search({ system: [GOOD] }, { size: 1 })).items[0]!;
    const spanning = { ...base, id: 'alert-spanning', system: SILENT, firstSeen: raised, lastSeen: '2026-07-03T00:00:00.000Z', status: 'new' as const,
      timeline: [{ at: raised, actor: 'shouwang', action: 'raised' as const }] };
    const after = { ...spanning, id: 'alert-after', firstSeen: '2026-07-01T00:00:00.000Z', lastSeen: '2026-07-02T00:00:00.000Z' };
    await fixture.store.alerts.upsert([spanning, after]);
    const facts = await gatherFacts(fixture.store, { ...PERIOD, system: SILENT });
    const silent = facts.systems[0]!;
    expect(silent.alerts.map((a) => a.id)).toEqual(['alert-spanning']);
    expect(silent.intrusion.matches).toBe(1);
    expect(systemVerdicts(silent).incidentHandling.status).toBe('不符合');
  });
});

describe('console audit extract anchoring', () => {
  it('carries the signed checkpoint covering its console audit extract, with the links to check it offline', async () => {
    const stop = await fixture.store.audit.anchorWith(key);
    try {
      const path = (await exportTo('anchored.zip')).path;
      const files = await readZip(path);
      const extract = ndjsonLines(files.get('evidence/console-audit.ndjson')) as unknown as ChainedAuditEntry[];
      const anchor = JSON.parse(files.get('evidence/console-audit-anchor.json')!.toString('utf8'));
      expect(extract.length).toBeGreaterThan(0);
      expect(anchor.checkpoint.seq).toBeGreaterThanOrEqual(Math.max(...extract.map((e) => e.seq)));
      expect(anchor.checkpoint.publicKey).toBe(key.publicKey.export({ type: 'spki', format: 'pem' }));
      expect(verifyAuditExtract(extract, anchor.links, anchor.checkpoint, key.publicKey)).toBeUndefined();
      expect((await verifyEvidenceBundle(path, { publicKey: key.publicKey })).ok).toBe(true);
      // An edited extract entry, a cut link or another signer does not fit.
      expect(verifyAuditExtract([{ ...extract[0]!, actor: 'someone-else' }], anchor.links, anchor.checkpoint, key.publicKey)).toMatch(/does not fit/);
      expect(verifyAuditExtract(extract, anchor.links.slice(0, -1), anchor.checkpoint, key.publicKey)).toMatch(/checkpoint/);
      expect(verifyAuditExtract(extract, anchor.links, anchor.checkpoint, generateSigningKey().publicKey)).toMatch(/signature/);
    } finally {
      stop();
    }
  });
});

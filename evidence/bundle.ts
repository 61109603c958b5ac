import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import yauzl from 'yauzl';
import { loadMlpsCatalog, type MlpsCatalog } from '../analyzers/index.js';
import {
  checkpointPublicKey, ShouwangError, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, verifyAuditExtract, type AuditCheckpoint, type AuditLink, type ChainedAuditEntry,
} from '../core/index.js';
import type { Scope, Store } from '../store/index.js';
import { controlRows, systemVerdicts, type ControlRow } from './controls.js';
import { EvidenceErrors } from './errors.js';
import { gatherFacts, type EvidenceFacts, type EvidenceSelection } from './facts.js';
import { ensureCjkFont, renderReport } from './pdf-report.js';
import { reportFingerprints } from './report-fingerprint.js';
import {
  CANONICALIZATION, digestsOf, fingerprintOf, signManifest, verifyManifestSignature,
  type Manifest, type ManifestFile, type SigningKey,
} from './signing.js';
import type { ControlVerdict, EvidencedControl, EvidenceRuleSettings } from './status-rules.js';
import type { IntrusionRules } from './intrusion-rules.js';
import { controlsCsv, controlsXlsx, zipToBuffer } from './tables.js';

export const MANIFEST_FILE = 'manifest.json';
export const REPORT_FILE = 'report.pdf';
export const SIGNATURE_FILE = 'manifest.sig';
export const AUDIT_EXTRACT_FILE = 'evidence/console-audit.ndjson';
/** The signed audit checkpoint covering the extract, its public key, and the chain links from the extract to it. */
export const AUDIT_ANCHOR_FILE = 'evidence/console-audit-anchor.json';

interface AuditAnchorFile {
  checkpoint: AuditCheckpoint;
  links: AuditLink[];
}

export interface ExportOptions {
  store: Store;
  selection: EvidenceSelection;
  /** The caller's department scope; it goes into every store query. */
  scope?: Scope;
  key: SigningKey;
  /** Where the ZIP goes; written to `<out>.partial` first, then renamed. */
  out: string;
  catalog?: MlpsCatalog;
  fontFile?: string;
  silentAfterSeconds?: number;
  /** `evidence.minimumWindow` and `evidence.realtimeRpo` (defaults 30 days and 15 min). */
  settings?: Partial<EvidenceRuleSettings>;
  /** The configured rules with the console's switches (default: the shipped rules, all enabled). */
  intrusionRules?: () => Promise<IntrusionRules>;
  onProgress?: (progress: { done: number; total: number; step: string }) => void;
  now?: () => Date;
}

export interface ExportSummary {
  path: string;
  bytes: number;
  files: number;
  systems: number;
  statuses: Record<string, number>;
  fingerprint: string;
}

const ndjson = (records: readonly unknown[]) => Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
const safeName = (id: string) => id.replace(/[^\w.-]/g, '_');

/** The bundle's files (all but the manifest and its signature), path → bytes. */
async function bundleFiles(facts: EvidenceFacts, rows: ControlRow[], report: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  files.set(REPORT_FILE, report);
  files.set('controls.csv', controlsCsv(rows));
  files.set('controls.xlsx', await controlsXlsx(rows));
  for (const system of facts.systems) {
    files.set(`evidence/audit-samples/${safeName(system.system.id)}.ndjson`, ndjson(system.samples));
  }
  files.set('evidence/alerts.ndjson', ndjson(facts.systems.flatMap((s) => s.alerts)));
  files.set('evidence/backup-checks.ndjson', ndjson(facts.systems.flatMap((s) => s.backupChecks)));
  files.set('evidence/restore-drills.ndjson', ndjson(facts.systems.flatMap((s) => s.drills)));
  files.set(AUDIT_EXTRACT_FILE, ndjson(facts.auditTrail));
  files.set('evidence/system-facts.ndjson', ndjson(facts.systems.map((s) => ({
    system: s.system.id, name: s.system.name, department: s.system.department, mlpsLevel: s.system.mlpsLevel,
    audit: s.audit, intrusion: s.intrusion, handling: s.handling, backup: s.backup, settings: s.settings,
  }))));
  return files;
}

/**
 * Builds a signed evidence bundle: gathers the facts in scope, decides the statuses, renders the
 * report and the tables, digests every file (SHA-256 and SM3) into manifest.json and signs its
 * canonical bytes into manifest.sig.
 */
export async function exportEvidenceBundle(options: ExportOptions): Promise<ExportSummary> {
  const now = options.now?.() ?? new Date();
  const progress = (done: number, step: string) => options.onProgress?.({ done, total: 100, step });
  const catalog = options.catalog ?? loadMlpsCatalog();
  const fontFile = options.fontFile ?? (await ensureCjkFont());

  progress(0, '读取数据 / reading the store');
  const facts = await gatherFacts(options.store, options.selection, options.scope, {
    ...(options.silentAfterSeconds ? { silentAfterSeconds: options.silentAfterSeconds } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.intrusionRules ? { intrusionRules: await options.intrusionRules() } : {}),
    onProgress: (done, total, step) => progress(Math.floor((done / Math.max(total, 1)) * 70), step),
  });

  progress(70, '判定状态 / deciding statuses');
  const verdicts = new Map<string, Record<EvidencedControl, ControlVerdict>>();
  const rows: ControlRow[] = [];
  for (const system of facts.systems) {
    verdicts.set(system.system.id, systemVerdicts(system));
    rows.push(...controlRows(catalog, system));
  }

  progress(75, '生成报告 / rendering the report');
  const fingerprint = fingerprintOf(options.key.publicKey);
  const report = await renderReport({ facts, rows, verdicts, generatedAt: now.toISOString(), fingerprint, fontFile });
  const files = await bundleFiles(facts, rows, report);
  const anchor = await auditAnchor(options.store, facts.auditTrail);
  if (anchor) files.set(AUDIT_ANCHOR_FILE, Buffer.from(`${JSON.stringify(anchor, null, 2)}\n`, 'utf8'));

  progress(90, '签名 / signing');
  const manifest: Manifest = {
    format: 'shouwang-evidence/1',
    createdAt: now.toISOString(),
    generator: 'shouwang evidence export',
    // The zone every local date of the report and tables is in, so a reviewer elsewhere reads them right.
    timeZone: facts.settings.timeZone,
    selection: {
      ...facts.selection,
      ...(options.scope?.departments ? { scopeDepartments: [...options.scope.departments] } : {}),
      systems: facts.systems.map((s) => s.system.id),
    },
    files: [...files.entries()].map(([path, data]) => digestsOf(path, data)).sort((a, b) => (a.path < b.path ? -1 : 1)),
    signature: {
      algorithm: options.key.algorithm,
      publicKey: options.key.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      fingerprint,
      canonicalization: CANONICALIZATION,
    },
  };
  const signature = signManifest(manifest, options.key);
  const zip = await zipToBuffer([
    [MANIFEST_FILE, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8')],
    [SIGNATURE_FILE, Buffer.from(`${signature.toString('base64')}\n`, 'utf8')],
    ...files.entries(),
  ]);
  mkdirSync(dirname(options.out), { recursive: true, mode: PRIVATE_DIR_MODE });
  writeFileSync(`${options.out}.partial`, zip, { mode: PRIVATE_FILE_MODE });
  renameSync(`${options.out}.partial`, options.out);

  const statuses: Record<string, number> = {};
  for (const row of rows) statuses[row.status] = (statuses[row.status] ?? 0) + 1;
  progress(100, '完成 / done');
  return { path: options.out, bytes: zip.length, files: files.size + 2, systems: facts.systems.length, statuses, fingerprint };
}

/**
 * A checkpoint signed now (when the store is anchored) covers every extract entry; the links (seq and
 * hashes only, no other department's content) tie the extract to it. None when nothing covers the extract.
 */
async function auditAnchor(store: Store, trail: readonly ChainedAuditEntry[]): Promise<AuditAnchorFile | undefined> {
  const checkpoint = await store.audit.checkpoint();
  const seqs = trail.map((entry) => entry.seq);
  if (!checkpoint || (seqs.length && Math.max(...seqs) > checkpoint.seq)) return undefined;
  return { checkpoint, links: seqs.length ? await store.audit.links(Math.min(...seqs), checkpoint.seq) : [] };
}

/** The audit extract against the anchor the bundle carries; a problem text, or undefined when it holds. */
function auditAnchorProblem(entries: Map<string, Buffer>): string | undefined {
  const anchorBytes = entries.get(AUDIT_ANCHOR_FILE);
  if (!anchorBytes) return undefined;
  try {
    const anchor = JSON.parse(anchorBytes.toString('utf8')) as AuditAnchorFile;
    const extract = (entries.get(AUDIT_EXTRACT_FILE)?.toString('utf8') ?? '').split('\n').filter((line) => line.trim())
      .map((line) => JSON.parse(line) as ChainedAuditEntry);
    return verifyAuditExtract(extract, anchor.links, anchor.checkpoint, checkpointPublicKey(anchor.checkpoint));
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The reader trusts the fingerprint printed in the PDF: it must be the key that signed the manifest
 * (else a report from another signer, or a bundle re-signed around this report, would pass as signed).
 */
async function reportKeyProblem(entries: Map<string, Buffer>, report: VerifyReport): Promise<string | undefined> {
  const pdf = entries.get(REPORT_FILE);
  const signer = report.bundleFingerprint ?? report.fingerprint;
  if (!pdf || !signer) return undefined; // a missing report or key is reported on its own
  // Only a report the valid signature covers is parsed: a verifier never runs a PDF parser on bytes nobody signed.
  if (!report.signatureValid || report.changed.includes(REPORT_FILE) || report.added.includes(REPORT_FILE)) return undefined;
  let named: string[];
  try {
    named = await reportFingerprints(pdf);
  } catch (error) {
    if (error instanceof ShouwangError) throw error; // pdftotext missing: the verifier cannot judge, say so
    named = [];
  }
  report.reportFingerprints = named;
  const others = named.filter((fingerprint) => fingerprint !== signer);
  if (named.length && !others.length) return undefined;
  const problem = EvidenceErrors.reportKey(others.length ? others.join(', ') : '（无 none）', signer);
  return `${problem.code}: ${problem.message}`;
}

/** What `verify` found; `ok` only when every file matches and the signature holds with the expected key. */
export interface VerifyReport {
  ok: boolean;
  /** Files whose bytes differ from their manifest digests. */
  changed: string[];
  /** Files in the ZIP the manifest does not list. */
  added: string[];
  /** Files the manifest lists that the ZIP lacks. */
  removed: string[];
  signatureValid: boolean;
  /** The key in the bundle differs from the pinned one. */
  wrongKey: boolean;
  /** `pinned`: checked against --public-key; `bundle`: the bundle's own key was trusted. */
  keySource: 'pinned' | 'bundle';
  fingerprint?: string;
  bundleFingerprint?: string;
  /** The signing-key fingerprints report.pdf prints (its cover names one); they must be the signer's. */
  reportFingerprints?: string[];
  problems: string[];
}

/** What a bundle may unpack to in memory: far above any export, far below what would take the machine down. */
export const ZIP_LIMITS = { entries: 10_000, entryBytes: 1024 ** 3, totalBytes: 2 * 1024 ** 3 };

/**
 * Every file of a zip in memory. A hostile zip (a deflate bomb, thousands of entries) is refused by its
 * declared sizes before anything is inflated; yauzl's size validation stops an entry that lies about its size.
 */
export async function readZipEntries(path: string, limits = ZIP_LIMITS): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const duplicates: string[] = [];
  let count = 0;
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        count += 1;
        total += entry.uncompressedSize;
        const tooBig = count > limits.entries ? `more than ${limits.entries} entries`
          : entry.uncompressedSize > limits.entryBytes ? `${entry.fileName} unpacks to ${entry.uncompressedSize} bytes, over ${limits.entryBytes}`
            : total > limits.totalBytes ? `unpacks to more than ${limits.totalBytes} bytes` : undefined;
        if (tooBig) {
          zip.close();
          return reject(new Error(tooBig));
        }
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => {
            if (entries.has(entry.fileName)) duplicates.push(entry.fileName);
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  }).catch((error: Error) => {
    throw EvidenceErrors.bundle(path, error.message);
  });
  if (duplicates.length) throw EvidenceErrors.bundle(path, `entries listed twice: ${duplicates.join(', ')}`);
  return entries;
}

/**
 * Checks a bundle offline: every file against its SHA-256 and SM3 digests, files added or missing,
 * and the signature over the canonical manifest — with the pinned public key when given, else with
 * the key the bundle carries (whose fingerprint the caller should compare out of band).
 */
export async function verifyEvidenceBundle(path: string, options: { publicKey?: KeyObject } = {}): Promise<VerifyReport> {
  const entries = await readZipEntries(path);
  const report: VerifyReport = {
    ok: false, changed: [], added: [], removed: [], signatureValid: false, wrongKey: false,
    keySource: options.publicKey ? 'pinned' : 'bundle', problems: [],
  };
  const manifestBytes = entries.get(MANIFEST_FILE);
  const signatureBytes = entries.get(SIGNATURE_FILE);
  if (!manifestBytes) throw EvidenceErrors.bundle(path, `${MANIFEST_FILE} is missing`);
  if (!signatureBytes) report.problems.push(`${SIGNATURE_FILE} 缺失 / is missing`);

  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    if (!Array.isArray(manifest.files) || typeof manifest.signature?.publicKey !== 'string') throw new Error('files or signature.publicKey missing');
  } catch (error) {
    report.problems.push(`${MANIFEST_FILE} 无法解析，已被修改 / cannot be parsed, it was edited: ${(error as Error).message}`);
    return report;
  }

  let bundleKey: KeyObject | undefined;
  try {
    bundleKey = createPublicKey(manifest.signature.publicKey);
    report.bundleFingerprint = fingerprintOf(bundleKey);
  } catch (error) {
    report.problems.push(`清单中的公钥无效 / the manifest's public key is invalid: ${(error as Error).message}`);
  }
  const key = options.publicKey ?? bundleKey;
  if (key) report.fingerprint = fingerprintOf(key);
  if (options.publicKey && report.bundleFingerprint && report.bundleFingerprint !== report.fingerprint) {
    report.wrongKey = true;
    report.problems.push(`签名密钥不符 / wrong key: the bundle was signed by ${report.bundleFingerprint}, expected ${report.fingerprint}`);
  }
  if (key && signatureBytes) {
    const signature = Buffer.from(signatureBytes.toString('utf8').trim(), 'base64');
    report.signatureValid = verifyManifestSignature(manifest, signature, key);
    if (!report.signatureValid && !report.wrongKey) {
      report.problems.push(`${MANIFEST_FILE} 签名不符，清单已被修改 / signature does not match: the manifest was edited (or manifest.sig replaced)`);
    }
    // The signature covers the parsed manifest, and base64 decoding skips stray characters: byte edits that keep
    // the meaning (white space, a key repeated, an escaped character, a junk byte in manifest.sig) would pass unseen.
    if (!signatureBytes.equals(Buffer.from(`${signature.toString('base64')}\n`, 'utf8'))) {
      report.problems.push(`${SIGNATURE_FILE} 的字节不是导出时写入的格式，已被修改 / its bytes are not as exported (base64 and one newline): it was edited`);
    }
  }
  if (!manifestBytes.equals(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'))) {
    report.problems.push(`${MANIFEST_FILE} 的字节不是导出时写入的格式，已被修改 / its bytes are not as exported (2-space JSON, one newline): it was edited`);
  }

  const listed = new Map<string, ManifestFile>(manifest.files.map((f) => [f.path, f]));
  for (const [name, data] of entries) {
    if (name === MANIFEST_FILE || name === SIGNATURE_FILE) continue;
    const expected = listed.get(name);
    if (!expected) {
      report.added.push(name);
      continue;
    }
    const actual = digestsOf(name, data);
    if (actual.size !== expected.size || actual.sha256 !== expected.sha256 || actual.sm3 !== expected.sm3) report.changed.push(name);
  }
  for (const name of listed.keys()) if (!entries.has(name)) report.removed.push(name);
  for (const name of report.changed) report.problems.push(`文件已被修改 / file changed: ${name}`);
  for (const name of report.added) report.problems.push(`多出文件 / file added: ${name}`);
  for (const name of report.removed) report.problems.push(`缺少文件 / file removed: ${name}`);
  const reportProblem = await reportKeyProblem(entries, report);
  if (reportProblem) report.problems.push(reportProblem);
  const anchorProblem = auditAnchorProblem(entries);
  if (anchorProblem) report.problems.push(`审计记录与签名检查点不符 / the console audit extract does not fit its signed checkpoint: ${anchorProblem}`);
  report.ok = report.problems.length === 0 && report.signatureValid;
  return report;
}

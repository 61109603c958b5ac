import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, loadInventory, parseZonedTime, type Config } from '../core/index.js';
import { openStore } from '../store/index.js';
import {
  EvidenceErrors, ensureSigningKey, exportEvidenceBundle, generateSigningKey, readPublicKey, readSigningKey, sm2Supported, verifyEvidenceBundle,
  writeSigningKey, fingerprintOf, loadIntrusionRules, type SignatureAlgorithm,
} from '../evidence/index.js';
import { RuleSwitches, ruleSwitchesFile } from '../console/index.js';

export const EVIDENCE_USAGE = `shouwang evidence export (--system ID | --department ID | --all) --from DATE --to DATE [--out FILE.zip] [--key FILE] [--config FILE]
shouwang evidence verify <bundle.zip> [--public-key FILE]
shouwang evidence keygen [--algorithm ed25519|sm2] [--out FILE] [--config FILE]

  export  导出等保合规证据包：报告 (PDF)、控制项表 (CSV/XLSX)、证据 (NDJSON)、签名清单
          writes a signed MLPS evidence bundle for one system, one department or all, over
          [--from, --to) (ISO 8601; a date or a time without offset is in timeZone): report.pdf, controls.csv/.xlsx,
          evidence/*.ndjson, manifest.json (SHA-256 and SM3 of every file) and manifest.sig.
          The key defaults to <dataDir>/evidence/signing-key.pem, created (Ed25519) on first use.
  verify  离线校验证据包：每个文件的摘要与清单签名；指出被修改、增加或删除的文件
          checks a bundle offline: every digest and the signature. Without --public-key the key
          in the bundle is used and its fingerprint printed: compare it with the signer's.
          Exit 0 when intact, 1 when anything is wrong.
  keygen  生成签名密钥（默认 Ed25519；本机 OpenSSL 支持时可选 SM2）
          creates a signing key (PKCS#8 PEM, mode 600) and FILE.pub; never overwrites.`;

export interface EvidenceCommandIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

const defaultKeyPath = (dataDir: string) => join(dataDir, 'evidence', 'signing-key.pem');
const stamp = (iso: string) => iso.slice(0, 10).replace(/-/g, '');

export async function runEvidenceCommand(args: string[], io: EvidenceCommandIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' },
      system: { type: 'string' }, department: { type: 'string' }, all: { type: 'boolean' },
      from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string', short: 'o' }, key: { type: 'string' },
      'public-key': { type: 'string' }, algorithm: { type: 'string' },
    },
  });
  const [action, ...rest] = positionals;
  if (values.help) {
    io.out.write(`${EVIDENCE_USAGE}\n`);
    return 0;
  }
  const usage = (reason: string) => {
    io.err.write(`shouwang evidence: ${reason}\n\n${EVIDENCE_USAGE}\n`);
    return 2;
  };

  if (action === 'verify') {
    if (rest.length !== 1) return usage('expected exactly one <bundle.zip> after verify');
    const publicKey = values['public-key'] ? readPublicKey(values['public-key']) : undefined;
    const report = await verifyEvidenceBundle(rest[0]!, publicKey ? { publicKey } : {});
    for (const problem of report.problems) io.out.write(`✗ ${problem}\n`);
    io.out.write(report.keySource === 'pinned'
      ? `公钥 public key (pinned): ${report.fingerprint ?? '—'}\n`
      : `使用证据包内的公钥 used the public key in the bundle: ${report.bundleFingerprint ?? '—'} — 请与签名者的指纹核对 / compare it with the signer's fingerprint, or pass --public-key\n`);
    io.out.write(report.ok ? '✓ 证据包完整，签名有效 / bundle intact, signature valid\n' : '✗ 校验失败 / verification failed\n');
    return report.ok ? 0 : 1;
  }

  const { config } = loadConfig(values.config ? { file: values.config } : {});
  if (action === 'keygen') {
    if (rest.length) return usage('keygen takes no arguments');
    const algorithm = (values.algorithm ?? 'ed25519') as SignatureAlgorithm;
    if (algorithm !== 'ed25519' && algorithm !== 'sm2') return usage(`--algorithm must be ed25519 or sm2, got ${JSON.stringify(values.algorithm)}`);
    if (algorithm === 'sm2' && !sm2Supported()) throw EvidenceErrors.key('(new key)', `this Node's OpenSSL ${process.versions.openssl} cannot sign with SM2; use ed25519`);
    const path = values.out ?? defaultKeyPath(config.dataDir);
    const key = generateSigningKey(algorithm);
    try {
      writeSigningKey(path, key);
    } catch (error) {
      throw EvidenceErrors.key(path, (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'the file exists; it is never overwritten' : (error as Error).message);
    }
    io.out.write(`${algorithm} 签名密钥 signing key: ${path}\n公钥 public key: ${path}.pub\n指纹 fingerprint: ${fingerprintOf(key.publicKey)}\n`);
    return 0;
  }

  if (action !== 'export') return usage('expected export, verify or keygen');
  if (rest.length) return usage(`unexpected ${rest.join(' ')}`);
  const targets = [values.system, values.department, values.all ? true : undefined].filter((v) => v !== undefined);
  if (targets.length !== 1) return usage('give exactly one of --system, --department or --all');
  if (!values.from || !values.to) return usage('--from and --to are required');
  // A reviewer's "2026-11-01" is midnight where the city is, not in UTC.
  const instant = (name: string, value: string) => {
    const at = parseZonedTime(value, config.timeZone);
    if (at === undefined) throw EvidenceErrors.selection(`--${name} is not a date (ISO 8601): ${value}`);
    return new Date(at).toISOString();
  };
  const selection = {
    from: instant('from', values.from), to: instant('to', values.to),
    ...(values.system ? { system: values.system } : {}),
    ...(values.department ? { department: values.department } : {}),
  };
  const key = values.key ? readSigningKey(values.key) : ensureSigningKey(defaultKeyPath(config.dataDir));
  const target = values.system ?? values.department ?? 'all';
  const out = values.out ?? `shouwang-evidence-${target}-${stamp(selection.from)}-${stamp(selection.to)}.zip`;
  const store = await openStore(config);
  try {
    // Only `start` stores the inventory; a store that `ingest` alone filled holds none. The file is the source of truth.
    if ((await store.assets.getInventory()).systems.length === 0) await store.assets.replaceInventory(loadInventory(config.inventory.path));
    let lastStep = '';
    const summary = await exportEvidenceBundle({
      store, selection, key, out, ...await evidenceJudging(config),
      onProgress: ({ done, step }) => {
        if (step === lastStep) return;
        lastStep = step;
        io.err.write(`[${String(done).padStart(3)}%] ${step}\n`);
      },
    });
    io.out.write(`证据包 bundle: ${summary.path} (${summary.bytes} bytes, ${summary.files} files, ${summary.systems} systems)\n`
      + `状态 statuses: ${Object.entries(summary.statuses).map(([status, count]) => `${status} ${count}`).join(', ')}\n`
      + `签名公钥指纹 signing key fingerprint: ${summary.fingerprint}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * What an export is judged with, from the configuration: the silence threshold, `evidence.*`, and the
 * configured rules with the console's switches (the intrusion items). Shared by start and the CLI.
 */
export async function evidenceJudging(config: Config, live?: RuleSwitches) {
  // `start` passes the console's own switches, so a rule switched off there counts at once.
  const switches = live ?? await RuleSwitches.open(ruleSwitchesFile(config.dataDir));
  return {
    silentAfterSeconds: config.analyze.silentAfter,
    settings: { minimumWindowDays: config.evidence.minimumWindow / 86_400, realtimeRpoSeconds: config.evidence.realtimeRpo, timeZone: config.timeZone },
    intrusionRules: () => loadIntrusionRules({ rulesDir: config.analyze.rulesDir, isEnabled: switches.isEnabled }),
  };
}

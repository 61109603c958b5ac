/**
 * Shouwang's own Sigma rule pack (rules/shouwang): every rule loads and compiles, carries the
 * metadata we require and MLPS tags that resolve in the catalog, and passes the test events stored
 * next to it. Raw log lines in the test files are decoded by the collectors' own decoders, so the
 * rules are proven against the events the collectors really emit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { decodeLine, decodeRecordLine } from '../../collectors/index.js';
import { AssetIndex, inventoryFromYaml } from '../../core/index.js';
import {
  Correlator, compileCorrelation, compileRuleSet, loadMlpsCatalog, loadRuleDir,
  type CompiledCorrelation, type CompiledRuleSet, type MlpsCatalog, type RuleDocument, type RuleProblem,
} from '../../analyzers/index.js';

const PACK = 'rules/shouwang';
/** Folders of rules/ that hold data for the engine rather than rules. */
const DATA_DIRS = new Set(['mappings', 'mlps']);
const FIXTURES = 'test/fixtures/logs';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CJK = /[\u4e00-\u9fff]/;

// Syslog lines carry no year and audit logs no zone: decode as a collector in Beijing would, late in 2026.
const CONTEXT = { utcOffset: '+08:00', now: new Date('2026-11-30T00:00:00Z') };
const assets = new AssetIndex(inventoryFromYaml(readFileSync('config/inventory.demo.yaml', 'utf8'), 'inventory.demo.yaml'));

type Event = Record<string, unknown>;
/** `host`: as a file source's `host` setting gives it to records that carry none (application logs). */
interface RawLine { raw: { format: string; line: string; host?: string } }
type TestEvent = (Event | RawLine) & { repeat?: number; every?: number };
interface Sequence { name: string; events: TestEvent[]; alerts: Record<string, number> }
interface RuleTests { match?: TestEvent[]; nomatch?: TestEvent[]; sequences?: Sequence[] }

interface RuleFile {
  path: string;
  docs: RuleDocument[];
  tests: RuleTests;
}

function isRaw(event: TestEvent): event is RawLine & { repeat?: number; every?: number } {
  return typeof (event as RawLine).raw === 'object';
}

let serial = 0;
/** A test event → ECS events: raw lines through the decoders, `repeat` copies `every` seconds apart. */
function materialize(event: TestEvent, where: string): Event[] {
  const { repeat = 1, every = 1, ...rest } = event as TestEvent & Event;
  let base: Event;
  if (isRaw(event)) {
    const { format, line, host } = event.raw;
    const position = `${where}#${serial++}`;
    const decoded = format === 'syslog'
      ? decodeLine({ text: line, position }, 'rule-pack-test', assets, CONTEXT)
      : decodeRecordLine({ text: line, position }, 'rule-pack-test', assets, CONTEXT, format, host);
    if (!decoded.ok) throw new Error(`${where}: the ${format} decoder rejected "${line}": ${decoded.reason}`);
    base = decoded.event as unknown as Event;
  } else {
    base = { id: `${where}#${serial++}`, ...rest };
  }
  const start = Date.parse(String(base['@timestamp']));
  if (Number.isNaN(start)) throw new Error(`${where}: test event has no valid @timestamp`);
  return Array.from({ length: repeat }, (_, i) => ({
    ...base,
    id: `${String(base.id)}.${i}`,
    '@timestamp': new Date(start + i * every * 1000).toISOString(),
  }));
}

async function ruleFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && !/\.tests\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

let files: RuleFile[] = [];
let documents: RuleDocument[] = [];
let loadProblems: RuleProblem[] = [];
let ruleSet: CompiledRuleSet;
let correlations: CompiledCorrelation[] = [];
const correlationProblems: RuleProblem[] = [];
let catalog: MlpsCatalog;

beforeAll(async () => {
  catalog = loadMlpsCatalog();
  const loaded = await loadRuleDir(PACK);
  documents = loaded.documents;
  loadProblems = loaded.problems;
  ruleSet = compileRuleSet(documents);
  correlations = documents
    .filter((doc) => doc.kind === 'correlation')
    .map((doc) => compileCorrelation(doc, correlationProblems))
    .filter((c): c is CompiledCorrelation => c !== undefined);
  files = (await ruleFiles(PACK)).map((path) => {
    const testsPath = path.replace(/\.ya?ml$/, '.tests.yaml');
    const tests = existsSync(testsPath) ? (parseYaml(readFileSync(testsPath, 'utf8')) as RuleTests) : {};
    return { path, docs: documents.filter((doc) => relative('.', doc.position.file) === relative('.', path)), tests };
  });
});

const show = (problems: RuleProblem[]) => problems.map((p) => `${p.file}:${p.line} ${p.severity}: ${p.message}`);

describe('rule pack rules/shouwang', () => {
  it('loads and compiles every rule with no problem, and holds at least 60 rules', () => {
    expect(show(loadProblems)).toEqual([]);
    expect(show(ruleSet.problems)).toEqual([]);
    expect(show(correlationProblems)).toEqual([]);
    expect(ruleSet.rules.length).toBe(documents.filter((d) => d.kind === 'detection').length);
    expect(correlations.length).toBe(documents.filter((d) => d.kind === 'correlation').length);
    expect(documents.length).toBeGreaterThanOrEqual(60);
    expect(ruleSet.rules.length).toBeGreaterThanOrEqual(60);
  });

  it('loads every rule pack of the rules/ tree with no problem (mappings/ and mlps/ hold data, not rules)', async () => {
    const packs = (await readdir('rules', { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !DATA_DIRS.has(e.name))
      .map((e) => join('rules', e.name));
    expect(packs).toContain(PACK);
    for (const pack of packs) {
      const loaded = await loadRuleDir(pack);
      expect(show(loaded.problems), pack).toEqual([]);
      expect(show(compileRuleSet(loaded.documents).problems), pack).toEqual([]);
    }
  });

  it('gives every rule a unique UUID, zh-CN title, English description, author, date, level and false positives', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const doc of documents) {
      const where = `${basename(doc.position.file)} ${doc.title}`;
      const body = doc.body;
      if (!UUID.test(doc.id)) problems.push(`${where}: id is not a UUID`);
      if (ids.has(doc.id)) problems.push(`${where}: duplicate id`);
      ids.add(doc.id);
      if (!CJK.test(doc.title)) problems.push(`${where}: title is not zh-CN`);
      if (!/[A-Za-z]{4,}/.test(doc.description ?? '')) problems.push(`${where}: description has no English`);
      if (body.author !== 'Shouwang') problems.push(`${where}: author`);
      if (typeof body.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(body.date)) problems.push(`${where}: date`);
      if (typeof body.level !== 'string') problems.push(`${where}: level`);
      if (doc.falsepositives.length === 0) problems.push(`${where}: falsepositives`);
      if (typeof body.status !== 'string') problems.push(`${where}: status`);
    }
    expect(problems).toEqual([]);
  });

  it('tags every rule with MLPS clauses that resolve in the catalog, at every level that has them', () => {
    const problems: string[] = [];
    for (const doc of documents) {
      const where = `${basename(doc.position.file)} ${doc.title}`;
      const mlps = doc.tags.filter((tag) => tag.startsWith('mlps.'));
      if (!mlps.some((tag) => tag.startsWith('mlps.8.'))) problems.push(`${where}: no level-3 MLPS tag`);
      for (const tag of mlps) {
        if (!catalog.resolvesTag(tag)) problems.push(`${where}: ${tag} is not in the catalog`);
        // The matching clauses of the other levels are there too.
        for (const equivalent of catalog.tagsFor(tag.slice('mlps.'.length))) {
          if (!mlps.includes(equivalent)) problems.push(`${where}: ${tag} without its equivalent ${equivalent}`);
        }
      }
      for (const tag of doc.tags.filter((t) => !t.startsWith('mlps.'))) {
        if (!/^attack\.[a-z0-9_.]+$/.test(tag)) problems.push(`${where}: unexpected tag ${tag}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has a tests file next to every rule file, with positive and negative events', () => {
    expect(files.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const file of files) {
      if (!file.tests.match?.length) problems.push(`${file.path}: no match events`);
      if (!file.tests.nomatch?.length) problems.push(`${file.path}: no nomatch events`);
      const hasCorrelation = file.docs.some((d) => d.kind === 'correlation');
      if (hasCorrelation && !file.tests.sequences?.length) problems.push(`${file.path}: correlation without sequences`);
      if (file.docs.length === 0) problems.push(`${file.path}: no rule loaded from it`);
    }
    expect(problems).toEqual([]);
  });

  it('matches each match event with a rule of its file, and each nomatch event with none', () => {
    const problems: string[] = [];
    for (const file of files) {
      const ids = new Set(file.docs.filter((d) => d.kind === 'detection').map((d) => d.id));
      (file.tests.match ?? []).forEach((event, i) => {
        for (const e of materialize(event, `${file.path} match[${i}]`)) {
          if (!ruleSet.match(e).some((ref) => ids.has(ref.id))) problems.push(`${file.path} match[${i}] did not match: ${JSON.stringify(e)}`);
        }
      });
      (file.tests.nomatch ?? []).forEach((event, i) => {
        for (const e of materialize(event, `${file.path} nomatch[${i}]`)) {
          const hit = ruleSet.match(e).filter((ref) => ids.has(ref.id));
          if (hit.length) problems.push(`${file.path} nomatch[${i}] matched ${hit.map((r) => r.title).join(', ')}`);
        }
      });
    }
    expect(problems).toEqual([]);
  });

  it('exercises every detection rule with at least one of its test events', () => {
    const exercised = new Set<string>();
    for (const file of files) {
      const events = [...(file.tests.match ?? []), ...(file.tests.sequences ?? []).flatMap((s) => s.events)];
      events.forEach((event, i) => {
        for (const e of materialize({ ...event, repeat: 1 }, `${file.path} exercise[${i}]`)) {
          for (const ref of ruleSet.match(e)) exercised.add(ref.id);
        }
      });
    }
    const unexercised = ruleSet.rules.filter((r) => !exercised.has(r.ref.id)).map((r) => r.ref.title);
    expect(unexercised).toEqual([]);
  });

  it('finds the SSH brute force in a real sshd log (loghub OpenSSH_2k) and only from addresses that failed often', () => {
    const events = readFileSync(`${FIXTURES}/loghub/OpenSSH/OpenSSH_2k.log`, 'utf8').split('\n').filter(Boolean)
      .map((line, i) => materialize({ raw: { format: 'syslog', line } }, `OpenSSH_2k.log:${i + 1}`)[0]!);
    // What the decoders say, counted without the rules: failures per source address.
    const failures = new Map<string, number>();
    for (const e of events) {
      const event = e.event as { action?: string; outcome?: string };
      const ip = (e.source as { ip?: string } | undefined)?.ip;
      if (event.action === 'ssh_login' && event.outcome === 'failure' && ip) failures.set(ip, (failures.get(ip) ?? 0) + 1);
    }
    const correlator = new Correlator(correlations, { latenessMs: 0 });
    const hits = events.flatMap((e) => ruleSet.matchSignals(e).flatMap((signal) => correlator.push(signal)));
    hits.push(...correlator.flush());
    const attackers = new Set(hits.filter((h) => h.rule.name === 'shouwang_ssh_bruteforce').map((h) => h.group['source.ip']!));
    expect(attackers.has('183.62.140.253')).toBe(true);
    for (const ip of attackers) expect(failures.get(ip) ?? 0, ip).toBeGreaterThanOrEqual(10);
    // The one accepted login of the sample comes from an address that never failed.
    expect(hits.filter((h) => h.rule.name === 'shouwang_ssh_success_after_bruteforce')).toEqual([]);
  });

  it('recognizes real auth and auditd lines (Filebeat test logs)', () => {
    // Titles are "中文 / English"; compare the Chinese halves.
    const titlesOf = (format: string, line: string) =>
      ruleSet.match(materialize({ raw: { format, line } }, 'filebeat')[0]!).map((r) => r.title.split(' / ')[0]);
    const auth = readFileSync(`${FIXTURES}/elastic-beats-filebeat-tests/system-auth/test.log`, 'utf8').split('\n');
    const line = (text: string) => auth.find((l) => l.includes(text))!;
    expect(titlesOf('syslog', line('user NOT in sudoers'))).toContain('未授权用户尝试 sudo');
    expect(titlesOf('syslog', line('useradd['))).toContain('创建系统账户');
    expect(titlesOf('syslog', line('Invalid user test'))).toContain('SSH 尝试不存在的账户');
    // vagrant is not one of our administrators, and 23:35 is outside office hours.
    expect(titlesOf('syslog', line('COMMAND=/bin/ls')).sort()).toEqual(['非工作时间的提权操作', '非预期用户通过 sudo 获得 root 权限'].sort());
    const audit = readFileSync(`${FIXTURES}/elastic-beats-filebeat-tests/auditd/useradd.log`, 'utf8').split('\n');
    expect(titlesOf('auditd', audit.find((l) => l.startsWith('type=ADD_USER'))!)).toContain('审计记录：新增账户');
    // charlie's password, not root's.
    expect(titlesOf('auditd', audit.find((l) => l.startsWith('type=USER_CHAUTHTOK'))!)).not.toContain('审计记录：root 口令修改');
  });

  it('raises the expected correlation hits for each test sequence', () => {
    const problems: string[] = [];
    for (const file of files) {
      for (const sequence of file.tests.sequences ?? []) {
        const where = `${file.path} sequence "${sequence.name}"`;
        const correlator = new Correlator(correlations, { latenessMs: 0 });
        const hits = [];
        for (const [i, event] of sequence.events.entries()) {
          for (const e of materialize(event, `${where}[${i}]`)) {
            for (const signal of ruleSet.matchSignals(e)) hits.push(...correlator.push(signal));
          }
        }
        hits.push(...correlator.flush());
        for (const [name, expected] of Object.entries(sequence.alerts)) {
          if (!file.docs.some((d) => d.kind === 'correlation' && (d.name === name || d.id === name))) {
            problems.push(`${where}: ${name} is not a correlation rule of this file`);
            continue;
          }
          const got = hits.filter((hit) => hit.rule.name === name || hit.rule.id === name).length;
          if (got !== expected) problems.push(`${where}: ${name} expected ${expected} hit(s), got ${got}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

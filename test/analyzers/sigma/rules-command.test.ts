import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRulesCommand } from '../../../bin/rules-command.js';

const dir = mkdtempSync(join(tmpdir(), 'sigma-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const GOOD = `title: Root login
id: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
logsource: { product: linux, service: sshd }
level: high
detection:
  sel:
    event.action: ssh_login
    user.name: root
  condition: sel
`;

describe('shouwang rules lint', () => {
  it('prints file:line: severity: message for each problem and exits 1 on errors', async () => {
    const rules = join(dir, 'lint');
    mkdirSync(rules);
    writeFileSync(join(rules, 'good.yml'), GOOD);
    writeFileSync(join(rules, 'bad.yml'), `title: Bad modifier
id: bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
logsource: { product: linux }
level: low
detection:
  sel:
    message|sortof: x
  condition: sel
`);
    const { io, out } = capture();
    expect(await runRulesCommand(['lint', rules], io)).toBe(1);
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^${join(rules, 'bad.yml')}:7: error: .*unknown modifier "sortof"`)));
    expect(out.at(-1)).toMatch(/1\/2 .*detection rules compiled.*1 个错误 errors/);
  });

  it('reports a bad shouwang attribute, which only the analyzer log showed before, and still compiles the rule', async () => {
    const file = join(dir, 'bad-attribute.yml');
    writeFileSync(file, `${GOOD}shouwang: { suppress: later }\n`);
    const { io, out } = capture();
    expect(await runRulesCommand(['lint', file], io)).toBe(1);
    expect(out).toContainEqual(`${file}:10: error: shouwang.suppress: expected a duration such as 30m or 1h, at most a year, got "later" [aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa]`);
    expect(out.at(-1)).toMatch(/1\/1 .*detection rules compiled.*1 个错误 errors/);
  });

  it('counts a rule whose selection is malformed at parse time as not compiled, naming it', async () => {
    const file = join(dir, 'empty-selection.yml');
    writeFileSync(file, `${GOOD.replace(/ {2}sel:\n[\s\S]*? {2}condition/, '  sel: []\n  condition')}`);
    const { io, out } = capture();
    expect(await runRulesCommand(['lint', file], io)).toBe(1);
    expect(out).toContainEqual(`${file}:6: error: 搜索标识符为空列表 search identifier is an empty list [aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa]`);
    expect(out.at(-1)).toMatch(/0\/1 .*detection rules compiled.*1 个错误 errors/);
  });

  it('exits 0 when the rules are clean', async () => {
    const file = join(dir, 'clean.yml');
    writeFileSync(file, GOOD);
    const { io, out } = capture();
    expect(await runRulesCommand(['lint', file], io)).toBe(0);
    expect(out.at(-1)).toMatch(/rules OK/);
  });

  it('says how to use it when the arguments are wrong', async () => {
    const { io, err } = capture();
    expect(await runRulesCommand(['lint'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/shouwang rules lint <dir-or-file>/);
  });
});

describe('shouwang rules test', () => {
  it('shows which events match which rules, reports unreadable lines, and sums up', async () => {
    const rule = join(dir, 'root.yml');
    writeFileSync(rule, GOOD);
    const events = join(dir, 'events.ndjson');
    const sshd = (user: string, id: string) => JSON.stringify({
      id, '@timestamp': '2026-11-26T01:00:00Z', message: `Accepted password for ${user}`,
      process: { name: 'sshd' }, event: { action: 'ssh_login' }, user: { name: user },
    });
    writeFileSync(events, [sshd('root', 'e1'), sshd('ops', 'e2'), 'not json', '', sshd('ROOT', 'e3')].join('\n'));
    const { io, out, err } = capture();
    expect(await runRulesCommand(['test', rule, events], io)).toBe(0);
    expect(out).toContain(`${events}:1 id=e1 "Accepted password for root"`);
    expect(out).toContain(`${events}:5 id=e3 "Accepted password for ROOT"`);
    expect(out.filter((l) => l.includes('→ [high] Root login'))).toHaveLength(2);
    expect(out.some((l) => l.includes('id=e2'))).toBe(false);
    expect(err).toEqual([expect.stringMatching(new RegExp(`^${events}:3: .*not JSON`))]);
    expect(out).toContainEqual(expect.stringContaining('3 个事件 events, 2 个命中 matched, 1 行无法读取 unreadable lines'));
  });

  it('names a missing events file instead of crashing', async () => {
    const rule = join(dir, 'root2.yml');
    writeFileSync(rule, GOOD);
    const { io } = capture();
    await expect(runRulesCommand(['test', rule, join(dir, 'missing.ndjson')], io)).rejects.toThrow(/SW_ERR_RULE_READ|cannot read rules at .*missing\.ndjson/);
  });
});

const BASE = `title: Failed login
id: cccccccc-cccc-4ccc-8ccc-cccccccccccc
name: failed_login
logsource: { product: linux }
level: low
detection:
  sel:
    event.outcome: failure
  condition: sel
`;
const BURST = `title: Failed login burst
id: dddddddd-dddd-4ddd-8ddd-dddddddddddd
name: failed_login_burst
level: high
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 5m
  condition: { gte: 3 }
`;

describe('shouwang rules lint: correlations (issue #17)', () => {
  it('fails a correlation whose condition is not a number and warns of a reference to no loaded rule', async () => {
    const file = join(dir, 'bad-correlation.yml');
    const unknownRef = BURST.replace('dddddddd-dddd-4ddd-8ddd-dddddddddddd', 'ffffffff-dddd-4ddd-8ddd-dddddddddddd')
      .replace('name: failed_login_burst', 'name: other_burst').replace('[failed_login]', '[failed_login, nosuch_rule]');
    writeFileSync(file, `${BASE}---\n${BURST.replace('gte: 3', 'gte: many')}---\n${unknownRef}`);
    const { io, out } = capture();
    expect(await runRulesCommand(['lint', file], io)).toBe(1);
    expect(out.join('\n')).toMatch(/error: .*condition/);
    expect(out.join('\n')).toMatch(/warning: correlation\.rules: no loaded rule has the id or name nosuch_rule/);
    expect(out.at(-1)).toMatch(/1\/2 条关联已编译 correlations compiled/);
  });

  it('counts a clean correlation as compiled', async () => {
    const file = join(dir, 'good-correlation.yml');
    writeFileSync(file, `${BASE}---\n${BURST}`);
    const { io, out } = capture();
    expect(await runRulesCommand(['lint', file], io)).toBe(0);
    expect(out.at(-1)).toMatch(/1\/1 条关联已编译 correlations compiled/);
  });
});

describe('shouwang rules test: correlation hits and the time field (issue #17)', () => {
  const rules = join(dir, 'burst.yml');
  writeFileSync(rules, `${BASE}---\n${BURST}`);
  const event = (user: string, extra: Record<string, unknown>) => JSON.stringify({ event: { outcome: 'failure' }, user: { name: user }, ...extra });

  it('prints the correlation hit with its group, window and lines, reading events out of time order', async () => {
    const events = join(dir, 'burst.ndjson');
    writeFileSync(events, [
      event('bob', { '@timestamp': '2026-11-26T10:02:00Z' }), event('bob', { '@timestamp': '2026-11-26T10:00:00Z' }),
      event('bob', { '@timestamp': '2026-11-26T10:01:00Z' }), event('eve', { '@timestamp': '2026-11-26T10:01:00Z' }),
    ].join('\n'));
    const { io, out } = capture();
    expect(await runRulesCommand(['test', rules, events], io)).toBe(0);
    const hit = out.find((l) => l.includes('⇒'));
    expect(hit).toMatch(/\[high\] Failed login burst .*user\.name=bob value=3 2026-11-26T10:00:00\.000Z .* lines 2,3,1/);
    expect(out.find((l) => l.includes('汇总'))).toMatch(/1 个关联命中 correlation hits, 0 个命中事件无时间/);
  });

  it('reads the time from --time-field, and names events without a time instead of counting them at 0', async () => {
    const events = join(dir, 'timefield.ndjson');
    writeFileSync(events, [
      event('bob', { event: { outcome: 'failure', created: '2026-11-26T10:00:00Z' } }),
      event('bob', { event: { outcome: 'failure', created: '2026-11-26T10:00:30Z' } }),
      event('bob', { event: { outcome: 'failure' } }),
      event('bob', { event: { outcome: 'failure', created: 'not a date' } }),
      event('bob', { event: { outcome: 'failure', created: 1e300 } }),
    ].join('\n'));
    const { io, out, err } = capture();
    expect(await runRulesCommand(['test', rules, events, '--time-field', 'event.created'], io)).toBe(0);
    expect(out.some((l) => l.includes('⇒'))).toBe(false);
    expect(err.filter((l) => l.includes('no readable time in event.created'))).toHaveLength(3);
    expect(out.find((l) => l.includes('汇总'))).toMatch(/0 个关联命中 correlation hits, 3 个命中事件无时间/);
    // Before issue #17 the two untimed events counted at time 0 and with @timestamp absent all four did.
    const { io: io2, out: out2 } = capture();
    await runRulesCommand(['test', rules, events], io2);
    expect(out2.find((l) => l.includes('汇总'))).toMatch(/0 个关联命中 correlation hits, 5 个命中事件无时间/);
  });
});

describe('shouwang rules --placeholders (issue #17)', () => {
  it('expands %Admins% from the placeholders file, with contains|expand as SigmaHQ writes it', async () => {
    const file = join(dir, 'expand.yml');
    writeFileSync(file, `title: Admin use
id: eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee
logsource: { product: linux }
level: low
detection:
  sel:
    user.name|expand: '%Admins%'
  cmd:
    process.command_line|contains|expand: '%Tools%'
  condition: sel or cmd
`);
    const placeholders = join(dir, 'placeholders.yaml');
    writeFileSync(placeholders, 'Admins: [root, dba]\nTools: mimikatz\n');
    const events = join(dir, 'expand.ndjson');
    writeFileSync(events, [{ user: { name: 'dba' } }, { process: { command_line: 'C:\\t\\MimiKatz.exe x' } }, { user: { name: 'bob' } }].map((e) => JSON.stringify(e)).join('\n'));
    const { io, out } = capture();
    expect(await runRulesCommand(['test', file, events, '--placeholders', placeholders], io)).toBe(0);
    expect(out.join('\n')).toMatch(/2 个命中 matched/);
    // Without the file the rule cannot compile, and the error names where placeholders come from.
    const { io: io2, out: out2 } = capture();
    expect(await runRulesCommand(['lint', file], io2)).toBe(1);
    expect(out2.join('\n')).toMatch(/%Admins% has no values \(set it in the analyze\.placeholders file/);
  });

  it('refuses a placeholders file that is not a map of names to values', async () => {
    const placeholders = join(dir, 'bad-placeholders.yaml');
    writeFileSync(placeholders, '- just\n- a list\n');
    await expect(runRulesCommand(['lint', join(dir, 'clean.yml'), '--placeholders', placeholders], capture().io)).rejects.toMatchObject({ code: 'SW_ERR_RULE_PLACEHOLDERS' });
  });
});

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

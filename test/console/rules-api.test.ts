import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { RuleInputError, RuleSandbox, startAnalysis, type Analysis } from '../../analyzers/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { RuleSwitches } from '../../console/index.js';
import { login, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-rules-api-'));
const tag = randomUUID().slice(0, 6);
const ROOT_LOGIN = `root-login-${tag}`;
const ANY_FAILURE = `any-failure-${tag}`;

const rule = (id: string, title: string, level: string, selection: string, tags = '') => `title: ${title}
id: ${id}
${tags ? `tags:\n${tags}\n` : ''}logsource:
  product: console-test
detection:
  selection:
${selection}
  condition: selection
level: ${level}
`;

const ROOT_RULE = rule(ROOT_LOGIN, 'root 登录 / root login', 'high', '    user.name: root', '  - mlps.8.1.4.1.a\n  - attack.t1078');
const FAILURE_RULE = rule(ANY_FAILURE, '失败 / failure', 'low', '    event.outcome: failure');

describe('rules API', () => {
  const store = new EmbeddedStore({ path: join(dir, 'rules.db') });
  const switchFile = join(dir, 'rules-disabled.json');
  let switches: RuleSwitches;
  let analysis: Analysis;
  let app: FastifyInstance;
  let officer: Client;
  let ops: Client;
  let viewer: Client;
  let scopedOfficer: Client;

  beforeAll(async () => {
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'root.yml'), ROOT_RULE);
    writeFileSync(join(dir, 'rules', 'failure.yml'), FAILURE_RULE);
    switches = await RuleSwitches.open(switchFile);
    analysis = await startAnalysis({ rulesDir: join(dir, 'rules'), alerts: store.alerts, latenessMs: 60_000, isEnabled: switches.isEnabled });
    await seedUser(store, `officer-${tag}`, 'security_officer');
    await seedUser(store, `ops-${tag}`, 'ops');
    await seedUser(store, `viewer-${tag}`, 'department_viewer', ['d1']);
    await seedUser(store, `scoped-officer-${tag}`, 'security_officer', ['d1']);
    app = await testApp(store, { rules: { catalog: () => analysis.catalog, switches } });
    officer = await login(app, `officer-${tag}`);
    ops = await login(app, `ops-${tag}`);
    viewer = await login(app, `viewer-${tag}`);
    scopedOfficer = await login(app, `scoped-officer-${tag}`);
  });
  afterAll(async () => {
    await app.close();
    await analysis.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  /** A root login that failed: both rules match it. */
  async function raise(): Promise<string[]> {
    n += 1;
    analysis.analyze([{
      id: `${tag}-e${n}`, '@timestamp': new Date(Date.UTC(2026, 3, 1, 8, n)).toISOString(),
      user: { name: 'root' }, event: { outcome: 'failure' }, message: `attempt ${n}`,
    }]);
    await analysis.flush();
    const alerts = (await store.alerts.search({}, { size: 100 })).items;
    return alerts.filter((a) => a.sampleEventIds.includes(`${tag}-e${n}`)).map((a) => a.rule.id).sort();
  }

  it('lists the loaded rules with level, tags, MLPS clauses, kind and enabled', async () => {
    const response = await ops.get('/api/rules');
    expect(response.statusCode).toBe(200);
    const { items } = response.json();
    expect(items.find((r: { id: string }) => r.id === ROOT_LOGIN)).toMatchObject({
      id: ROOT_LOGIN, title: 'root 登录 / root login', level: 'high', kind: 'detection', tags: ['mlps.8.1.4.1.a', 'attack.t1078'],
      mlps: ['8.1.4.1 a)'], enabled: true,
    });
    expect((await ops.get('/api/rules?level=low')).json().items.map((r: { id: string }) => r.id)).toEqual([ANY_FAILURE]);
  });

  it('disabling a rule stops its alerts at once, is kept in the file and audited; enabling brings it back', async () => {
    expect(await raise()).toEqual([ANY_FAILURE, ROOT_LOGIN].sort());
    const off = await officer.send('PATCH', `/api/rules/${ROOT_LOGIN}`, { enabled: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ id: ROOT_LOGIN, enabled: false });
    expect(await raise()).toEqual([ANY_FAILURE]);
    expect(JSON.parse(readFileSync(switchFile, 'utf8'))).toEqual({ disabled: [ROOT_LOGIN] });
    expect((await RuleSwitches.open(switchFile)).isEnabled(ROOT_LOGIN)).toBe(false);
    expect((await ops.get('/api/rules?enabled=false')).json().items.map((r: { id: string }) => r.id)).toEqual([ROOT_LOGIN]);
    const audit = (await store.audit.list({}, { size: 5 })).items.find((e) => e.action === 'rule.disable');
    expect(audit).toMatchObject({ actor: `officer-${tag}`, target: ROOT_LOGIN });

    expect((await officer.send('PATCH', `/api/rules/${ROOT_LOGIN}`, { enabled: true })).json().enabled).toBe(true);
    expect(await raise()).toEqual([ANY_FAILURE, ROOT_LOGIN].sort());
  });

  it('tests a pasted rule against pasted events', async () => {
    const response = await ops.send('POST', '/api/rules/test', {
      rule: ROOT_RULE,
      events: [{ user: { name: 'root' } }, { user: { name: 'alice' } }, { user: { name: 'root' }, event: { outcome: 'success' } }],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      matched: 2,
      results: [{ index: 0, matched: [ROOT_LOGIN] }, { index: 1, matched: [] }, { index: 2, matched: [ROOT_LOGIN] }],
      rules: [{ id: ROOT_LOGIN, level: 'high', mlps: ['8.1.4.1 a)'] }],
    });
  });

  it('answers bad, oversized and forbidden requests with 4xx and a message', async () => {
    const badYaml = await ops.send('POST', '/api/rules/test', { rule: 'title: x\ndetection:\n  selection: [unclosed\n', events: [{}] });
    expect(badYaml.statusCode).toBe(400);
    expect(badYaml.json().message).toMatch(/line \d+: YAML/);
    const noCondition = await ops.send('POST', '/api/rules/test', { rule: ROOT_RULE.replace('  condition: selection\n', ''), events: [{}] });
    expect(noCondition.statusCode).toBe(400);
    expect(noCondition.json().message).toMatch(/line \d+/);
    const cases: [string, Promise<{ statusCode: number; json(): { message: string } }>, number][] = [
      ['ops may not switch rules', ops.send('PATCH', `/api/rules/${ROOT_LOGIN}`, { enabled: false }), 403],
      ['viewer may not read rules', viewer.get('/api/rules'), 403],
      ['unknown rule', officer.send('PATCH', '/api/rules/nope', { enabled: false }), 404],
      ['enabled not a boolean', officer.send('PATCH', `/api/rules/${ROOT_LOGIN}`, { enabled: 'no' }), 400],
      ['rule text too long', ops.send('POST', '/api/rules/test', { rule: 'x'.repeat(70_000), events: [{}] }), 400],
      ['too many events', ops.send('POST', '/api/rules/test', { rule: ROOT_RULE, events: Array.from({ length: 1001 }, () => ({})) }), 400],
      ['events not objects', ops.send('POST', '/api/rules/test', { rule: ROOT_RULE, events: [1, 'a'] }), 400],
      ['body over 1 MiB', ops.send('POST', '/api/rules/test', { rule: ROOT_RULE, events: [{ message: 'x'.repeat(1_100_000) }] }), 413],
      ['bad level filter', ops.get('/api/rules?level=severe'), 400],
    ];
    for (const [name, request, status] of cases) {
      const response = await request;
      expect(response.statusCode, name).toBe(status);
      expect(response.json().message, name).toMatch(/\//);
    }
  });

  it('refuses pasted regexes that can backtrack without bound, and still runs bounded ones', async () => {
    const ruleWith = (pattern: string) =>
      `title: t\nlogsource: {product: linux}\ndetection:\n  s: {message|re: '${pattern}'}\n  condition: s\n`;
    const events = [{ message: `${'a'.repeat(40)}!` }];
    for (const pattern of ['^(a+)+$', '(\\w*\\s?)*x', '((ab)*c)+', '(a{1,})+b', '(x)\\1']) {
      const response = await ops.send('POST', '/api/rules/test', { rule: ruleWith(pattern), events });
      expect(response.statusCode, pattern).toBe(400);
      expect(response.json().message, pattern).toMatch(/backtrack/);
    }
    const bounded = await ops.send('POST', '/api/rules/test', { rule: ruleWith('^(foo|a)+!$'), events });
    expect(bounded.statusCode).toBe(200);
    expect(bounded.json().matched).toBe(1);
  });

  it('only an unscoped role switches rules: a department-scoped security officer gets 403 saying why', async () => {
    const refused = await scopedOfficer.send('PATCH', `/api/rules/${ANY_FAILURE}`, { enabled: false });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'SW_ERR_FORBIDDEN', message: expect.stringMatching(/不限部门.*every department/) });
    expect(switches.isEnabled(ANY_FAILURE)).toBe(true);
    expect((await store.audit.list({}, { size: 20 })).items.filter((e) => e.target === ANY_FAILURE)).toEqual([]);
    // The scoped officer still reads and tests rules; the unscoped one switches them.
    expect((await scopedOfficer.get('/api/rules')).statusCode).toBe(200);
    const off = await officer.send('PATCH', `/api/rules/${ANY_FAILURE}`, { enabled: false });
    expect(off.statusCode).toBe(200);
    expect(switches.isEnabled(ANY_FAILURE)).toBe(false);
    expect((await officer.send('PATCH', `/api/rules/${ANY_FAILURE}`, { enabled: true })).statusCode).toBe(200);
  });

  it('a pasted event nested past the record depth limit gets 400 naming the limit, and trials still run', async () => {
    // Written as text: the body is 5000 levels deep, past what a recursive JSON.stringify in the test would survive.
    const deep = `${'{"a":'.repeat(5000)}{"message":"x"}${'}'.repeat(5000)}`;
    const response = await app.inject({
      method: 'POST', url: '/api/rules/test', remoteAddress: '127.0.0.1',
      headers: { cookie: ops.cookie, 'x-csrf-token': ops.csrf, 'content-type': 'application/json' },
      payload: `{"rule":${JSON.stringify(ROOT_RULE)},"events":[{"user":{"name":"root"}},${deep}]}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'SW_ERR_REQUEST_INVALID', message: expect.stringMatching(/events\[1\].*nested more than 32 levels/) });
    const next = await ops.send('POST', '/api/rules/test', { rule: ROOT_RULE, events: [{ user: { name: 'root' } }] });
    expect(next.statusCode).toBe(200);
    expect(next.json().matched).toBe(1);
  });

  it('events the sandbox cannot copy to its worker are refused as input, and the healthy worker is kept', async () => {
    const sandbox = new RuleSandbox();
    try {
      expect((await sandbox.run(ROOT_RULE, [{ user: { name: 'root' } }])).ok).toBe(true);
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < 20_000; i += 1) deep = { a: deep };
      await expect(sandbox.run(ROOT_RULE, [deep])).rejects.toBeInstanceOf(RuleInputError);
      expect((await sandbox.run(ROOT_RULE, [{ user: { name: 'root' } }])).ok).toBe(true);
      expect(sandbox.workersStarted).toBe(1);
    } finally {
      await sandbox.close();
    }
  });

  it('a pasted rule with an overlapping repeated alternation is refused before it runs, naming why', async () => {
    const rule = `title: t\nlogsource: {product: linux}\ndetection:\n  s: {message|re: '^(a|a)*$'}\n  condition: s\n`;
    const response = await ops.send('POST', '/api/rules/test', { rule, events: [{ message: `${'a'.repeat(26)}b` }] });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/backtrack.*overlap/);
  });

  it('a pasted rule that runs too long is stopped at its budget (422) while /healthz answers first', async () => {
    // Seven \d* in a row: not refused by the static check, polynomial (n^7) on 60 digits (seconds to minutes) and a miss.
    const slow = `title: slow\nlogsource: {product: linux}\ndetection:\n  s: {message|re: '^\\d*\\d*\\d*\\d*\\d*\\d*\\d*!$'}\n  condition: s\n`;
    const budgeted = await testApp(store, { rules: { catalog: () => analysis.catalog, switches, budget: { timeMs: 1000 } } });
    try {
      await budgeted.listen({ port: 0, host: '127.0.0.1' });
      const address = budgeted.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const client = await login(budgeted, `ops-${tag}`);
      const order: string[] = [];
      const trial = fetch(`${base}/api/rules/test`, {
        method: 'POST',
        headers: { cookie: client.cookie, 'x-csrf-token': client.csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ rule: slow, events: [{ message: `${'1'.repeat(60)}x` }] }),
      }).then(async (r) => { order.push('rules'); return { status: r.status, body: await r.json() as { code: string; message: string } }; });
      // Sent once the trial is on its way: the server is busy with it (or would be, on its own thread).
      await new Promise((resolve) => setImmediate(resolve));
      const health = fetch(`${base}/healthz`).then((r) => { order.push('healthz'); return r.status; });
      expect(await health).toBe(200);
      const result = await trial;
      expect(order).toEqual(['healthz', 'rules']);
      expect(result.status).toBe(422);
      expect(result.body).toMatchObject({ code: 'SW_ERR_RULE_BUDGET', message: expect.stringMatching(/time budget \(1000 ms\)/) });
      // The worker was replaced: the next trial runs.
      const next = await client.send('POST', '/api/rules/test', { rule: ROOT_RULE, events: [{ user: { name: 'root' } }] });
      expect(next.statusCode).toBe(200);
      expect(next.json().matched).toBe(1);
    } finally {
      await budgeted.close();
    }
  });

  it('hostile pasted rules (truncated, random bytes, deep nesting, huge values) get 200 or 4xx, never 5xx', async () => {
    let seed = 16;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const texts = [
      `title: t\nlogsource: {product: linux}\ndetection:\n  s: {message|re: '${'('.repeat(3000)}a${')'.repeat(3000)}'}\n  condition: s\n`,
      `title: t\nlogsource: {product: linux}\ndetection:\n  s: {message|re: '${'[a-'.repeat(2000)}'}\n  condition: s\n`,
      `title: t\nlogsource: {product: linux}\ndetection:\n  s: ${'['.repeat(5000)}${']'.repeat(5000)}\n  condition: s\n`,
      `title: t\nlogsource: {product: linux}\ndetection:\n  s: {message|contains: '${'x'.repeat(60_000)}'}\n  condition: s\n`,
    ];
    for (let n = 0; n < 24; n += 1) {
      const cut = ROOT_RULE.slice(0, next() % ROOT_RULE.length);
      const noise = Array.from({ length: next() % 40 }, () => String.fromCharCode(next() % 0x3000)).join('');
      const at = next() % ROOT_RULE.length;
      texts.push(n % 2 ? cut || 'x' : ROOT_RULE.slice(0, at) + noise + ROOT_RULE.slice(at));
    }
    for (const [i, rule] of texts.entries()) {
      const response = await ops.send('POST', '/api/rules/test', { rule, events: [{ user: { name: 'root' }, message: 'a'.repeat(1000) }] });
      expect(response.statusCode, `case ${i}`).toBeLessThan(500);
      if (response.statusCode !== 200) expect(response.json().message, `case ${i}`).toMatch(/\//);
    }
  });
});

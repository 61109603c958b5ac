import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canConnect } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';

// The built command line, as `npm start` and users run it (npm test builds it first).
const CLI = 'dist/bin/shouwang.js';
const dir = mkdtempSync(join(tmpdir(), 'shouwang-cli-'));
const env = (extra: Record<string, string> = {}) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHOUWANG_')));
  return { ...clean, SHOUWANG_DATA_DIR: dir, SHOUWANG_LOG_LEVEL: 'warn', ...extra };
};
const run = (args: string[], extra: Record<string, string> = {}) =>
  spawnSync('node', [CLI, ...args], { env: env(extra), encoding: 'utf8', timeout: 60_000 });

describe('shouwang command line', () => {
  it('prints help for the tool and for each command', () => {
    const top = run(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/start[\s\S]*ingest[\s\S]*inventory/);
    for (const command of ['start', 'ingest', 'inventory']) {
      const result = run([command, '--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`shouwang ${command}`);
    }
    expect(run(['frobnicate']).status).toBe(2);
  });

  it('checks an inventory file and names the line and field of each problem', () => {
    const ok = run(['inventory', 'check', 'config/inventory.demo.yaml']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/部门 departments: 20[\s\S]*系统 systems: +40/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'departments:\n  - { id: gaj, name: 市公安局 }\nsystems:\n  - id: gaj-x\n    name: x\n    department: gaj\n    mlpsLevel: 7\n    zone: 专网\n    owner: { name: 王工 }\n');
    const result = run(['inventory', 'check', bad]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SW_ERR_INVENTORY_INVALID[\s\S]*line 7: systems\[0\]\.mlpsLevel, got 7/);
  });

  it('refuses to start on an invalid config, naming the field, the variable and the value', () => {
    const result = run(['start'], { SHOUWANG_HTTP_PORT: 'abc' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SW_ERR_CONFIG_INVALID[\s\S]*http\.port \(SHOUWANG_HTTP_PORT\): .*, got "abc"/);
    const file = join(dir, 'bad-config.yaml');
    writeFileSync(file, 'retention:\n  days: -3\n');
    const fromFile = run(['start', '--config', file]);
    expect(fromFile.status).toBe(1);
    expect(fromFile.stderr).toMatch(/bad-config\.yaml[\s\S]*retention\.days: .*, got -3/);
  });

  it('ingests a log file once and reports duplicates on the second run', () => {
    const args = ['ingest', '../shared/fixtures/logs/elastic-beats-filebeat-tests/system-auth/test.log', '--source', 'system-auth'];
    const extra = { SHOUWANG_EMBEDDED_PATH: join(dir, 'ingest.db') };
    expect(run(args, extra).stdout).toMatch(/read 10 行 lines: 写入 written 10, 重复 duplicates 0, 死信 dead letters 0/);
    expect(run(args, extra).stdout).toMatch(/written 0, 重复 duplicates 10/);
  });
});

describe('shouwang start', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('serves /healthz and /metrics, replays the demo logs, and stops everything on Ctrl-C', async () => {
    const dbPath = join(dir, 'start.db');
    child = spawn('node', [CLI, 'start'], { env: env({ SHOUWANG_HTTP_PORT: '0', SHOUWANG_EMBEDDED_PATH: dbPath }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/Ctrl-C/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /控制台 console: +(http:\/\/\S+)/.exec(stdout)?.[1];
    const redisPort = Number(/Redis: +redis:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    expect(url, stdout).toBeDefined();

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', components: { store: { ok: true }, redis: { ok: true } } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^shouwang_ingest_lines_total\{source="demo",outcome="written"\} \d{4}/m);
    expect(metrics).toMatch(/^shouwang_inventory_systems 40/m);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('已停止 / stopped');
    expect(await canConnect(redisPort)).toBe(false);
    const store = new EmbeddedStore({ path: dbPath });
    const range = await store.events.range();
    await store.close();
    expect(range.count).toBeGreaterThan(1000);
  });
});

import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { canConnect, loadInventory, type Inventory } from '../../core/index.js';
import { ElasticsearchStore, EmbeddedStore } from '../../store/index.js';
import { runCli, spawnCli, type CliProcess } from '../harness/built.js';
import { eventually } from '../support/eventually.js';

// The built command line, as `npm start` and users run it.
const dir = mkdtempSync(join(tmpdir(), 'shouwang-cli-'));
const env = (extra: Record<string, string> = {}) => ({ SHOUWANG_DATA_DIR: dir, SHOUWANG_LOG_LEVEL: 'warn', ...extra });
const run = (args: string[], extra: Record<string, string> = {}) => runCli(args, env(extra));

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
    const args = ['ingest', 'test/fixtures/logs/elastic-beats-filebeat-tests/system-auth/test.log', '--source', 'system-auth'];
    const extra = { SHOUWANG_EMBEDDED_PATH: join(dir, 'ingest.db') };
    expect(run(args, extra).stdout).toMatch(/read 10 行 lines: 写入 written 10, 重复 duplicates 0, 死信 dead letters 0/);
    expect(run(args, extra).stdout).toMatch(/written 0, 重复 duplicates 10/);
  });
});

/** Runs a long-lived command until it says Ctrl-C stops it; `stop` sends Ctrl-C and waits for the exit. */
async function spawnUntilReady(command: string, extra: Record<string, string>) {
  const cli = spawnCli([command], env(extra));
  children.push(cli);
  await eventually(() => expect(cli.child.exitCode === null ? cli.output() : `exited: ${cli.output()}`).toMatch(/Ctrl-C/), { timeout: 60_000 });
  const stop = async () => {
    cli.child.kill('SIGINT');
    const code = await cli.exited;
    return { code, output: cli.output() };
  };
  return { output: cli.output(), current: cli.output, stop };
}

/** `shouwang start`, with the console and Redis addresses it prints. */
const SCRAPE_TOKEN = 'cli-test-scrape-token-0123456789';
const SCRAPE = { authorization: `Bearer ${SCRAPE_TOKEN}` };

async function startShouwang(extra: Record<string, string>) {
  const { output, current, stop } = await spawnUntilReady('start', { SHOUWANG_HTTP_PORT: '0', ...extra });
  const url = /控制台 console: +(http:\/\/\S+)/.exec(output)?.[1];
  const redisPort = Number(/Redis: +redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  expect(url, output).toBeDefined();
  return { url: url!, redisPort, output, current, stop };
}

const children: CliProcess[] = [];

describe('shouwang start', () => {
  afterAll(() => {
    for (const { child } of children) child.kill('SIGKILL');
  });

  it('serves /healthz and /metrics, replays the demo logs, and stops everything on Ctrl-C', async () => {
    const dbPath = join(dir, 'start.db');
    const { url, redisPort, stop } = await startShouwang({ SHOUWANG_EMBEDDED_PATH: dbPath, SHOUWANG_HTTP_METRICS_TOKEN: SCRAPE_TOKEN });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    // Anonymous: up or down per component, no database path or Redis address; the scrape token sees the detail.
    expect(await health.json()).toEqual({ status: 'ok', components: { store: { ok: true }, redis: { ok: true } } });
    const detailed = await fetch(`${url}/healthz`, { headers: SCRAPE });
    expect(await detailed.json()).toMatchObject({ status: 'ok', components: { store: { ok: true, detail: expect.stringMatching(/^sqlite/) }, redis: { ok: true } } });
    const metrics = await (await fetch(`${url}/metrics`, { headers: SCRAPE })).text();
    expect(metrics).toMatch(/^shouwang_ingest_lines_total\{source="demo",outcome="written"\} \d{4}/m);
    expect(metrics).toMatch(/^shouwang_inventory_systems 40/m);

    const { code, output } = await stop();
    expect(code).toBe(0);
    expect(output).toContain('已停止 / stopped');
    expect(await canConnect(redisPort)).toBe(false);
    const store = new EmbeddedStore({ path: dbPath });
    const range = await store.events.range();
    await store.close();
    expect(range.count).toBeGreaterThan(1000);
  });

  it('collects syslog over TCP into the store with `shouwang collect`, and says when no source is set', async () => {
    expect(run(['collect']).stderr).toMatch(/no source configured/);
    const dbPath = join(dir, 'collect.db');
    const { output, stop } = await spawnUntilReady('collect', { SHOUWANG_EMBEDDED_PATH: dbPath, SHOUWANG_COLLECT_SYSLOG_TCP_PORT: '0' });
    const port = Number(/tcp (\d+)/.exec(output)?.[1]);
    expect(port, output).toBeGreaterThan(0);
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    await new Promise<void>((resolve) => socket.end('<38>Nov 20 10:00:01 gaj-jwzh-app01 sudo: ops : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls\n<38>Nov 20 10:00:02 gaj-jwzh-app01 sshd[1]: Accepted publickey for ops from 10.0.0.1 port 22 ssh2\n', () => resolve()));
    await new Promise((resolve) => socket.once('close', resolve));
    expect((await stop()).code).toBe(0); // what was received is delivered before exit
    const store = new EmbeddedStore({ path: dbPath });
    const page = await store.events.search({ filters: { 'shouwang.system': 'gaj-jwzh' } });
    await store.close();
    expect(page.total).toBe(2);
  });

  it('maps a host added to the inventory file while `shouwang collect` runs, without a restart', async () => {
    const inventoryPath = join(dir, 'inventory-collect.yaml');
    copyFileSync('config/inventory.demo.yaml', inventoryPath);
    const dbPath = join(dir, 'collect-reload.db');
    const child = await spawnUntilReady('collect', {
      SHOUWANG_EMBEDDED_PATH: dbPath, SHOUWANG_COLLECT_SYSLOG_TCP_PORT: '0', SHOUWANG_INVENTORY_PATH: inventoryPath, SHOUWANG_LOG_LEVEL: 'info',
    });
    const port = Number(/tcp (\d+)/.exec(child.output)?.[1]);
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('<38>Nov 20 10:00:01 new-host-01 sshd[1]: Accepted publickey for ops from 10.0.0.1 port 22 ssh2\n');

    const department = loadInventory(inventoryPath).departments[0]!.id;
    writeFileSync(inventoryPath, `${readFileSync(inventoryPath, 'utf8')}\n${[
      '  - id: new-sys', '    name: 新增系统', `    department: ${department}`, '    mlpsLevel: 2', '    zone: 政务外网',
      '    owner: { name: 运维 }', '    hosts: [new-host-01]',
    ].join('\n')}\n`);
    await expect.poll(() => child.current()).toMatch(/inventory reloaded/);
    await new Promise<void>((resolve) => socket.end('<38>Nov 20 10:00:02 new-host-01 sshd[1]: Accepted publickey for ops from 10.0.0.1 port 22 ssh2\n', () => resolve()));
    await new Promise((resolve) => socket.once('close', resolve));
    expect((await child.stop()).code).toBe(0);

    const store = new EmbeddedStore({ path: dbPath });
    const events = (await store.events.search({}, { order: 'asc' })).items;
    await store.close();
    expect(events.map((e) => [e.shouwang?.system ?? null, e.shouwang?.unknown_asset ?? false])).toEqual([[null, true], ['new-sys', false]]);
  });

  it('saves an inventory edited in the console to its file, and applies the file when it is edited by hand', async () => {
    const inventoryPath = join(dir, 'inventory-start.yaml');
    copyFileSync('config/inventory.demo.yaml', inventoryPath);
    const original = readFileSync(inventoryPath, 'utf8');
    const { url, output, current, stop } = await startShouwang({
      SHOUWANG_EMBEDDED_PATH: join(dir, 'inventory.db'), SHOUWANG_INVENTORY_PATH: inventoryPath,
    });
    const systemsGauge = async () => Number(/^shouwang_inventory_systems (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    const password = /password: (\S+)/.exec(output)?.[1];
    const login = await fetch(`${url}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    const headers = { cookie: login.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': ((await login.json()) as { csrfToken: string }).csrfToken };
    const inventory = await (await fetch(`${url}/api/inventory`, { headers })).json() as Inventory;
    const added = { ...inventory.systems[0]!, id: 'new-sys', name: '新增系统', hosts: ['new-sys-app01'], ips: [] };
    const put = await fetch(`${url}/api/inventory`, {
      method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ ...inventory, systems: [...inventory.systems, added] }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(loadInventory(inventoryPath).systems.map((s) => s.id)).toContain('new-sys');
    expect(readFileSync(`${inventoryPath}.previous`, 'utf8')).toBe(original);
    expect(await systemsGauge()).toBe(41);

    // An ops engineer puts the old file back: it applies without a restart; a broken edit is refused and logged.
    writeFileSync(inventoryPath, original);
    await expect.poll(systemsGauge).toBe(40);
    writeFileSync(inventoryPath, `${original}\n  - id: broken\n`);
    await eventually(() => expect(current()).toMatch(/资产清单未重新加载，沿用原清单 \/ inventory not reloaded/));
    expect(await systemsGauge()).toBe(40);
    const { code, output: all } = await stop();
    expect(code).toBe(0);
    expect(all).toMatch(/资产清单未重新加载，沿用原清单 \/ inventory not reloaded/);
  });

  it('uses Elasticsearch when SHOUWANG_ELASTICSEARCH_URL is set', async () => {
    const indexPrefix = `test-${randomUUID().slice(0, 8)}`;
    const esUrl = inject('elasticsearchUrl');
    const { url, stop } = await startShouwang({
      SHOUWANG_ELASTICSEARCH_URL: esUrl, SHOUWANG_ELASTICSEARCH_INDEX_PREFIX: indexPrefix, SHOUWANG_HTTP_METRICS_TOKEN: SCRAPE_TOKEN,
    });
    expect(await (await fetch(`${url}/healthz`, { headers: SCRAPE })).json()).toMatchObject({ components: { store: { ok: true, detail: expect.stringMatching(/^elasticsearch/) } } });
    expect((await stop()).code).toBe(0);
    const store = await ElasticsearchStore.open({ url: esUrl, indexPrefix });
    try {
      await store.client.indices.refresh({ index: `${indexPrefix}-*` });
      expect((await store.events.range()).count).toBeGreaterThan(1000);
      expect((await store.assets.getInventory()).systems).toHaveLength(40);
    } finally {
      await store.client.indices.delete({ index: `${indexPrefix}-*` });
      await store.client.indices.deleteIndexTemplate({ name: `${indexPrefix}-events` });
      await store.close();
    }
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '../../core/index.js';
import { errorOf } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


describe('config', () => {
  it('fills every default when there is no file and no variable', () => {
    const loaded = loadConfig({ env: {}, file: file('empty.yaml', '') });
    expect(loaded.file).toMatch(/empty\.yaml$/);
    const { config } = loaded;
    expect(config).toMatchObject({
      dataDir: './data', store: 'embedded', http: { host: '127.0.0.1', port: 8080 }, retention: { days: 180 }, demo: { replay: true },
    });
  });

  it('reads a YAML file and lets SHOUWANG_* variables override it, converting numbers and booleans', () => {
    const path = file('ok.yaml', 'http:\n  port: 9000\n  host: 0.0.0.0\nretention:\n  days: 365\n');
    const { config } = loadConfig({
      file: path,
      env: { SHOUWANG_HTTP_PORT: '9100', SHOUWANG_DEMO_REPLAY: 'false', SHOUWANG_REDIS_URL: 'redis://10.0.0.5:6379' },
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(config.retention.days).toBe(365);
    expect(config.demo.replay).toBe(false);
    expect(config.redis.url).toBe('redis://10.0.0.5:6379');
  });

  it('picks Elasticsearch as the store when its URL is set, unless the store is named', () => {
    const es = { SHOUWANG_ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };
    expect(loadConfig({ env: es, file: file('es.yaml', '') }).config.store).toBe('elasticsearch');
    expect(loadConfig({ env: { ...es, SHOUWANG_STORE: 'embedded' }, file: file('es2.yaml', '') }).config.store).toBe('embedded');
  });

  it('takes the Elasticsearch cluster as a node list (a YAML list, or comma-separated in the variable), sniffing off by default', () => {
    const nodes = ['http://es1:9200', 'http://es2:9200', 'http://es3:9200'];
    const fromEnv = loadConfig({ env: { SHOUWANG_ELASTICSEARCH_NODES: nodes.join(', ') }, file: file('nodes.yaml', '') }).config;
    expect(fromEnv).toMatchObject({ store: 'elasticsearch', elasticsearch: { nodes, sniff: false, shards: 1 } });
    expect(fromEnv.elasticsearch.replicas).toBeUndefined(); // auto: none on one node, one from two
    const fromFile = loadConfig({ env: {}, file: file('nodes2.yaml', `elasticsearch:\n  nodes: [${nodes.join(', ')}]\n  sniff: true\n  replicas: 1\n`) }).config;
    expect(fromFile.elasticsearch).toMatchObject({ nodes, sniff: true, replicas: 1 });
    const error = errorOf(() => loadConfig({ env: { SHOUWANG_ELASTICSEARCH_NODES: 'http://es1:9200,not a url' }, file: file('nodes3.yaml', '') }));
    expect(error.message).toMatch(/elasticsearch\.nodes\[1\]: Invalid URL, got "not a url"/);
    expect(errorOf(() => loadConfig({ env: {}, file: file('nodes4.yaml', 'elasticsearch:\n  nodes: []\n') })).message).toMatch(/elasticsearch\.nodes/);
    expect(errorOf(() => loadConfig({ env: { SHOUWANG_ELASTICSEARCH_REPLICAS: '-1' }, file: file('nodes5.yaml', '') })).message).toMatch(/elasticsearch\.replicas/);
  });

  it('derives one variable per setting from the schema', () => {
    expect([...ENV_VARIABLES.keys()]).toEqual(expect.arrayContaining([
      'SHOUWANG_HTTP_PORT', 'SHOUWANG_HTTP_METRICS_TOKEN', 'SHOUWANG_REDIS_URL', 'SHOUWANG_ELASTICSEARCH_URL', 'SHOUWANG_STORE', 'SHOUWANG_DATA_DIR',
    ]));
  });

  it('names the field, the value and what was expected for a bad value in the file', () => {
    const error = errorOf(() => loadConfig({ env: {}, file: file('bad.yaml', 'http:\n  port: 70000\nstore: mongodb\n') }));
    expect(error.code).toBe('SW_ERR_CONFIG_INVALID');
    expect(error.message).toContain('bad.yaml');
    expect(error.message).toMatch(/http\.port: .*65535.*, got 70000/);
    expect(error.message).toMatch(/store: .*"embedded".*"elasticsearch".*, got "mongodb"/);
  });

  it('names the variable when the bad value came from the environment', () => {
    const error = errorOf(() => loadConfig({ env: { SHOUWANG_HTTP_PORT: 'eighty' }, file: file('e.yaml', '') }));
    expect(error.message).toMatch(/http\.port \(SHOUWANG_HTTP_PORT\): .*number.*, got "eighty"/);
  });

  it('takes one IANA time zone, Asia/Shanghai by default, and refuses one Node does not know, naming the field', () => {
    expect(loadConfig({ env: {}, file: file('tz-default.yaml', '') }).config.timeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ env: { SHOUWANG_TIME_ZONE: 'Europe/Berlin' }, file: file('tz-env.yaml', '') }).config.timeZone).toBe('Europe/Berlin');
    const error = errorOf(() => loadConfig({ env: {}, file: file('tz-bad.yaml', 'timeZone: Asia/Shanghia\n') }));
    expect(error.code).toBe('SW_ERR_CONFIG_INVALID');
    expect(error.message).toMatch(/timeZone: .*IANA time zone.*, got "Asia\/Shanghia"/);
    const fromEnv = errorOf(() => loadConfig({ env: { SHOUWANG_TIME_ZONE: 'Mars/Olympus' }, file: file('tz-bad-env.yaml', '') }));
    expect(fromEnv.message).toMatch(/timeZone \(SHOUWANG_TIME_ZONE\): .*, got "Mars\/Olympus"/);
    const backup = errorOf(() => loadConfig({ env: {}, file: file('tz-bad-backup.yaml', 'backup:\n  timezone: "+99"\n') }));
    expect(backup.message).toMatch(/backup\.timezone: .*IANA time zone/);
  });

  it('rejects unknown settings, so a typo does not pass silently', () => {
    const error = errorOf(() => loadConfig({ env: {}, file: file('typo.yaml', 'htpp:\n  port: 1\n') }));
    expect(error.message).toMatch(/htpp/);
  });

  it('reports a file that cannot be read or is not YAML', () => {
    expect(errorOf(() => loadConfig({ env: {}, file: join(dir, 'missing.yaml') })).code).toBe('SW_ERR_CONFIG_READ');
    expect(errorOf(() => loadConfig({ env: {}, file: file('broken.yaml', 'http: [port: 1\n') })).message).toMatch(/YAML/);
    expect(errorOf(() => loadConfig({ env: {}, file: file('list.yaml', '- 1\n- 2\n') })).message).toMatch(/expected a mapping/);
  });
});

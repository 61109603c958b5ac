import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, ENV_VARIABLES, describeRedis, loadConfig, parseSentinelHost, redisOptions, redisTarget, seededRandom } from '../../core/index.js';
import { errorOf } from '../support/errors.js';

// redis.url / redis.sentinels → the one RedisTarget every connection is built from; passwords only from the environment.

const dir = mkdtempSync(join(tmpdir(), 'shouwang-redis-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SENTINELS = `
redis:
  sentinels:
    hosts: [10.0.0.5:26379, 10.0.0.6, '[fd00::7]:26380']
    name: shouwang-main
    passwordEnv: SW_SENTINEL_PASSWORD
    masterPasswordEnv: SW_REDIS_PASSWORD
`;

describe('redis.sentinels', () => {
  it('becomes ioredis Sentinel options with the passwords read from the variables the settings name', () => {
    const { config } = loadConfig({ env: {}, file: file('sentinels.yaml', SENTINELS) });
    const target = redisTarget(config.redis, { SW_SENTINEL_PASSWORD: 's3ntinel-secret', SW_REDIS_PASSWORD: 'master-secret' });
    expect(target).toEqual({
      sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26379 }, { host: 'fd00::7', port: 26380 }],
      name: 'shouwang-main', sentinelPassword: 's3ntinel-secret', password: 'master-secret',
    });
    expect(redisOptions(target!, { maxRetriesPerRequest: null })).toMatchObject({
      sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26379 }, { host: 'fd00::7', port: 26380 }],
      name: 'shouwang-main', sentinelPassword: 's3ntinel-secret', password: 'master-secret', maxRetriesPerRequest: null,
    });
    // The banner and logs say where Redis is, never a password.
    const shown = describeRedis(target!);
    expect(shown).toBe('sentinel shouwang-main @ 10.0.0.5:26379,10.0.0.6:26379,[fd00::7]:26380');
    expect(describeRedis('redis://worker:p%40ss@10.0.0.5:6379/2')).not.toMatch(/p%40ss|p@ss|worker/);
  });

  it('names the variable, not its value, when the variable is missing', () => {
    const { config } = loadConfig({ env: {}, file: file('sentinels-env.yaml', SENTINELS) });
    const error = errorOf(() => redisTarget(config.redis, { SW_SENTINEL_PASSWORD: 'only-this-one' }));
    expect(error.message).toMatch(/redis\.sentinels\.masterPasswordEnv.*SW_REDIS_PASSWORD/);
    expect(error.message).not.toContain('only-this-one');
  });

  it('can be set from the environment: hosts comma-separated', () => {
    const { config } = loadConfig({
      env: { SHOUWANG_REDIS_SENTINELS_HOSTS: '10.0.0.5:26379, 10.0.0.6:26379', SHOUWANG_REDIS_SENTINELS_NAME: 'mymaster' },
      file: file('empty.yaml', ''),
    });
    expect(redisTarget(config.redis, {})).toEqual({ sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26379 }], name: 'mymaster' });
    expect(ENV_VARIABLES.has('SHOUWANG_REDIS_SENTINELS_PASSWORD_ENV')).toBe(true);
    expect(redisTarget(loadConfig({ env: {}, file: file('none.yaml', '') }).config.redis)).toBeUndefined();
  });

  it('refuses bad input and names the field', () => {
    const bad: [string, RegExp][] = [
      ['redis: {url: "redis://r:6379", sentinels: {hosts: [a:1], name: m}}', /redis\.sentinels.*not both/],
      ['redis: {sentinels: {hosts: [], name: m}}', /redis\.sentinels\.hosts/],
      ['redis: {sentinels: {hosts: ["10.0.0.5:99999"], name: m}}', /redis\.sentinels\.hosts\[0\]/],
      ['redis: {sentinels: {hosts: ["a:1", "http://b:2"], name: m}}', /redis\.sentinels\.hosts\[1\]/],
      ['redis: {sentinels: {hosts: ["a:1"]}}', /redis\.sentinels\.name/],
      ['redis: {sentinels: {hosts: ["a:1"], name: "m m"}}', /redis\.sentinels\.name/],
      // A password pasted where the variable's name belongs is refused, and not echoed as a name would be.
      ['redis: {sentinels: {hosts: ["a:1"], name: m, passwordEnv: "p@ss w0rd!"}}', /redis\.sentinels\.passwordEnv/],
      ['redis: {sentinels: {hosts: ["a:1"], name: m, password: x}}', /redis\.sentinels/],
      ['redis: {url: "redis://h:6379/abc"}', /redis\.url/],
      ['redis: {url: "redis://h:99999"}', /redis\.url/],
    ];
    for (const [text, field] of bad) {
      const error = errorOf(() => loadConfig({ env: {}, file: file('bad.yaml', text) }));
      expect(error.message, text).toMatch(field);
      expect(error.message).not.toContain('p@ss w0rd!');
    }
  });

  it('never prints a secret written in the wrong place: password for passwordEnv, a URL typo, a key beside url', () => {
    const cases = [
      'redis: {sentinels: {hosts: ["a:1"], name: m, password: hunter2-SECRET}}',
      'redis: {url: "redis//:hunter2-SECRET@host"}',
      'redis: {url: "redis://:hunter2-SECRET@h", sentinel: {}}',
      'redis: {url: "redis://user:hunter2-SECRET@h:99999"}',
    ];
    for (const text of cases) {
      const error = errorOf(() => loadConfig({ env: {}, file: file('secret.yaml', text) }));
      expect(error.message, text).toMatch(/redis/);
      expect(error.message, text).not.toContain('hunter2');
    }
  });

  it('never throws on random host text: each is a host:port or refused', () => {
    const random = seededRandom(19);
    for (let i = 0; i < 2000; i += 1) {
      const alphabet = i % 2 ? 'abc019:.[]-_ /@' : '';
      const text = Array.from({ length: 1 + Math.floor(random() * 40) }, () =>
        (alphabet ? alphabet[Math.floor(random() * alphabet.length)]! : String.fromCharCode(Math.floor(random() * 0x3000)))).join('');
      const parsed = parseSentinelHost(text);
      if (parsed) {
        expect(parsed.port).toBeGreaterThanOrEqual(1);
        expect(parsed.port).toBeLessThanOrEqual(65535);
      }
      expect(ConfigSchema.safeParse({ redis: { sentinels: { hosts: [text], name: 'm' } } }).success).toBe(parsed !== undefined);
    }
  });
});

// A failed job's reason is kept in its result: connection strings it quotes lose their secrets.
import { describe, expect, it } from 'vitest';
import { withoutSecrets } from '../../backup/jobs/without-secrets.js';

describe('withoutSecrets', () => {
  it.each([
    ['connect ECONNREFUSED sftp://backup:hunter2@192.0.2.7:22/sets', 'sftp://backup:***@192.0.2.7:22/sets'],
    ['psql: postgres://drill:p%40ss@db:5432/postgres failed', 'postgres://drill:***@db:5432/postgres failed'],
    ['redis://:only-password@10.0.0.1:6379/0 down', 'redis://:***@10.0.0.1:6379/0 down'],
    ['https://s3.example/b?X-Amz-Signature=abc&token=t0k3n', 'token=***'],
    ['PGPASSWORD=s3cret pg_restore', 'PGPASSWORD=***'],
    ['{"password": "s3cret", "user": "u"}', '"password": "***"'],
    ['secret_key: AKIA/abc+def', 'secret_key: ***'],
  ])('masks %s', (message, kept) => {
    const masked = withoutSecrets(message);
    expect(masked).toContain(kept);
    expect(masked).not.toMatch(/hunter2|p%40ss|only-password|t0k3n|s3cret|AKIA/);
  });

  it('keeps a message without secrets as it is', () => {
    const plain = '路径不存在 / no such path: /srv/backup/gov-portal (sftp://backup@192.0.2.7:22)';
    expect(withoutSecrets(plain)).toBe(plain);
  });

  it('bounds a huge or hostile message, in linear time', () => {
    for (const hostile of ['x'.repeat(1_000_000), 'a-'.repeat(500_000), '//a:'.repeat(250_000), 'password='.repeat(100_000), 'pass: '.repeat(150_000), `//${':'.repeat(500_000)}`]) {
      const masked = withoutSecrets(hostile);
      expect(masked.length).toBeLessThanOrEqual(1001);
    }
  });
});

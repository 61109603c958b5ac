import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ensureExecutable, versionedDirs } from '../../core/index.js';
import { startPostgres, type PostgresHandle } from './postgres.js';
import { lookupUser } from './users.js';

const run = promisify(execFile);

/** pgBackRest from the Debian package `pgbackrest`, installed when missing (root with apt-get), like the other services. */
export async function ensurePgbackrest(): Promise<string> {
  return ensureExecutable({ command: 'pgbackrest', debianPackage: 'pgbackrest' });
}

export interface PgbackrestCluster {
  pg: PostgresHandle;
  stanza: string;
  /** repo1-path. */
  repo: string;
  configFile: string;
  /** Runs pgbackrest with the cluster's config, as the server's user. */
  pgbackrest(args: string[]): Promise<string>;
  /** Runs SQL in the `postgres` database; rows as psql prints them unaligned. */
  sql(query: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL archiving its WAL into a pgBackRest repository in a temp dir, stanza created.
 * As root everything pgBackRest writes belongs to `postgres`, as on a real host (archive-push runs as the server).
 */
export async function startPgbackrestCluster(stanza = 'main'): Promise<PgbackrestCluster> {
  await ensurePgbackrest();
  const psql = await ensureExecutable({ command: 'psql', debianPackage: 'postgresql-client', extraDirs: () => versionedDirs('/usr/lib/postgresql', 'bin') });
  const asUser = process.getuid?.() === 0 ? lookupUser('postgres') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-pgbackrest-'));
  const repo = join(dir, 'repo');
  const configFile = join(dir, 'pgbackrest.conf');
  for (const sub of [repo, join(dir, 'lock')]) mkdirSync(sub);
  if (asUser) for (const path of [dir, repo, join(dir, 'lock')]) chownSync(path, asUser.uid, asUser.gid);
  const pg = await startPostgres({
    settings: {
      archive_mode: 'on', wal_level: 'replica',
      archive_command: `'pgbackrest --config=${configFile} --stanza=${stanza} archive-push %p'`,
    },
  });
  writeFileSync(configFile, [
    '[global]', `repo1-path=${repo}`, 'repo1-retention-full=9999', `lock-path=${join(dir, 'lock')}`, 'log-level-file=off',
    'log-level-console=warn', 'start-fast=y', 'archive-timeout=60', '',
    `[${stanza}]`, `pg1-path=${pg.dataDir}`, `pg1-port=${pg.port}`, `pg1-socket-path=${dirname(pg.dataDir)}`, 'pg1-user=postgres', '',
  ].join('\n'));
  if (asUser) chownSync(configFile, asUser.uid, asUser.gid);
  const spawnAs = asUser ? { uid: asUser.uid, gid: asUser.gid, env: { ...process.env, HOME: dir } } : {};
  const pgbackrest = async (args: string[]) =>
    (await run('pgbackrest', [`--config=${configFile}`, `--stanza=${stanza}`, ...args], { ...spawnAs, maxBuffer: 64 << 20 })).stdout;
  await pgbackrest(['stanza-create']);
  return {
    pg, stanza, repo, configFile, pgbackrest,
    sql: async (query) => (await run(psql, ['-X', '-q', '-A', '-t', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', query])).stdout.trim(),
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

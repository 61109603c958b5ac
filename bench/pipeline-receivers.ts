import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { canConnect, ChildService, ensureDebianPackage, ensureExecutable, freePort } from '../core/index.js';
import { lookupUser } from '../test/harness/users.js';
import { rsyslogConfig, syslogNgConfig } from './peers/peer-config.js';
import type { SyslogNg } from './peers/syslog-ng.js';

const CLOCK_TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
const SHOUWANG = fileURLToPath(new URL('../bin/shouwang.js', import.meta.url));

/** A process that takes TCP syslog and stores it, started for one measurement and stopped after it. */
export interface Receiver {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export type StoreTarget = { kind: 'embedded'; dir: string } | { kind: 'elasticsearch'; url: string; indexPrefix: string };

/** SHOUWANG_BENCH_COLLECT_ENV='{"SHOUWANG_COLLECT_BATCH_SIZE":"2000"}': settings to try on the collectors. */
function collectEnv(): Record<string, string> {
  const text = process.env.SHOUWANG_BENCH_COLLECT_ENV;
  if (!text) return {};
  let env: unknown;
  try {
    env = JSON.parse(text);
  } catch (error) {
    throw new Error(`SHOUWANG_BENCH_COLLECT_ENV: not JSON (${(error as Error).message})`);
  }
  if (!env || typeof env !== 'object' || Array.isArray(env) || Object.values(env).some((value) => typeof value !== 'string')) {
    throw new Error('SHOUWANG_BENCH_COLLECT_ENV: a JSON object of strings, e.g. {"SHOUWANG_COLLECT_BATCH_SIZE":"2000"}');
  }
  return env as Record<string, string>;
}

/**
 * The real `shouwang collect` of dist/ (syslog TCP listener → decode → enrich → rules → store), with its own
 * data dir. `extraEnv` is the hook for the scale-out topology: Redis-shared correlation and a cluster URL
 * go there once they exist (see bench/pipeline.ts).
 */
export async function startShouwangCollect(dir: string, store: StoreTarget, extraEnv: Record<string, string> = {}): Promise<Receiver> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    SHOUWANG_DATA_DIR: dir,
    SHOUWANG_COLLECT_SYSLOG_TCP_PORT: String(port),
    SHOUWANG_LOG_LEVEL: 'warn',
    ...(store.kind === 'embedded'
      ? { SHOUWANG_STORE: 'embedded' }
      : { SHOUWANG_STORE: 'elasticsearch', SHOUWANG_ELASTICSEARCH_URL: store.url, SHOUWANG_ELASTICSEARCH_INDEX_PREFIX: store.indexPrefix }),
    ...extraEnv,
    ...collectEnv(),
  };
  const service = await ChildService.start({
    name: 'shouwang collect', command: process.execPath,
    // SHOUWANG_BENCH_CPU_PROF=<dir>: a V8 CPU profile of each collector, written when it stops (open in Chrome DevTools).
    args: [...(process.env.SHOUWANG_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SHOUWANG_BENCH_CPU_PROF}`] : []), SHOUWANG, 'collect'],
    logFile: join(dir, 'collect.log'), spawn: { env, cwd: process.cwd() }, ready: () => canConnect(port),
  });
  return { port, pid: service.pid!, stop: () => service.stop() };
}

/**
 * `shouwang start --roles analyze` of dist/ with `analyze.distributed` on: it owns correlation partitions in Redis and
 * runs the windows the collectors' signals feed. Ready once it has joined (its lease keys are taken, checked by `joined`).
 */
export async function startShouwangAnalyzer(dir: string, store: StoreTarget, env: Record<string, string>, joined: () => Promise<boolean>): Promise<{ pid: number; stop(): Promise<void> }> {
  const service = await ChildService.start({
    name: 'shouwang analyze', command: process.execPath,
    args: [...(process.env.SHOUWANG_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SHOUWANG_BENCH_CPU_PROF}`] : []), SHOUWANG, 'start', '--roles', 'analyze'],
    logFile: join(dir, 'analyze.log'), ready: joined,
    spawn: {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, SHOUWANG_DATA_DIR: dir, SHOUWANG_LOG_LEVEL: 'warn',
        ...(store.kind === 'embedded'
          ? { SHOUWANG_STORE: 'embedded' }
          : { SHOUWANG_STORE: 'elasticsearch', SHOUWANG_ELASTICSEARCH_URL: store.url, SHOUWANG_ELASTICSEARCH_INDEX_PREFIX: store.indexPrefix }),
        ...env,
      },
    },
  });
  return { pid: service.pid!, stop: () => service.stop() };
}

/** Rows in the embedded store's events table: what a search by time, system or field reads. */
export function embeddedCount(dir: string): () => Promise<number> {
  let db: Database.Database | undefined;
  return async () => {
    try {
      db ??= new Database(join(dir, 'shouwang.db'), { readonly: true, fileMustExist: true });
      return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    } catch {
      db?.close();
      db = undefined;
      return 0;
    }
  };
}

/** Documents Elasticsearch's searches see (refreshed), under an index pattern. */
export function elasticsearchCount(url: string, pattern: string): () => Promise<number> {
  return async () => {
    const response = await fetch(`${url}/${pattern}/_count?ignore_unavailable=true&allow_no_indices=true`);
    if (!response.ok) return 0;
    return ((await response.json()) as { count: number }).count;
  };
}

/**
 * Documents Elasticsearch has indexed under an index pattern, refreshed or not (primaries' index_total less
 * index_failed): when the receiver's work is done, without the wait for the next refresh (up to 1 s) that
 * `_count` adds at a random phase. On a cluster, shard copies are not counted twice.
 */
export function elasticsearchIndexed(url: string, pattern: string): () => Promise<number> {
  return async () => {
    const response = await fetch(`${url}/${pattern}/_stats/indexing?ignore_unavailable=true&allow_no_indices=true`);
    if (!response.ok) return 0;
    const body = (await response.json()) as { _all?: { primaries?: { indexing?: { index_total?: number; index_failed?: number } } } };
    const indexing = body._all?.primaries?.indexing;
    return (indexing?.index_total ?? 0) - (indexing?.index_failed ?? 0);
  };
}

/** Pids of the cluster's nodes when they run on this machine (the test node does), so their CPU can be read from /proc. */
export async function elasticsearchPids(url: string): Promise<number[]> {
  // A node elsewhere (another host, a container) has pids of its own: its CPU cannot be read here, so none is shown.
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) return [];
  const response = await fetch(`${url}/_nodes/process?filter_path=nodes.*.process.id`);
  if (!response.ok) return [];
  const body = (await response.json()) as { nodes?: Record<string, { process?: { id?: number } }> };
  return Object.values(body.nodes ?? {}).flatMap((node) => (typeof node.process?.id === 'number' ? [node.process.id] : []));
}

export async function deleteIndices(url: string, pattern: string): Promise<void> {
  await fetch(`${url}/${pattern}?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=all`, { method: 'DELETE' });
}

/** A private dir the unprivileged peer (`nobody`) owns; the peers never run as root nor as a system service. */
function peerDir(parent: string, name: string): { dir: string; uid: number; gid: number } {
  const dir = mkdtempSync(join(parent, `${name}-`));
  const user = lookupUser('nobody');
  chownSync(dir, user.uid, user.gid);
  return { dir, uid: user.uid, gid: user.gid };
}

async function startPeer(name: string, command: string, args: string[], dir: string, port: number, user: { uid: number; gid: number }, env: Record<string, string> = {}): Promise<Receiver> {
  const service = await ChildService.start({
    name, command, args, logFile: join(dir, `${name}.log`), ready: () => canConnect(port),
    spawn: { uid: user.uid, gid: user.gid, cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
  });
  return { port, pid: service.pid!, stop: () => service.stop() };
}

/** rsyslogd + omelasticsearch (Debian rsyslog, rsyslog-elasticsearch), as `nobody`, config in its own temp dir. */
export async function startRsyslogPeer(parent: string, elasticsearchUrl: string, index: string): Promise<Receiver> {
  const rsyslogd = await ensureExecutable({ command: 'rsyslogd', debianPackage: 'rsyslog' });
  await ensureDebianPackage({ debianPackage: 'rsyslog-elasticsearch', file: omelasticsearchPath() });
  const { dir, ...user } = peerDir(parent, 'rsyslog');
  const port = await freePort();
  writeFileSync(join(dir, 'rsyslog.conf'), rsyslogConfig({ workDir: dir, port, elasticsearchUrl, index }));
  return startPeer('rsyslogd', rsyslogd, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], dir, port, user);
}

/** syslog-ng + elasticsearch-http(), as `nobody`, config in its own temp dir. */
export async function startSyslogNgPeer(syslogNg: SyslogNg, parent: string, elasticsearchUrl: string, index: string): Promise<Receiver> {
  const { dir, ...user } = peerDir(parent, 'syslog-ng');
  const port = await freePort();
  writeFileSync(join(dir, 'syslog-ng.conf'), syslogNgConfig({ workDir: dir, port, elasticsearchUrl, index }, syslogNg));
  return startPeer('syslog-ng', syslogNg.command, [
    ...syslogNg.args, '-F', '--no-caps', '-f', join(dir, 'syslog-ng.conf'),
    '-R', join(dir, 'syslog-ng.persist'), '-c', join(dir, 'syslog-ng.ctl'), '-p', join(dir, 'syslog-ng.pid'),
  ], dir, port, user, syslogNg.env);
}

function omelasticsearchPath(): string {
  const dirs = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog', '/usr/lib/rsyslog'];
  const arch = process.arch === 'arm64' ? dirs[1]! : dirs[0]!;
  return join(arch, 'omelasticsearch.so');
}

/** utime + stime of a process, all its threads included. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

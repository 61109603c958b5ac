import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BusinessSystem, Inventory } from '../core/index.js';
import { formatSetName, parseSetTime } from './targets/index.js';

/**
 * What the demo's backups of one system look like: most are healthy, a few show each kind of
 * problem the checks find, so the backup matrix and the posture vary as a real city's would.
 */
export type DemoBackupCase = 'healthy' | 'stale' | 'off-site-missing' | 'corrupted' | 'off-site-lagging' | 'gap' | 'ransomware';

/** The demo systems with a problem, by position among the systems with a backup policy (the rest are healthy). */
const CASES: Record<number, DemoBackupCase> = {
  3: 'stale', 8: 'off-site-missing', 13: 'corrupted', 16: 'ransomware', 19: 'off-site-lagging', 24: 'gap', 30: 'stale', 35: 'corrupted',
};

/** Exported tables a department keeps: what ransomware encrypts first, enough of them for the entropy signal. */
const RANSOMWARE_FILES = ['exports/cases.csv', 'exports/payments.csv', 'exports/residents.csv'];

export function demoBackupCase(index: number): DemoBackupCase {
  return CASES[index] ?? 'healthy';
}

/** A fresh set is written once the newest is older than this share of the RPO (a backup job's cadence). */
const REFRESH_RATIO = 0.5;

interface DemoSystem {
  system: BusinessSystem;
  backupCase: DemoBackupCase;
  sameCity: string;
  offSite: string;
}

/** Systems whose two targets are both local paths: the only ones the demo writes into. */
function demoSystems(inventory: Inventory): DemoSystem[] {
  return inventory.systems
    .filter((system) => system.backup?.sameCity.type === 'path' && system.backup.offSite.type === 'path')
    .map((system, index) => ({
      system, backupCase: demoBackupCase(index),
      sameCity: resolve((system.backup!.sameCity as { path: string }).path), offSite: resolve((system.backup!.offSite as { path: string }).path),
    }));
}

/** A few KiB of content that differs per system and set, like a real archive would. */
function setContent(system: string, set: string): Buffer {
  const seed = createHash('sha256').update(`${system}\u0000${set}`).digest();
  const out = Buffer.alloc(4096);
  for (let i = 0; i < out.length; i += seed.length) seed.copy(out, i);
  return out;
}

/** Bytes that look encrypted (high entropy, incompressible): a SHA-256 stream, so the demo stays deterministic. */
function encrypted(seed: string, size: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; i * 32 < size; i++) blocks.push(createHash('sha256').update(`${seed}\u0000${i}`).digest());
  return Buffer.concat(blocks).subarray(0, size);
}

/** A department's exported table: compressible text that changes a little each day. */
function csvContent(path: string, set: string): Buffer {
  const rows = Array.from({ length: 40 }, (_, i) => `${i + 1},${path},${set},正常 normal`);
  return Buffer.from(`id,file,set,status\n${rows.join('\n')}\n`);
}

/**
 * The files of one set. `extra`: the ransomware case's exported tables; `encrypt`: the same files as
 * ransomware leaves them (encrypted in place, renamed `.locked`), backed up faithfully.
 */
function setFiles(system: string, name: string, time: Date, options: { extra?: boolean; encrypt?: boolean }): Record<string, Buffer> {
  const files: Record<string, Buffer> = { 'data.tar': setContent(system, name), 'schema.sql': Buffer.from(`-- ${system} schema at ${time.toISOString()}\n`) };
  if (options.extra) for (const path of RANSOMWARE_FILES) files[path] = csvContent(path, name);
  if (!options.encrypt) return files;
  return Object.fromEntries(Object.entries(files).map(([path, data]) =>
    (path === 'schema.sql' ? [path, data] : [`${path}.locked`, encrypted(`${system}/${name}/${path}`, data.length)])));
}

function writeSet(root: string, system: string, time: Date, corrupt = false, options: { extra?: boolean; encrypt?: boolean } = {}): void {
  const name = formatSetName(time);
  const dir = join(root, name);
  if (existsSync(join(dir, 'manifest.json'))) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = setFiles(system, name, time, options);
  const entries = Object.entries(files).map(([path, data]) => ({ path, size: data.length, sha256: createHash('sha256').update(data).digest('hex') }));
  // A corrupted set: the file changed after its manifest was written (bit rot, a tampered copy).
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, path), corrupt && path === 'data.tar' ? Buffer.concat([data, Buffer.from('x')]) : data);
    // A set's files carry the time they were backed up, not the moment the demo wrote them: the ransomware
    // check's change rate compares mtimes, and writes straddling a millisecond would read as a jump.
    utimesSync(join(dir, path), time, time);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ createdAt: time.toISOString(), files: entries }, null, 2));
}

function newestSet(root: string): Date | undefined {
  if (!existsSync(root)) return undefined;
  const times = readdirSync(root).map(parseSetTime).filter((t): t is Date => t !== undefined);
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
}

/**
 * Writes the demo backup sets into the demo inventory's path targets: one set per RPO over the
 * retention period, the newest as each case wants it. Sets already there are kept, so a restart
 * only fills in what time has added. Returns how many systems it wrote for.
 */
export function writeDemoBackupSets(inventory: Inventory, now = new Date()): number {
  const systems = demoSystems(inventory);
  for (const { system, backupCase, sameCity, offSite } of systems) {
    const policy = system.backup!;
    const rpoMs = policy.rpo * 1000;
    const retentionMs = (policy.retention ?? policy.rpo * 8) * 1000;
    // Same-city: the newest set 30 % of an RPO ago, stale ones 1.5 RPOs ago.
    const newest = now.getTime() - (backupCase === 'stale' ? 1.5 : 0.3) * rpoMs;
    const times: number[] = [];
    for (let at = newest; at >= now.getTime() - retentionMs - rpoMs; at -= rpoMs) times.push(Math.floor(at / 1000) * 1000);
    times.forEach((at, position) => {
      // A gap: three restore points lost in the middle of the retention window.
      if (backupCase === 'gap' && position >= 3 && position < 6) return;
      // Ransomware: the newest set, after normal ones, holds the source as encrypted; both sites copy it faithfully.
      const ransomware = backupCase === 'ransomware' ? { extra: true, encrypt: position === 0 } : {};
      writeSet(sameCity, system.id, new Date(at), backupCase === 'corrupted' && position === 0, ransomware);
      if (backupCase === 'off-site-missing') return;
      if (backupCase === 'off-site-lagging' && position === 0) return;
      writeSet(offSite, system.id, new Date(at), false, ransomware);
    });
    mkdirSync(offSite, { recursive: true, mode: 0o700 });
  }
  return systems.length;
}

/**
 * The demo's backup job: a healthy system gets a fresh set at both sites once its newest is half
 * an RPO old; the problem cases stay as they are. Returns the systems that got a new set.
 */
export function refreshDemoBackupSets(inventory: Inventory, now = new Date()): string[] {
  const refreshed: string[] = [];
  for (const { system, backupCase, sameCity, offSite } of demoSystems(inventory)) {
    if (backupCase !== 'healthy' && backupCase !== 'gap') continue;
    const latest = newestSet(sameCity);
    if (latest && now.getTime() - latest.getTime() < REFRESH_RATIO * system.backup!.rpo * 1000) continue;
    const at = new Date(Math.floor(now.getTime() / 1000) * 1000);
    writeSet(sameCity, system.id, at);
    writeSet(offSite, system.id, at);
    refreshed.push(system.id);
  }
  return refreshed;
}

/** Breaks the newest same-city set of a system (the demo's "backup failure" incident). */
export function corruptDemoBackupSet(system: BusinessSystem): string | undefined {
  if (system.backup?.sameCity.type !== 'path') return undefined;
  const root = resolve(system.backup.sameCity.path);
  const latest = newestSet(root);
  if (!latest) return undefined;
  const file = join(root, formatSetName(latest), 'data.tar');
  writeFileSync(file, Buffer.concat([setContent(system.id, formatSetName(latest)), Buffer.from('corrupted')]));
  return file;
}

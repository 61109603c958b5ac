import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { ensureExecutable, versionedDirs, type BusinessSystem } from '../../core/index.js';
import type { DrillEngine } from './drill-server.js';

const run = promisify(execFile);
const ENGINES: Record<DrillEngine, readonly string[]> = { postgresql: ['postgresql'], mariadb: ['mariadb', 'mysql'] };

async function headText(file: string, bytes: number): Promise<string> {
  const raw = createReadStream(file, file.toLowerCase().endsWith('.gz') ? {} : { end: bytes - 1 });
  const text = file.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => text.destroy(error));
  let head = '';
  for await (const chunk of text as AsyncIterable<Buffer>) {
    head += chunk.toString('latin1');
    if (head.length >= bytes) break;
  }
  raw.destroy();
  return head.slice(0, bytes);
}

/** The database a dump was taken from, as its header says: `dbname:` of `pg_restore -l`, `Database:` of mariadb-dump. */
export async function dumpDatabase(file: string, engine: DrillEngine): Promise<string | undefined> {
  if (engine === 'postgresql') {
    const pgRestore = await ensureExecutable({
      command: 'pg_restore', debianPackage: 'postgresql-client', extraDirs: () => versionedDirs('/usr/lib/postgresql', 'bin'),
    });
    const { stdout } = await run(pgRestore, ['-l', file], { maxBuffer: 64 << 20 });
    return /^;\s+dbname:\s*(.+)$/m.exec(stdout)?.[1]?.trim();
  }
  // mariadb-dump of one database: `-- Host: h    Database: name`; several (--all-databases) name none.
  return /^-- Host: .*\sDatabase: (\S+)\s*$/m.exec(await headText(file, 4096))?.[1];
}

/**
 * A dump of another database than the system's (a job that dumped the wrong one, or another system's
 * dump copied here) restores and may even validate: when the inventory names the system's databases of
 * this engine, the dump must come from one of them.
 */
export async function wrongDatabase(system: BusinessSystem, file: string, engine: DrillEngine): Promise<string | undefined> {
  const expected = system.databases.filter((database) => ENGINES[engine].includes(database.engine)).map((database) => database.name);
  if (!expected.length) return undefined;
  const actual = await dumpDatabase(file, engine);
  if (actual === undefined || expected.includes(actual)) return undefined;
  return `转储来自数据库 ${actual}，不是本系统的数据库 ${expected.join(', ')} / the dump is of database ${actual}, not of this system's ${expected.join(', ')}`;
}

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ensureExecutable, versionedDirs } from '../../core/index.js';
import { DrillErrors } from './errors.js';

export type DrillEngine = 'postgresql' | 'mariadb';

/** Only databases with this prefix are ever created or dropped on a drill server. */
export const SCRATCH_PREFIX = 'shouwang_drill_';

/**
 * A database server where dumps are restored into throwaway databases. The client tools
 * (`psql`/`pg_restore`, `mariadb`) do the work, as an operator would by hand.
 */
export interface DrillServer {
  readonly engine: DrillEngine;
  /** host:port, never the password. */
  readonly description: string;
  /** Where it listens, compared with the system's own databases so a drill never restores into its source. */
  readonly endpoint: { host: string; port: number };
  createDatabase(name: string, signal?: AbortSignal): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  restore(name: string, dumpFile: string, signal?: AbortSignal): Promise<void>;
  /** Rows of the last statement's result, each cell as the client prints it. */
  query(name: string, sql: string, signal?: AbortSignal): Promise<string[][]>;
  listDatabases(): Promise<string[]>;
  /** Tables restored outside the system schemas. */
  tableStats(name: string): Promise<{ tables: number }>;
}

interface ToolRun {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  stdin?: Readable;
  signal?: AbortSignal;
  what: string;
}

const STDERR_TAIL = 2000;

/** Runs a client tool; fails with its exit code and the tail of its stderr. */
function runTool(run: ToolRun): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.command, run.args, {
      env: run.env,
      stdio: [run.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(run.signal ? { signal: run.signal } : {}),
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    let feedError: Error | undefined;
    if (run.stdin) {
      // The tool may exit early (a SQL error): its closed stdin is not the error to report.
      pipeline(run.stdin, child.stdin!).catch((error: Error) => {
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') feedError = error;
      });
    }
    child.once('error', (error) => reject(DrillErrors.tool(run.what, error.message)));
    child.once('close', (code, signal) => {
      if (feedError) reject(DrillErrors.tool(run.what, `reading the dump: ${feedError.message}`));
      else if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(DrillErrors.tool(run.what, `exit ${code ?? signal}: ${err.trim() || '(no output)'}`));
    });
  });
}

function assertScratch(name: string): void {
  if (!name.startsWith(SCRATCH_PREFIX) || !/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`refusing to touch database ${JSON.stringify(name)}: not a drill scratch database`);
  }
}

function parseUrl(url: string, engine: DrillEngine): URL {
  try {
    return new URL(url);
  } catch {
    throw DrillErrors.server(engine, 'the drill server URL cannot be parsed');
  }
}

const postgresTool = (command: string) =>
  ensureExecutable({ command, debianPackage: 'postgresql-client', extraDirs: () => versionedDirs('/usr/lib/postgresql', 'bin') });

/**
 * `backup.drill.postgresUrl`: the password goes to PGPASSWORD, never onto a command line. As in libpq, `?host=/dir`
 * names a unix socket directory instead of the URL's host.
 */
export function postgresDrillServer(url: string): DrillServer {
  const parsed = parseUrl(url, 'postgresql');
  const socketDir = parsed.searchParams.get('host');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGHOST: socketDir?.startsWith('/') ? socketDir : parsed.hostname.replace(/^\[|\]$/g, ''),
    PGPORT: parsed.port || '5432',
    PGUSER: decodeURIComponent(parsed.username) || 'postgres',
    PGCONNECT_TIMEOUT: '10',
    PGAPPNAME: 'shouwang-drill',
  };
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const maintenance = decodeURIComponent(parsed.pathname.slice(1)) || 'postgres';
  const description = `postgresql://${env.PGHOST}:${env.PGPORT}`;

  const psql = async (database: string, sql: string, signal?: AbortSignal) =>
    runTool({
      command: await postgresTool('psql'),
      // -A -t: bare values; unit/record separators keep cells with tabs or newlines apart.
      args: ['-X', '-q', '-A', '-t', '-F', '\x1f', '-R', '\x1e', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql],
      env, what: `psql ${description}/${database}`, ...(signal ? { signal } : {}),
    });

  return {
    engine: 'postgresql',
    description,
    endpoint: { host: env.PGHOST!, port: Number(env.PGPORT) },
    async createDatabase(name, signal) {
      assertScratch(name);
      await psql(maintenance, `CREATE DATABASE "${name}"`, signal);
    },
    async dropDatabase(name) {
      assertScratch(name);
      // FORCE ends sessions a killed restore may have left behind (PostgreSQL 13+).
      await psql(maintenance, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    async restore(name, dumpFile, signal) {
      assertScratch(name);
      await runTool({
        command: await postgresTool('pg_restore'),
        args: ['--no-owner', '--no-privileges', '--exit-on-error', '-d', name, dumpFile],
        env, what: `pg_restore into ${description}/${name}`, ...(signal ? { signal } : {}),
      });
    },
    async query(name, sql, signal) {
      return splitRows(await psql(name, sql, signal), '\x1e', '\x1f');
    },
    async listDatabases() {
      return (await this.query(maintenance, 'SELECT datname FROM pg_database ORDER BY 1')).map((row) => row[0] ?? '');
    },
    async tableStats(name) {
      const rows = await this.query(name,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')");
      return { tables: Number(rows[0]?.[0] ?? 0) };
    },
  };
}

const mariadbClient = async () => {
  try {
    return await ensureExecutable({ command: 'mariadb', debianPackage: 'mariadb-client' });
  } catch {
    return ensureExecutable({ command: 'mysql', debianPackage: 'mariadb-client' });
  }
};

/** `backup.drill.mariadbUrl` (mysql:// or mariadb://): the password goes to MYSQL_PWD. `?socket=/path` connects through a unix socket. */
export function mariadbDrillServer(url: string): DrillServer {
  const parsed = parseUrl(url, 'mariadb');
  const socket = parsed.searchParams.get('socket');
  const host = socket?.startsWith('/') ? socket : parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port || '3306';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (parsed.password) env.MYSQL_PWD = decodeURIComponent(parsed.password);
  const where = host === socket ? ['--protocol=SOCKET', `--socket=${socket}`] : ['--protocol=TCP', '-h', host, '-P', port];
  const base = ['--no-defaults', ...where, '-u', decodeURIComponent(parsed.username) || 'root', '--connect-timeout=10'];
  const description = host === socket ? `mariadb://${socket}` : `mariadb://${host}:${port}`;

  const client = async (args: string[], what: string, stdin?: Readable, signal?: AbortSignal) =>
    runTool({ command: await mariadbClient(), args: [...base, ...args], env, what, ...(stdin ? { stdin } : {}), ...(signal ? { signal } : {}) });

  return {
    engine: 'mariadb',
    description,
    endpoint: { host, port: Number(port) },
    async createDatabase(name, signal) {
      assertScratch(name);
      await client(['-e', `CREATE DATABASE \`${name}\``], `create ${description}/${name}`, undefined, signal);
    },
    async dropDatabase(name) {
      assertScratch(name);
      await client(['-e', `DROP DATABASE IF EXISTS \`${name}\``], `drop ${description}/${name}`);
    },
    async restore(name, dumpFile, signal) {
      assertScratch(name);
      const file = createReadStream(dumpFile);
      const text = dumpFile.endsWith('.gz') ? file.pipe(createGunzip()) : file;
      // --sandbox: a dump is data from a backup target, and `\! cmd` in it would run a shell command here.
      await client(['--sandbox', name], `mariadb restore into ${description}/${name}`, text.pipe(new DropDatabaseSwitches()), signal);
    },
    async query(name, sql, signal) {
      const out = await client(['--batch', '--skip-column-names', '-e', sql, name], `query ${description}/${name}`, undefined, signal);
      return splitRows(out, '\n', '\t');
    },
    async listDatabases() {
      return (await this.query('information_schema', 'SHOW DATABASES')).map((row) => row[0] ?? '');
    },
    async tableStats(name) {
      const rows = await this.query(name, `SELECT count(*) FROM information_schema.tables WHERE table_schema = '${name}'`);
      return { tables: Number(rows[0]?.[0] ?? 0) };
    },
  };
}

function splitRows(out: string, recordSeparator: string, fieldSeparator: string): string[][] {
  const text = out.endsWith('\n') ? out.slice(0, -1) : out;
  if (!text) return [];
  return text.split(recordSeparator).map((record) => record.split(fieldSeparator));
}

/**
 * A dump made with `--databases` switches to the original database (`CREATE DATABASE`, `USE`, and
 * with `--add-drop-database` a `DROP DATABASE` first);
 * dropping those lines keeps the restore inside the scratch database. mariadb-dump writes each
 * on a line of its own and escapes newlines inside values, so a line start is a statement start.
 */
export class DropDatabaseSwitches extends Transform {
  #tail: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    const data = this.#tail.length ? Buffer.concat([this.#tail, chunk]) : chunk;
    const end = data.lastIndexOf(0x0a);
    if (end < 0) {
      this.#tail = data;
      done();
      return;
    }
    this.#tail = data.subarray(end + 1);
    done(null, dropSwitches(data.subarray(0, end + 1)));
  }

  override _flush(done: (error?: Error | null, data?: Buffer) => void): void {
    done(null, dropSwitches(this.#tail));
  }
}

// `--add-drop-database` also writes `/*!40000 DROP DATABASE IF EXISTS `src`*/;`: that would drop the
// source's namesake on the drill server, so it goes too.
// A hostile dump may indent them, say SCHEMA for DATABASE, or use the client's own `\u db` / `connect db`.
const SWITCH_LINE = /^[ \t]*(?:(?:USE|CONNECT)(?:[\s`;]|$)|\\[ur]|(?:\/\*M?!\d*\s*)?(?:CREATE|DROP)\s+(?:DATABASE|SCHEMA)(?:[\s`]|$))[^\n]*(?:\n|$)/gim;

function dropSwitches(lines: Buffer): Buffer {
  // latin1 maps bytes 1:1, so the round trip leaves every other byte as it was.
  const text = lines.toString('latin1');
  SWITCH_LINE.lastIndex = 0;
  return SWITCH_LINE.test(text) ? Buffer.from(text.replace(SWITCH_LINE, ''), 'latin1') : lines;
}

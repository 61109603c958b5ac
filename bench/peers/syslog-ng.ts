import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable } from '../../core/index.js';
import type { SyslogNgLayout } from './peer-config.js';

const run = promisify(execFile);

/** Where the bench unpacks syslog-ng when the system has none (root only: apt-get). */
const UNPACK_DIR = '/var/cache/shouwang-bench/syslog-ng';
const PACKAGES = ['syslog-ng-core', 'syslog-ng-mod-http', 'syslog-ng-scl'];
/** syslog-ng-core's libraries that a bare Debian lacks; none of them conflicts with rsyslog. */
const LIBRARIES = ['libivykis0', 'libnet1', 'libpcre3', 'libjson-c5', 'libcurl4'];

export interface SyslogNg extends SyslogNgLayout {
  command: string;
  /** Arguments every run needs (the module path of an unpacked copy). */
  args: string[];
  env: Record<string, string>;
}

/**
 * syslog-ng for the pipeline bench. Debian's syslog-ng-core conflicts with rsyslog (both provide
 * system-log-daemon), so installing it would remove the rsyslog the tests and the other peer use.
 * Instead: the system's syslog-ng when installed, else the three packages fetched with
 * `apt-get download` and unpacked with `dpkg-deb -x` under /var/cache/shouwang-bench (never a service).
 */
export async function provisionSyslogNg(): Promise<SyslogNg> {
  const system = findExecutable('syslog-ng');
  if (system) {
    const version = moduleVersion('/usr/lib/syslog-ng') ?? moduleVersion('/usr/lib64/syslog-ng');
    const scl = '/usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf';
    if (version && existsSync(scl)) return { command: system, args: [], env: {}, version, elasticHttpScl: scl };
  }
  const root = join(UNPACK_DIR, 'root');
  const layout = unpacked(root);
  if (layout) return layout;
  if (process.getuid?.() !== 0) {
    throw new Error(`syslog-ng not found, and only root may fetch it; run as root: apt-get download ${PACKAGES.join(' ')} && dpkg-deb -x each into ${root}`);
  }
  mkdirSync(root, { recursive: true });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', '--no-install-recommends', ...LIBRARIES], { env, maxBuffer: 64 << 20 });
  await run('apt-get', ['download', ...PACKAGES], { cwd: UNPACK_DIR, env, maxBuffer: 64 << 20 });
  for (const file of readdirSync(UNPACK_DIR).filter((name) => name.endsWith('.deb'))) {
    await run('dpkg-deb', ['-x', join(UNPACK_DIR, file), root]);
  }
  const fetched = unpacked(root);
  if (!fetched) throw new Error(`syslog-ng still missing under ${root} after apt-get download ${PACKAGES.join(' ')}`);
  return fetched;
}

function unpacked(root: string): SyslogNg | undefined {
  const command = join(root, 'usr/sbin/syslog-ng');
  const version = moduleVersion(join(root, 'usr/lib/syslog-ng'));
  const scl = join(root, 'usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf');
  if (!existsSync(command) || !version || !existsSync(scl)) return undefined;
  return {
    command,
    args: [`--module-path=${join(root, 'usr/lib/syslog-ng', version)}`],
    env: { LD_LIBRARY_PATH: join(root, 'usr/lib/syslog-ng') },
    version,
    elasticHttpScl: scl,
  };
}

/** The `3.38` of /usr/lib/syslog-ng/3.38, where the modules are. */
function moduleVersion(dir: string): string | undefined {
  try {
    return readdirSync(dir).filter((name) => /^\d+\.\d+$/.test(name)).sort().at(-1);
  } catch {
    return undefined;
  }
}

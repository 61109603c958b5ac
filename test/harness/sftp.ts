import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, canConnect, ensureDebianPackage, ensureExecutable, freePort } from '../../core/index.js';

const run = promisify(execFile);

export interface SftpServer {
  host: string;
  port: number;
  /** The local user the client logs in as (the one running the tests). */
  user: string;
  /** The client's private key, authorized on this server only. */
  privateKey: Buffer;
  privateKeyPath: string;
  /** `SHA256:…` fingerprint of the server's host key, for pinning. */
  hostKeyFingerprint: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * A real OpenSSH server (Debian `openssh-server`) on a free loopback port, with its own config, host
 * key and one authorized client key, all in a temp dir. Key authentication only; SFTP is served by
 * sshd's built-in `internal-sftp`, so paths are the machine's own.
 */
export async function startSftp(): Promise<SftpServer> {
  const sshd = await ensureDebianPackage({ debianPackage: 'openssh-server', file: '/usr/sbin/sshd' });
  const keygen = await ensureExecutable({ command: 'ssh-keygen', debianPackage: 'openssh-client' });
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'shouwang-test-host', '-f', hostKey]);
  await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'shouwang-test-client', '-f', clientKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const { stdout } = await run(keygen, ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]);
  const hostKeyFingerprint = stdout.split(' ')[1]!;
  // sshd insists on its privilege-separation directory even when it never drops into it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = userInfo().username;
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    // The temp dir is ours, not the user's home: skip the ownership checks, and PAM which needs a real login.
    'StrictModes no',
    'UsePAM no',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  const logFile = join(dir, 'sshd.log');
  const service = await ChildService.start({
    name: 'sshd',
    command: sshd,
    args: ['-D', '-e', '-f', config],
    logFile,
    ready: () => canConnect(port),
    readyTimeoutMs: 20_000,
  });
  return {
    host: '127.0.0.1', port, user, privateKey: readFileSync(clientKey), privateKeyPath: clientKey, hostKeyFingerprint, logFile,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

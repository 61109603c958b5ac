import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildService, canConnect, ensureExecutable, freePort } from '../../core/index.js';

export interface RsyslogHandle {
  /** rsyslog's own TCP input: what `logger --tcp` writes to. */
  inputPort: number;
  stop(): Promise<void>;
}

/**
 * A real rsyslogd (Debian package) that takes messages on a TCP input and forwards each one to
 * our syslog server over TCP (octet-counted) and UDP, as a city's relay servers would.
 */
export async function startRsyslogForwarder(target: { tcpPort?: number; udpPort?: number }): Promise<RsyslogHandle> {
  const rsyslogd = await ensureExecutable({ command: 'rsyslogd', debianPackage: 'rsyslog' });
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-rsyslog-'));
  const inputPort = await freePort();
  const forward = (protocol: 'tcp' | 'udp', port: number) =>
    `action(type="omfwd" target="127.0.0.1" port="${port}" protocol="${protocol}"${protocol === 'tcp' ? ' TCP_Framing="octet-counted"' : ''} template="RSYSLOG_SyslogProtocol23Format")`;
  writeFileSync(join(dir, 'rsyslog.conf'), [
    `global(workDirectory="${dir}")`,
    'module(load="imtcp")',
    `input(type="imtcp" port="${inputPort}" address="127.0.0.1")`,
    ...(target.tcpPort ? [forward('tcp', target.tcpPort)] : []),
    ...(target.udpPort ? [forward('udp', target.udpPort)] : []),
  ].join('\n') + '\n');
  const service = await ChildService.start({
    name: 'rsyslogd',
    command: rsyslogd,
    args: ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')],
    logFile: join(dir, 'rsyslogd.log'),
    ready: () => canConnect(inputPort),
  });
  return {
    inputPort,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as plainConnect } from 'node:net';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AssetIndex, canConnect, ChildService, ensureDebianPackage, ensureExecutable, freePort, loadInventory,
} from '../../core/index.js';
import { EventSink, FileDeadLetterSink, SyslogServer, syslogHandler } from '../../collectors/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'shouwang-syslog-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));

beforeAll(async () => {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-days', '1', '-keyout', key, '-out', cert]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS syslog server writing into a real embedded store. */
async function startTlsCollector(name: string) {
  const store = new EmbeddedStore({ path: join(dir, `${name}.db`) });
  const deadLetters = new FileDeadLetterSink(join(dir, `${name}-dead`));
  const sink = new EventSink({ store: store.events, spoolDir: join(dir, `${name}-spool`), deadLetters, flushIntervalMs: 20 });
  const server = new SyslogServer({
    tlsPort: 0, tls: { cert: readFileSync(cert), key: readFileSync(key) },
    onMessage: syslogHandler({ source: 'syslog-tls', sink, assets, deadLetters }),
  });
  await server.start();
  /** The stored events, once there are at least `count`. */
  const waitFor = async (count: number) => {
    await eventually(async () => expect((await store.events.range()).count).toBeGreaterThanOrEqual(count));
    return (await store.events.search({}, { order: 'asc', size: 100 })).items;
  };
  const close = async () => {
    await server.close();
    await sink.close();
    await store.close();
  };
  return { server, waitFor, close };
}

describe('syslog over TLS (RFC 5425)', () => {
  it('stores octet-counted messages sent over a verified TLS connection, with the sender’s address', async () => {
    const collector = await startTlsCollector('client');
    try {
      const socket = connect({ host: '127.0.0.1', port: collector.server.ports.tls!, servername: 'localhost', ca: readFileSync(cert) });
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      expect(socket.authorized).toBe(true);
      const messages = [1, 2, 3].map((n) =>
        `<86>1 2026-11-20T10:00:0${n}+08:00 rsj-shbx-app01 sudo ${100 + n} - - zhang : TTY=pts/0 ; PWD=/home/zhang ; USER=root ; COMMAND=/bin/ls 目录${n}`);
      // Octet counts are bytes, not characters: the Chinese text makes them differ. One frame split across writes.
      const frames = Buffer.concat(messages.map((message) => Buffer.from(`${Buffer.byteLength(message)} ${message}`)));
      socket.write(frames.subarray(0, 50));
      socket.end(frames.subarray(50));
      const stored = await collector.waitFor(3);
      expect(stored).toHaveLength(3);
      expect(stored.map((event) => event.message)).toEqual(messages.map((message) => message.slice(message.indexOf('zhang :'))));
      for (const event of stored) {
        expect(event).toMatchObject({
          host: { name: 'rsj-shbx-app01' }, process: { name: 'sudo' }, log: { source: { address: '127.0.0.1' } },
          shouwang: { system: 'rsj-shbx', source: 'syslog-tls' },
        });
      }
    } finally {
      await collector.close();
    }
  });

  it('refuses a client that does not speak TLS, and stores nothing from it', async () => {
    const collector = await startTlsCollector('plain');
    try {
      const socket = plainConnect({ host: '127.0.0.1', port: collector.server.ports.tls! });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('<13>Nov 20 10:00:00 host app: plain text on the TLS port\n');
      await new Promise((resolve) => socket.once('close', resolve)); // the server drops the failed handshake
      expect(await collector.waitFor(0)).toHaveLength(0);
    } finally {
      await collector.close();
    }
  });

  it('receives what a real rsyslog forwards over TLS with gtls, verifying our certificate', async () => {
    const rsyslogd = await ensureExecutable({ command: 'rsyslogd', debianPackage: 'rsyslog' });
    await ensureDebianPackage({ debianPackage: 'rsyslog-gnutls', file: '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so' });
    const collector = await startTlsCollector('rsyslog');
    const work = mkdtempSync(join(dir, 'rsyslog-'));
    const inputPort = await freePort();
    writeFileSync(join(work, 'rsyslog.conf'), [
      `global(workDirectory="${work}" defaultNetstreamDriverCAFile="${cert}")`,
      'module(load="imtcp")',
      `input(type="imtcp" port="${inputPort}" address="127.0.0.1")`,
      `action(type="omfwd" target="127.0.0.1" port="${collector.server.ports.tls!}" protocol="tcp" TCP_Framing="octet-counted"`
        + ' StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"'
        + ' template="RSYSLOG_SyslogProtocol23Format")',
    ].join('\n') + '\n');
    const service = await ChildService.start({
      name: 'rsyslogd', command: rsyslogd, args: ['-n', '-f', join(work, 'rsyslog.conf'), '-i', join(work, 'rsyslogd.pid')],
      logFile: join(work, 'rsyslogd.log'), ready: () => canConnect(inputPort),
    });
    try {
      for (let n = 0; n < 5; n += 1) {
        await run('logger', ['--tcp', '--server', '127.0.0.1', '--port', String(inputPort), '--tag', 'sshd',
          `Failed password for root from 203.0.113.${n} port 22 ssh2 登录失败 ${n}`]);
      }
      const stored = await collector.waitFor(5);
      expect(stored).toHaveLength(5);
      expect(new Set(stored.map((event) => event.source?.ip))).toEqual(new Set([0, 1, 2, 3, 4].map((n) => `203.0.113.${n}`)));
      for (const event of stored) {
        expect(event).toMatchObject({ process: { name: 'sshd' }, event: { outcome: 'failure' }, log: { source: { address: '127.0.0.1' } } });
      }
    } finally {
      await service.stop();
      await collector.close();
    }
  }, 120_000);
});

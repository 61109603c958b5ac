import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, SyslogFramer, SyslogServer, syslogHandler, type Peer } from '../../collectors/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { startRsyslogForwarder } from '../harness/rsyslog.js';
import { eventually } from '../support/eventually.js';

const run = promisify(execFile);

describe('syslog TCP framing', () => {
  it('splits octet-counted and newline-framed messages, across chunk boundaries', () => {
    const framer = new SyslogFramer();
    const stream = Buffer.from('15 <13>1 - - - - x\n<13>Nov 26 10:00:00 h app: two\r\n6 <13>ab');
    const messages = [...framer.push(stream.subarray(0, 7)), ...framer.push(stream.subarray(7, 30)), ...framer.push(stream.subarray(30))];
    expect(messages.map((frame) => String(frame.message))).toEqual(['<13>1 - - - - x', '<13>Nov 26 10:00:00 h app: two', '<13>ab']);
    expect(framer.push(Buffer.from('<13>last without newline'))).toEqual([]);
    expect(framer.end().map((frame) => String(frame.message))).toEqual(['<13>last without newline']);
  });

  it('keeps a sender that never ends a line from growing memory without bound', () => {
    const framer = new SyslogFramer(1024);
    expect(framer.push(Buffer.alloc(2000, 0x41))).toHaveLength(0);
    expect(framer.retainedBytes).toBe(1024);
    expect(framer.end()).toEqual([{ message: Buffer.alloc(1024, 0x41), originalBytes: 2000 }]);
  });
});

describe('syslog server', () => {
  it('receives what a real rsyslog forwards over TCP (octet-counted) and UDP, with the sender’s address', async () => {
    const received: { text: string; peer: Peer; transport: string }[] = [];
    const server = new SyslogServer({
      udpPort: 0, tcpPort: 0,
      onMessage: async (message, peer, transport) => {
        received.push({ text: message.toString('utf8'), peer, transport });
      },
    });
    await server.start();
    const { tcp, udp } = server.ports;
    const rsyslog = await startRsyslogForwarder({ tcpPort: tcp!, udpPort: udp! });
    try {
      for (let n = 0; n < 20; n += 1) {
        await run('logger', ['--tcp', '--server', '127.0.0.1', '--port', String(rsyslog.inputPort), '--tag', 'sshd', `Failed password for root from 203.0.113.${n} port 22 ssh2 登录失败 ${n}`]);
      }
      await eventually(() => expect(received).toHaveLength(40));
      const byTransport = (t: string) => received.filter((r) => r.transport === t);
      expect(byTransport('tcp')).toHaveLength(20);
      expect(byTransport('udp')).toHaveLength(20);
      for (const message of received) {
        expect(message.text).toMatch(/^<\d+>1 \S+ \S+ sshd .* Failed password for root from 203\.0\.113\.\d+ port 22 ssh2 登录失败 \d+$/);
        expect(message.peer.address).toBe('127.0.0.1');
      }
      expect(new Set(byTransport('tcp').map((m) => /登录失败 (\d+)/.exec(m.text)![1])).size).toBe(20);
    } finally {
      await rsyslog.stop();
      await server.close();
      await server.close();
    }
  }, 60_000);

  it('pauses a TCP sender while messages wait, and loses none', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let received = 0;
    const server = new SyslogServer({
      tcpPort: 0, maxInFlight: 10,
      onMessage: async () => {
        received += 1;
        await gate; // the sink is behind
      },
    });
    await server.start();
    const socket = connect({ port: server.ports.tcp!, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    const lines = Array.from({ length: 5000 }, (_, n) => `<13>Nov 26 10:00:00 host app: message ${n} ${'x'.repeat(200)}\n`).join('');
    socket.write(lines);
    await eventually(() => expect(server.pausedConnections).toBe(1));
    expect(received).toBeGreaterThanOrEqual(10);
    expect(received).toBeLessThan(5000); // paused: the rest waits in the kernel's buffers, not in ours
    release();
    await eventually(() => expect(received).toBe(5000));
    socket.end();
    await server.close();
  });
});

describe('syslog collection into the store', () => {
  it('stores each received message once, tagged from the inventory, with the sender kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-syslog-'));
    const store = new EmbeddedStore({ path: join(dir, 'store.db') });
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead'));
    const sink = new EventSink({ store: store.events, spoolDir: join(dir, 'spool'), deadLetters, flushIntervalMs: 20 });
    const server = new SyslogServer({
      udpPort: 0, tcpPort: 0,
      onMessage: syslogHandler({ source: 'syslog', sink, assets: new AssetIndex(loadInventory('config/inventory.demo.yaml')), deadLetters }),
    });
    await server.start();
    const line = (n: number) => `<38>Nov 20 10:00:0${n} rsj-shbx-app01 sshd[${n}]: Failed password for root from 203.0.113.9 port 4000 ssh2`;
    const tcp = connect({ port: server.ports.tcp!, host: '127.0.0.1' });
    await new Promise((resolve) => tcp.once('connect', resolve));
    tcp.end(`${line(1)}\n${line(2)}\n${line(1)}\nnot syslog at all\n`); // line 1 twice: stored once
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.send(line(3), server.ports.udp!, '127.0.0.1', () => resolve()));
    udp.close();
    await eventually(async () => expect((await store.events.range()).count).toBe(3));
    await server.close();
    await sink.close();
    const stored = (await store.events.search({}, { order: 'asc' })).items;
    expect(stored).toHaveLength(3);
    expect(stored[0]).toMatchObject({
      host: { name: 'rsj-shbx-app01' }, log: { source: { address: '127.0.0.1' }, syslog: { facility: { code: 4 } } },
      shouwang: { system: 'rsj-shbx', department: 'rsj', mlps_level: 3, source: 'syslog' },
    });
    await store.close();
  });
});

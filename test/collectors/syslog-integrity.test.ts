import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AssetIndex, ConfigSchema, createLogger, createMetricsRegistry, loadInventory, type Config,
} from '../../core/index.js';
import { createIngestMetrics, parseProcNetUdp, readUdpKernelDrops, startCollection } from '../../collectors/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { prng, startSyslogCollector } from './syslog-support.js';
import { eventually } from '../support/eventually.js';

const valid = (n: number) => `<38>Nov 20 10:00:00 rsj-shbx-app01 sshd[${n}]: Failed password for root from 203.0.113.9 port ${n} ssh2`;

/** Writes a whole stream to the TCP listener and closes the connection. */
async function sendTcp(port: number, bytes: Buffer): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => socket.once('connect', resolve));
  await new Promise<void>((resolve) => socket.end(bytes, resolve));
}

async function sendUdp(port: number, messages: Buffer[]): Promise<void> {
  const udp = createSocket('udp4');
  for (const message of messages) await new Promise<void>((resolve) => udp.send(message, port, '127.0.0.1', () => resolve()));
  udp.close();
}

describe('syslog over TCP keeps every valid message, whatever comes around it', () => {
  it('stores exactly the 1,000 valid lines among 100,000 random-byte lines; each random line is a dead letter (seeded)', async () => {
    const random = prng(6587);
    const parts: Buffer[] = [];
    const validAt = new Set<number>();
    while (validAt.size < 1000) validAt.add(Math.floor(random() * 101_000));
    let randomLines = 0;
    for (let n = 0; n < 101_000; n += 1) {
      if (validAt.has(n)) {
        parts.push(Buffer.from(`${valid(n)}\n`));
        continue;
      }
      const line = Buffer.alloc(1 + Math.floor(random() * 200));
      for (let i = 0; i < line.length; i += 1) {
        let byte = Math.floor(random() * 256);
        while (byte === 0x0a || byte === 0x0d) byte = Math.floor(random() * 256);
        line[i] = byte;
      }
      // Some look like octet-counted headers, the way a misdetected frame would start.
      const roll = random();
      const prefix = roll < 0.02 ? `${Math.floor(random() * 1e6)} <13>` : roll < 0.05 ? `${Math.floor(random() * 1e9)} ` : '';
      parts.push(Buffer.from(prefix), line, Buffer.from('\n'));
      randomLines += 1;
    }
    const collector = await startSyslogCollector({ tcpPort: 0 });
    try {
      await sendTcp(collector.server.ports.tcp!, Buffer.concat(parts));
      await collector.settle(101_000);
      expect(await collector.counted('received')).toBe(101_000);
      expect(await collector.counted('decoded')).toBe(1000);
      expect(await collector.counted('failed')).toBe(randomLines);
      expect(collector.deadLetters()).toHaveLength(randomLines);
      const stored = (await collector.store.events.search({}, { size: 1000 })).items;
      expect(stored).toHaveLength(1000);
      expect(new Set(stored.map((event) => event.process?.pid))).toEqual(validAt);
      for (const event of stored) expect(event).toMatchObject({ host: { name: 'rsj-shbx-app01' }, event: { outcome: 'failure' } });
    } finally {
      await collector.close();
    }
  }, 180_000);

  it('does not let `40 garbage` or `999999999 ` eat the lines after them', async () => {
    const collector = await startSyslogCollector({ tcpPort: 0 });
    try {
      const port = collector.server.ports.tcp!;
      await sendTcp(port, Buffer.from(`40 garbage\n${valid(1)}\n${valid(2)}\n${valid(3)}\n`));
      const many = Array.from({ length: 20_000 }, (_, n) => valid(100 + n));
      await sendTcp(port, Buffer.from(`999999999 ${many.join('\n')}\n`));
      await collector.settle(4 + 20_000);
      expect((await collector.store.events.range()).count).toBe(3 + 19_999);
      // The two garbage lines are kept as they came, each one dead letter.
      expect(collector.deadLetters().map((letter) => letter.raw).sort()).toEqual(['40 garbage', `999999999 ${many[0]}`]);
    } finally {
      await collector.close();
    }
  }, 120_000);
});

describe('syslog messages longer than collect.syslog.maxMessageBytes', () => {
  it('stores a 10 MB line cut to 64 KiB, tagged truncated, with its original size, and the next line whole', async () => {
    const collector = await startSyslogCollector({ tcpPort: 0 });
    try {
      const long = `${valid(1)} ${'x'.repeat((10 << 20) - valid(1).length - 1)}`;
      await sendTcp(collector.server.ports.tcp!, Buffer.from(`${long}\n${valid(2)}\n`));
      await collector.settle(2);
      const stored = (await collector.store.events.search({}, { order: 'asc' })).items;
      expect(stored).toHaveLength(2);
      const cut = stored.find((event) => event.process?.pid === 1)!;
      expect(cut).toMatchObject({ tags: ['truncated'], log: { original_size: 10 << 20 } });
      expect(cut.event?.original).toBe(long.slice(0, 64 * 1024));
      const whole = stored.find((event) => event.process?.pid === 2)!;
      expect(whole.tags).toBeUndefined();
      expect(whole.event?.original).toBe(valid(2));
      expect(collector.deadLetters()).toEqual([]);
    } finally {
      await collector.close();
    }
  }, 60_000);

  it('cuts a UDP datagram longer than the cap the same way', async () => {
    const collector = await startSyslogCollector({ udpPort: 0, maxMessageBytes: 1024 });
    try {
      const long = `${valid(1)} ${'y'.repeat(3000)}`;
      await sendUdp(collector.server.ports.udp!, [Buffer.from(long)]);
      await collector.settle(1);
      const [event] = (await collector.store.events.search({})).items;
      expect(event).toMatchObject({ tags: ['truncated'], log: { original_size: Buffer.byteLength(long) }, event: { original: long.slice(0, 1024) } });
    } finally {
      await collector.close();
    }
  });
});

describe('syslog encodings', () => {
  const gbk = (hex: string) => Buffer.concat([Buffer.from('<38>Nov 20 10:00:00 rsj-shbx-app01 app: '), Buffer.from(hex, 'hex')]);
  const LOGIN_FAILED = 'b5c7c2bccaa7b0dc'; // 登录失败 in GBK
  const INVALID = 'b5c781'; // 登, then a lead byte with nothing after it

  it('decodes GBK over UDP and TCP when the listener says gbk, and tags invalid bytes', async () => {
    const collector = await startSyslogCollector({ udpPort: 0, tcpPort: 0 }, { encoding: 'gbk' });
    try {
      await sendUdp(collector.server.ports.udp!, [gbk(`${LOGIN_FAILED}20756470`)]); // "… udp"
      await sendTcp(collector.server.ports.tcp!, Buffer.concat([gbk(`${LOGIN_FAILED}20746370`), Buffer.from('\n'), gbk(INVALID), Buffer.from('\n')]));
      await collector.settle(3);
      const stored = (await collector.store.events.search({})).items;
      expect(stored.map((event) => event.message).sort()).toEqual(['登录失败 tcp', '登录失败 udp', '登\uFFFD'].sort());
      expect(stored.find((event) => event.message === '登\uFFFD')!.tags).toEqual(['encoding_invalid']);
      expect(stored.filter((event) => event.tags === undefined)).toHaveLength(2);
    } finally {
      await collector.close();
    }
  });

  it('decodes one sender by its own encoding and zone (collect.syslog.senders), others by the listener’s', async () => {
    const listener = await startSyslogCollector({ udpPort: 0 });
    const bySender = await startSyslogCollector({ udpPort: 0 }, { senders: [{ address: '127.0.0.1', encoding: 'gbk', utcOffset: '+00:00' }] });
    try {
      await sendUdp(listener.server.ports.udp!, [gbk(LOGIN_FAILED)]);
      await sendUdp(bySender.server.ports.udp!, [gbk(LOGIN_FAILED)]);
      await listener.settle(1);
      await bySender.settle(1);
      const [asUtf8] = (await listener.store.events.search({})).items;
      expect(asUtf8!.message).not.toBe('登录失败');
      expect(asUtf8!.tags).toEqual(['encoding_invalid']); // mojibake is at least marked
      const [asGbk] = (await bySender.store.events.search({})).items;
      expect(asGbk).toMatchObject({ message: '登录失败' });
      expect(asGbk!.tags).toBeUndefined();
      expect(asGbk!['@timestamp']).toMatch(/T10:00:00\.000Z$/);
      expect(asUtf8!['@timestamp']).toMatch(/T02:00:00\.000Z$/);
    } finally {
      await listener.close();
      await bySender.close();
    }
  });
});

describe('syslog UDP kernel drops', () => {
  it('reads the drops column of /proc/net/udp', () => {
    const table = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             ',
      ' 1234: 0100007F:A1B2 00000000:0000 07 00000000:00000A00 00:00000000 00000000  1000        0 987654 2 0000000000000000 4242      ',
      '   12: 00000000:0202 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1111 2 0000000000000000 0',
      '',
    ].join('\n');
    expect(parseProcNetUdp(table)).toEqual([
      { localPort: 0xa1b2, inode: 987654, rxQueue: 0xa00, drops: 4242 },
      { localPort: 0x202, inode: 1111, rxQueue: 0, drops: 0 },
    ]);
    expect(parseProcNetUdp('garbage\n1: x\n')).toEqual([]);
  });

  it('exports the kernel’s drops for the bound socket as shouwang_syslog_udp_kernel_drops_total: received + dropped = sent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shouwang-syslog-drops-'));
    const config = { ...ConfigSchema.parse({
      dataDir, collect: { flushMs: 20, syslog: { udpPort: 0, udpReceiveBufferBytes: 65_536 } },
    }), store: 'embedded' } as Config;
    const embedded = new EmbeddedStore({ path: join(dataDir, 'store.db') });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const collection = await startCollection({
      config, store: embedded.events, assets: new AssetIndex(loadInventory('config/inventory.demo.yaml')), registry, metrics,
      logger: createLogger({ level: 'silent' }),
    });
    const value = async (name: string) => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    try {
      const port = collection.syslogPorts.udp!;
      expect(readUdpKernelDrops(port)).toBe(0);
      expect(await registry.getSingleMetricAsString('shouwang_syslog_udp_kernel_drops_total')).toContain('source="syslog"} 0');
      expect(await value('shouwang_syslog_udp_receive_buffer_bytes')).toBe(131_072); // Linux doubles the request
      // Another process blasts datagrams while this one's event loop is blocked: the small buffer overflows.
      const sent = 5000;
      const blast = 'const s=require("dgram").createSocket("udp4");let n=0;const next=()=>n<+process.argv[2]'
        + '?s.send(`<13>Nov 20 10:00:00 host app: burst ${n++}`,+process.argv[1],"127.0.0.1",next):s.close();next();';
      execFileSync(process.execPath, ['-e', blast, String(port), String(sent)]);
      const drops = readUdpKernelDrops(port)!;
      expect(drops).toBeGreaterThan(0);
      await eventually(async () => expect(await value('shouwang_ingest_received_total')).toBe(sent - drops), { timeout: 30_000 });
      expect(await value('shouwang_syslog_udp_kernel_drops_total')).toBe(drops);
    } finally {
      await collection.close();
      await embedded.close();
    }
    await expect(registry.metrics()).resolves.toContain('shouwang_syslog_udp_kernel_drops_total'); // a scrape after close still answers
  }, 60_000);
});

describe('collect.syslog settings in startCollection', () => {
  it('passes encoding, senders and maxMessageBytes to the listeners', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shouwang-syslog-settings-'));
    const config = { ...ConfigSchema.parse({
      dataDir, collect: { flushMs: 20, syslog: {
        tcpPort: 0, encoding: 'gbk', maxMessageBytes: 1024, senders: [{ address: '127.0.0.1', utcOffset: '+00:00' }],
      } },
    }), store: 'embedded' } as Config;
    const embedded = new EmbeddedStore({ path: join(dataDir, 'store.db') });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const collection = await startCollection({
      config, store: embedded.events, assets: new AssetIndex(loadInventory('config/inventory.demo.yaml')), registry,
      metrics: createIngestMetrics(registry), logger: createLogger({ level: 'silent' }),
    });
    try {
      const gbkLine = Buffer.concat([Buffer.from('<38>Nov 20 10:00:00 rsj-shbx-app01 app: '), Buffer.from('b5c7c2bccaa7b0dc', 'hex')]);
      await sendTcp(collection.syslogPorts.tcp!, Buffer.concat([gbkLine, Buffer.from(`\n${valid(1)} ${'z'.repeat(5000)}\n`)]));
      await eventually(async () => expect((await embedded.events.range()).count).toBe(2));
      const stored = (await embedded.events.search({})).items;
      expect(stored.find((event) => event.message === '登录失败')).toMatchObject({ '@timestamp': expect.stringMatching(/T10:00:00\.000Z$/) });
      expect(stored.find((event) => event.process?.pid === 1)).toMatchObject({ tags: ['truncated'], log: { original_size: valid(1).length + 5001 } });
    } finally {
      await collection.close();
      await embedded.close();
    }
  });

  it('rejects a sender without an address and an unknown encoding, naming the field', () => {
    expect(() => ConfigSchema.parse({ collect: { syslog: { senders: [{ encoding: 'gbk' }] } } })).toThrow(/senders/);
    expect(() => ConfigSchema.parse({ collect: { syslog: { encoding: 'latin1' } } })).toThrow(/encoding/);
  });
});

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureExecutable } from '../../core/index.js';

const run = promisify(execFile);

/**
 * Debian's suricata for the IDS tests, installed when missing like the other services. Debian 12
 * (bookworm) has no suricata package in main (only in later releases), so there the tests that need
 * it are skipped with this reason instead of failing.
 */
export async function suricataUnavailable(): Promise<string | undefined> {
  try {
    await ensureExecutable({ command: 'suricata', debianPackage: 'suricata' });
    return undefined;
  } catch (error) {
    return `suricata is not installable here: ${(error as Error).message}`;
  }
}

/** Runs suricata over a pcap with the given rules only; returns the path of its eve.json. */
export async function runSuricata(options: { pcap: string; dir: string; rules: string[] }): Promise<string> {
  const suricata = await ensureExecutable({ command: 'suricata', debianPackage: 'suricata' });
  mkdirSync(options.dir, { recursive: true });
  const rules = join(options.dir, 'local.rules');
  writeFileSync(rules, `${options.rules.join('\n')}\n`);
  // -k none: the hand-built packets carry no checksums; --runmode single keeps it to one thread.
  await run(suricata, ['-c', '/etc/suricata/suricata.yaml', '-r', options.pcap, '-S', rules, '-l', options.dir, '-k', 'none', '--runmode', 'single'], { timeout: 120_000 });
  return join(options.dir, 'eve.json');
}

/** A pcap (Ethernet, IPv4, TCP) of one TCP exchange: handshake, a request, a response, the close. */
export function tcpExchangePcap(o: { client: string; server: string; port: number; request: string; response?: string }): Buffer {
  const response = o.response ?? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  const clientPort = 41000;
  let cSeq = 1000;
  let sSeq = 5000;
  const packets: Buffer[] = [];
  const push = (fromClient: boolean, flags: number, payload = '') => {
    const data = Buffer.from(payload, 'latin1');
    const seq = fromClient ? cSeq : sSeq;
    const ack = fromClient ? sSeq : cSeq;
    packets.push(frame(fromClient ? o.client : o.server, fromClient ? o.server : o.client, fromClient ? clientPort : o.port, fromClient ? o.port : clientPort, seq, ack, flags, data));
    const advance = data.length + (flags & 0x03 ? 1 : 0); // SYN and FIN take one sequence number
    if (fromClient) cSeq += advance;
    else sSeq += advance;
  };
  const SYN = 0x02; const ACK = 0x10; const PSH = 0x08; const FIN = 0x01;
  push(true, SYN);
  push(false, SYN | ACK);
  push(true, ACK);
  push(true, PSH | ACK, o.request);
  push(false, ACK);
  push(false, PSH | ACK, response);
  push(true, ACK);
  push(true, FIN | ACK);
  push(false, FIN | ACK);
  push(true, ACK);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const records = packets.map((packet, i) => {
    const record = Buffer.alloc(16);
    record.writeUInt32LE(1_795_000_000 + i, 0);
    record.writeUInt32LE(packet.length, 8);
    record.writeUInt32LE(packet.length, 12);
    return Buffer.concat([record, packet]);
  });
  return Buffer.concat([header, ...records]);
}

function frame(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, data: Buffer): Buffer {
  const eth = Buffer.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00]);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(flags & 0x10 ? ack >>> 0 : 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + data.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([eth, ip, tcp, data]);
}

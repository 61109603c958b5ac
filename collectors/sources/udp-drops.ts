import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One socket of /proc/net/udp or /proc/net/udp6 (Linux). */
export interface ProcUdpSocket {
  localPort: number;
  inode: number;
  /** Bytes waiting in the receive queue. */
  rxQueue: number;
  /** Datagrams the kernel dropped for this socket, mostly because its receive buffer was full. */
  drops: number;
}

/**
 * Parses /proc/net/udp{,6}: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt
 * uid timeout inode ref pointer drops`, addresses as hex `ADDR:PORT`.
 */
export function parseProcNetUdp(text: string): ProcUdpSocket[] {
  const sockets: ProcUdpSocket[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13 || !/^\d+:$/.test(fields[0]!)) continue; // the header, or a blank line
    const port = fields[1]!.split(':')[1];
    const rxQueue = fields[4]!.split(':')[1];
    if (port === undefined || rxQueue === undefined) continue;
    sockets.push({
      localPort: parseInt(port, 16), inode: Number(fields[9]), rxQueue: parseInt(rxQueue, 16), drops: Number(fields[12]),
    });
  }
  return sockets;
}

/** Inodes of this process's sockets, from its open file descriptors (`socket:[inode]`). */
function ownSocketInodes(proc: string): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`${proc}/self/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${proc}/self/fd/${fd}`));
      if (match) inodes.add(Number(match[1]));
    } catch {
      // closed between the listing and the read
    }
  }
  return inodes;
}

/**
 * The kernel's drop count for this process's UDP socket(s) bound to `port`; undefined where there is
 * no /proc (not Linux). Matching on our own inodes keeps another process's socket on the port out.
 */
export function readUdpKernelDrops(port: number, proc = '/proc'): number | undefined {
  let inodes: Set<number>;
  try {
    inodes = ownSocketInodes(proc);
  } catch {
    return undefined;
  }
  let drops: number | undefined;
  for (const table of ['udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`${proc}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const socket of parseProcNetUdp(text)) {
      if (socket.localPort === port && inodes.has(socket.inode)) drops = (drops ?? 0) + socket.drops;
    }
  }
  return drops;
}

import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../core/index.js';
import { SyslogServer, syslogHandler, type DeadLetter, type EventSink } from '../../collectors/index.js';
import { eventually } from '../support/eventually.js';

const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const peer = { address: '10.1.2.3', port: 514 };

/** A plain fake of the sink's write: records each call's events. */
function recordingSink() {
  const writes: ShouwangEvent[][] = [];
  const sink = { write: async (events: readonly ShouwangEvent[]) => (writes.push([...events]), { deadLettered: [] }) } as unknown as EventSink;
  const letters: DeadLetter[][] = [];
  const deadLetters = { write: async (batch: readonly DeadLetter[]) => void letters.push([...batch]) };
  return { sink, deadLetters, writes, letters };
}

describe('syslog messages of one read, handled as a batch', () => {
  it('gives each message the id it had one by one: sha256 of source, sender#sha256(message)', async () => {
    const lines = ['<38>Nov 26 10:00:00 web01 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2', '<13>Nov 26 10:00:01 web01 app: 你好'];
    const one = recordingSink();
    const handler = syslogHandler({ source: 'syslog', sink: one.sink, assets, deadLetters: one.deadLetters });
    for (const line of lines) await handler(Buffer.from(line), peer, 'tcp');
    const batched = recordingSink();
    await syslogHandler({ source: 'syslog', sink: batched.sink, assets, deadLetters: batched.deadLetters })
      .batch!(lines.map((line) => ({ message: Buffer.from(line) })), peer, 'tcp');
    expect(batched.writes).toHaveLength(1);
    const ids = batched.writes[0]!.map((event) => event.id);
    expect(ids).toEqual(one.writes.flat().map((event) => event.id));
    // The formula itself, so a spool written by an earlier version still deduplicates.
    const digest = createHash('sha256').update(lines[0]!).digest('base64url');
    expect(ids[0]).toBe(createHash('sha256').update(`syslog\u0000${peer.address}#${digest}\u0000`).digest('base64url').slice(0, 27));
  });

  it('keeps what a message alone would get: the truncated tag and size, dead letters with their reason', async () => {
    const { sink, deadLetters, writes, letters } = recordingSink();
    await syslogHandler({ source: 'syslog', sink, assets, deadLetters }).batch!([
      { message: Buffer.from('<13>Nov 26 10:00:00 web01 app: cut here'), originalBytes: 99999 },
      { message: Buffer.from('not syslog at all') },
      { message: Buffer.from('<13>Nov 26 10:00:02 web01 app: whole') },
    ], peer, 'tcp');
    expect(writes.flat().map((event) => event.message)).toEqual(['cut here', 'whole']);
    expect(writes.flat()[0]!.tags).toEqual(['truncated']);
    expect(writes.flat()[0]!.log).toMatchObject({ original_size: 99999 });
    expect(writes.flat()[1]!.tags).toBeUndefined();
    expect(letters.flat()).toHaveLength(1);
    expect(letters.flat()[0]).toMatchObject({ source: 'syslog', position: '10.1.2.3:514', raw: 'not syslog at all' });
  });

  it('writes the messages of one TCP read to the sink together, not one write per message', async () => {
    const { sink, deadLetters, writes } = recordingSink();
    const server = new SyslogServer({ tcpPort: 0, onMessage: syslogHandler({ source: 'syslog', sink, assets, deadLetters }) });
    await server.start();
    try {
      const socket = connect(server.ports.tcp!, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.end(Array.from({ length: 200 }, (_, n) => `<13>Nov 26 10:00:00 web01 app: line ${n}\n`).join(''));
      await eventually(() => expect(writes.flat()).toHaveLength(200));
      expect(writes.length).toBeLessThan(200);
      expect(writes.flat().map((event) => event.message)).toEqual(Array.from({ length: 200 }, (_, n) => `line ${n}`));
    } finally {
      await server.close();
    }
  });
});

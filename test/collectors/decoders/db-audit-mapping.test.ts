import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../../core/index.js';
import { decodeRecordLine, FileDeadLetterSink, FileTailer, HttpSource, type FileSourceConfig, type TailSink } from '../../../collectors/index.js';

// System A (gaj-jwzh) owns 10.40.1.11, the database client; system B (gaj-hzgl) owns the server gaj-hzgl-db01.
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const CLIENT_OF_A = '10.40.1.11';
const SERVER_OF_B = 'gaj-hzgl-db01';
const root = mkdtempSync(join(tmpdir(), 'shouwang-dbmap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const records: Record<string, string> = {
  'mariadb-audit': `20261126 10:00:00,,app,${CLIENT_OF_A},5,0,CONNECT,hr,,0`,
  'mysql-json-audit': `{"timestamp":"2026-11-26 10:00:00","id":1,"class":"connection","event":"connect","connection_id":5,"account":{"user":"app","host":"${CLIENT_OF_A}"},"login":{"user":"app","os":"","ip":"${CLIENT_OF_A}","proxy":""},"connection_data":{"connection_type":"tcp/ip","status":0,"db":"hr"}}`,
  pgaudit: `2026-11-26 10:00:00.000 CST [5] app@hr LOG:  connection received: host=${CLIENT_OF_A} port=5000`,
  'pgaudit-csv': `2026-11-26 10:00:00.000 UTC,"app","hr",1762,"${CLIENT_OF_A}:5000",6b08737e.6e2,5,"SELECT",2026-11-26 10:00:00 UTC,3/5,0,ERROR,42P01,"relation ""nope"" does not exist",,,,,,"select * from nope",15,,"psql","client backend",,0`,
};

async function tail(format: string, text: string, host: string | undefined): Promise<ShouwangEvent[]> {
  const dir = mkdtempSync(join(root, 'case-'));
  writeFileSync(join(dir, 'audit.log'), `${text}\n`);
  const taken: ShouwangEvent[] = [];
  const sink: TailSink = { saturated: false, write: async (events) => void taken.push(...events) };
  const source: FileSourceConfig = {
    id: 'db', paths: [join(dir, '*.log')], format, encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096, ...(host ? { host } : {}),
  };
  const tailer = await FileTailer.start({ source, sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath: join(dir, 'cp.json') });
  try {
    await tailer.nextPoll();
    await tailer.nextPoll();
  } finally {
    await tailer.close();
  }
  return taken;
}

describe('database audit records map to the server, never to the client', () => {
  it.each(Object.keys(records))('%s: a client of system A read from a source of system B is B’s event', async (format) => {
    const [event] = await tail(format, records[format]!, SERVER_OF_B);
    expect(event?.source?.ip).toBe(CLIENT_OF_A);
    expect(event).toMatchObject({ host: { name: SERVER_OF_B }, shouwang: { system: 'gaj-hzgl', department: 'gaj', source: 'db' } });
  });

  it.each(Object.keys(records))('%s: without a server host the record is an unknown asset, flagged, and not A’s', async (format) => {
    const [event] = await tail(format, records[format]!, undefined);
    expect(event?.source?.ip).toBe(CLIENT_OF_A);
    expect(event?.shouwang).toEqual({ unknown_asset: true, source: 'db' });
  });

  it('a source host not in the inventory does not fall back to the client', async () => {
    const [event] = await tail('pgaudit', records.pgaudit!, 'db-not-in-inventory');
    expect(event?.shouwang).toEqual({ unknown_asset: true, source: 'db' });
  });

  it('an HTTP source with host and logLinePrefix: the %h client stays source.ip, the event is the server’s', async () => {
    const dir = mkdtempSync(join(root, 'http-'));
    const taken: ShouwangEvent[] = [];
    const sink = { saturated: false, write: async (events: readonly ShouwangEvent[]) => (taken.push(...events), { deadLettered: [] }), flush: async () => undefined };
    const token = 'pg-token-0123456789abcdef';
    const source = new HttpSource({
      port: 0, sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')),
      sources: [
        { id: 'pg-b', token, format: 'pgaudit', host: SERVER_OF_B, logLinePrefix: '%m [%p] %u@%d %h ' },
        { id: 'pg-none', token: `${token}-2`, format: 'pgaudit', logLinePrefix: '%m [%p] %u@%d %h ' },
      ],
    });
    await source.start();
    try {
      const line = `2026-11-26 10:00:00.000 CST [5] app@hr ${CLIENT_OF_A} LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<not logged>`;
      for (const [id, bearer] of [['pg-b', token], ['pg-none', `${token}-2`]]) {
        const response = await fetch(`http://127.0.0.1:${source.port}/ingest/${id}`, {
          method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'text/plain' }, body: `${line}\n`,
        });
        expect(response.status).toBe(200);
      }
    } finally {
      await source.close();
    }
    expect(taken.map((e) => [e.shouwang?.source, e.source?.ip, (e.db as { name?: string }).name, e.shouwang?.system ?? 'unknown'])).toEqual([
      ['pg-b', CLIENT_OF_A, 'hr', 'gaj-hzgl'],
      ['pg-none', CLIENT_OF_A, 'hr', 'unknown'],
    ]);
  });

  it('HTTP and `shouwang ingest` records take the server from the host option the same way', () => {
    const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };
    const line = { text: records.pgaudit!, position: 'line:1' };
    const withHost = decodeRecordLine(line, 'db', assets, context, 'pgaudit', SERVER_OF_B);
    expect(withHost.ok && withHost.event.shouwang).toEqual({ system: 'gaj-hzgl', department: 'gaj', mlps_level: expect.any(Number), source: 'db' });
    const without = decodeRecordLine(line, 'db', assets, context, 'pgaudit');
    expect(without.ok && without.event.shouwang).toEqual({ unknown_asset: true, source: 'db' });
    // Other datasets keep mapping by source.ip where it is the event's own host (an access log's is not affected here).
    const web = decodeRecordLine({ text: `${CLIENT_OF_A} - - [26/Nov/2026:10:00:00 +0800] "GET / HTTP/1.1" 200 5 "-" "curl"`, position: 'line:2' }, 'web', assets, context, 'access-log');
    expect(web.ok && web.event.shouwang).toMatchObject({ system: 'gaj-jwzh' });
  });
});

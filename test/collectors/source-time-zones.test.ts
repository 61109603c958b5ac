import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory, parseInventory, type Inventory, type ShouwangEvent } from '../../core/index.js';
import {
  FileDeadLetterSink, FileTailer, HttpSource, resolveFormat, syslogHandler, type FileSourceConfig, type TailSink,
} from '../../collectors/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-zones-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A MariaDB server_audit line: its time has no zone. */
const AUDIT = "20261126 10:00:01,db01,app,10.0.0.5,12,40,QUERY,hr,'select 1',0";
const AT_DEFAULT = '2026-11-26T02:00:01.000Z'; // read at +08:00
const AT_UTC = '2026-11-26T10:00:01.000Z'; // read at +00:00: 8 h later
const now = new Date('2026-11-27T00:00:00Z');

/** The demo inventory with a system whose MariaDB host `db01` logs in UTC (inventory `logSources[].utcOffset`). */
function inventoryWithUtcHost(logSource: Record<string, unknown>): Inventory {
  const base = loadInventory('config/inventory.demo.yaml');
  const system = base.systems[0]!;
  return parseInventory({
    departments: base.departments,
    systems: [{ ...system, hosts: [...system.hosts, 'db01'], logSources: [logSource] }, ...base.systems.slice(1)],
  }, 'test inventory');
}

const timeOf = (decoded: ReturnType<ReturnType<typeof resolveFormat>['decode']>) => (decoded.ok ? decoded.event['@timestamp'] : decoded.reason);

describe('time zones per source', () => {
  const plain = new AssetIndex(loadInventory('config/inventory.demo.yaml'));

  it('a MariaDB audit line from a source stating +00:00 lands 8 h later than the same line at the default', () => {
    const line = { text: AUDIT, position: 'line:1' };
    expect(timeOf(resolveFormat({ source: 'db', format: 'mariadb-audit', assets: plain }).decode(line, { now }))).toBe(AT_DEFAULT);
    expect(timeOf(resolveFormat({ source: 'db', format: 'mariadb-audit', assets: plain, utcOffset: '+00:00' }).decode(line, { now }))).toBe(AT_UTC);
    // collect.utcOffset is only the fallback: a source's own zone wins.
    expect(timeOf(resolveFormat({ source: 'db', format: 'mariadb-audit', assets: plain, utcOffset: '+00:00', defaultUtcOffset: '+09:00' })
      .decode(line, { now }))).toBe(AT_UTC);
  });

  it('the inventory log source of the host states its zone: the record names db01, so it is read at +00:00; other datasets keep the default', () => {
    const assets = new AssetIndex(inventoryWithUtcHost({ dataset: 'mariadb.audit', host: 'db01', utcOffset: '+00:00' }));
    const audit = resolveFormat({ source: 'db', format: 'mariadb-audit', assets });
    expect(timeOf(audit.decode({ text: AUDIT, position: '1' }, { now }))).toBe(AT_UTC);
    // Its syslog (another dataset) is not covered by that log source.
    const syslog = resolveFormat({ source: 'sys', format: 'syslog', assets });
    expect(timeOf(syslog.decode({ text: 'Nov 26 10:00:01 db01 sshd[1]: hello', position: '1' }, { now }))).toBe(AT_DEFAULT);
    // A source that states a zone itself wins over the inventory.
    const stated = resolveFormat({ source: 'db', format: 'mariadb-audit', assets, utcOffset: '+08:00' });
    expect(timeOf(stated.decode({ text: AUDIT, position: '1' }, { now }))).toBe(AT_DEFAULT);
    // A time with its own zone is not moved.
    const json = resolveFormat({ source: 'j', format: 'json', assets });
    expect(timeOf(json.decode({ text: '{"@timestamp":"2026-11-26T10:00:01+08:00","host":{"name":"db01"}}', position: '1' }, { now }))).toBe(AT_DEFAULT);
  });

  it('a log source without a host covers every host of its system; one without a dataset every dataset', () => {
    const assets = new AssetIndex(inventoryWithUtcHost({ utcOffset: '+00:00' }));
    expect(assets.utcOffset('db01', 'syslog')).toBe('+00:00');
    expect(assets.utcOffset('DB01', undefined)).toBe('+00:00');
    expect(assets.utcOffset('nobody', 'syslog')).toBeUndefined();
    const syslog = resolveFormat({ source: 'sys', format: 'syslog', assets });
    expect(timeOf(syslog.decode({ text: 'Nov 26 10:00:01 db01 sshd[1]: hello', position: '1' }, { now }))).toBe(AT_UTC);
  });

  it('a record without a host takes the zone of the source’s host (pgaudit with `host`)', () => {
    const assets = new AssetIndex(inventoryWithUtcHost({ host: 'db01', utcOffset: '+00:00' }));
    const pg = resolveFormat({ source: 'pg', format: 'pgaudit', assets, host: 'db01', logLinePrefix: '%t [%p] ' });
    const decoded = pg.decode({ text: '2026-11-26 10:00:01 [7] LOG:  checkpoint starting: time', position: '1' }, { now });
    expect(timeOf(decoded)).toBe(AT_UTC);
  });

  it('collect.files[].utcOffset: a tailed MariaDB audit file on UTC is read at +00:00', async () => {
    const read = async (utcOffset: string | undefined) => {
      const caseDir = mkdtempSync(join(dir, 'tail-'));
      writeFileSync(join(caseDir, 'audit.log'), `${AUDIT}\n`);
      const taken: ShouwangEvent[] = [];
      const sink: TailSink = { saturated: false, write: async (events) => void taken.push(...events) };
      const source: FileSourceConfig = {
        id: 'db', paths: [join(caseDir, '*.log')], format: 'mariadb-audit', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096,
        ...(utcOffset ? { utcOffset } : {}),
      };
      const tailer = await FileTailer.start({ source, sink, assets: plain, deadLetters: new FileDeadLetterSink(join(caseDir, 'dead')), checkpointPath: join(caseDir, 'cp.json') });
      try {
        await tailer.nextPoll();
        await tailer.nextPoll();
      } finally {
        await tailer.close();
      }
      return taken.map((event) => event['@timestamp']);
    };
    expect(await read(undefined)).toEqual([AT_DEFAULT]);
    expect(await read('+00:00')).toEqual([AT_UTC]);
  });

  it('collect.http.sources[].utcOffset: the same line over HTTP from a source on UTC', async () => {
    const taken: ShouwangEvent[] = [];
    const http = new HttpSource({
      port: 0, assets: plain, deadLetters: new FileDeadLetterSink(join(dir, 'http-dead')),
      sink: { saturated: false, write: async (events) => (taken.push(...events), { deadLettered: [] }), flush: async () => undefined },
      sources: [
        { id: 'utc', token: 'utc-token-0123456789', format: 'mariadb-audit', utcOffset: '+00:00' },
        { id: 'cst', token: 'cst-token-0123456789', format: 'mariadb-audit' },
      ],
    });
    await http.start();
    try {
      for (const [id, token] of [['utc', 'utc-token-0123456789'], ['cst', 'cst-token-0123456789']]) {
        const response = await fetch(`http://127.0.0.1:${http.port}/ingest/${id}`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: `${AUDIT}\n`,
        });
        expect(response.status).toBe(200);
      }
    } finally {
      await http.close();
    }
    expect(taken.map((event) => [event.shouwang?.source, event['@timestamp']])).toEqual([['utc', AT_UTC], ['cst', AT_DEFAULT]]);
  });

  it('a syslog sender’s own zone wins over the inventory’s for its host', async () => {
    const assets = new AssetIndex(inventoryWithUtcHost({ host: 'db01', utcOffset: '+00:00' }));
    const taken: ShouwangEvent[] = [];
    const options = {
      source: 'syslog', assets, deadLetters: new FileDeadLetterSink(join(dir, 'syslog-dead')),
      sink: { write: async (events: readonly ShouwangEvent[]) => (taken.push(...events), { deadLettered: [] }) } as never,
    };
    const message = Buffer.from('<38>Nov 26 10:00:01 db01 sshd[1]: hello');
    await syslogHandler(options)(message, { address: '10.9.9.9', port: 1 }, 'udp');
    await syslogHandler({ ...options, senders: [{ address: '10.9.9.9', utcOffset: '+08:00' }] })(message, { address: '10.9.9.9', port: 1 }, 'udp');
    expect(taken.map((event) => event['@timestamp'])).toEqual([AT_UTC, AT_DEFAULT]);
  });
});

describe('the configured time zone (timeZone)', () => {
  const plain = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
  const syslog = (timeZone?: string) => resolveFormat({ source: 'syslog', format: 'syslog', assets: plain, ...(timeZone ? { timeZone } : {}) });
  /** RFC 3164: no year, no zone. */
  const line = (text: string) => ({ text, position: 'line:1' });

  it('reads an RFC 3164 syslog line without zone in the configured zone: Asia/Shanghai by default, UTC when set', () => {
    const text = line('<38>Nov 26 10:00:01 gaj-jwzh-app01 sshd[1]: Accepted password for ops from 10.0.0.1 port 22 ssh2');
    expect(timeOf(syslog().decode(text, { now }))).toBe('2026-11-26T02:00:01.000Z');
    expect(timeOf(syslog('Asia/Shanghai').decode(text, { now }))).toBe('2026-11-26T02:00:01.000Z');
    expect(timeOf(syslog('UTC').decode(text, { now }))).toBe('2026-11-26T10:00:01.000Z');
  });

  it('Europe/Berlin: a line gets the offset of its own time, also when it arrives after the daylight-saving switch', () => {
    // Arrives on 2026-03-29 just after spring forward (+02:00), written just before it (+01:00).
    const after = new Date('2026-03-29T01:05:00Z');
    expect(timeOf(syslog('Europe/Berlin').decode(line('<38>Mar 29 01:59:00 web01 app[1]: before'), { now: after }))).toBe('2026-03-29T00:59:00.000Z');
    expect(timeOf(syslog('Europe/Berlin').decode(line('<38>Mar 29 03:04:00 web01 app[1]: after'), { now: after }))).toBe('2026-03-29T01:04:00.000Z');
    // A MariaDB audit line of July read in November: summer time (+02:00), not November's +01:00.
    const july = line("20260715 10:00:01,db01,app,10.0.0.5,12,40,QUERY,hr,'select 1',0");
    expect(timeOf(resolveFormat({ source: 'db', format: 'mariadb-audit', assets: plain, timeZone: 'Europe/Berlin' }).decode(july, { now })))
      .toBe('2026-07-15T08:00:01.000Z');
  });

  it('an offset stated anywhere (collect.utcOffset, the source, the sender) still wins over the zone', () => {
    const text = line('<38>Nov 26 10:00:01 gaj-jwzh-app01 sshd[1]: x');
    const spec = { source: 'syslog', format: 'syslog', assets: plain, timeZone: 'Europe/Berlin' };
    expect(timeOf(resolveFormat({ ...spec, defaultUtcOffset: '+00:00' }).decode(text, { now }))).toBe('2026-11-26T10:00:01.000Z');
    expect(timeOf(resolveFormat({ ...spec, utcOffset: '+08:00' }).decode(text, { now }))).toBe('2026-11-26T02:00:01.000Z');
    expect(timeOf(resolveFormat(spec).decode(text, { now, utcOffset: '-05:00' }))).toBe('2026-11-26T15:00:01.000Z');
  });
});

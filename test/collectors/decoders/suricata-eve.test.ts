import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecordLine } from '../../../collectors/index.js';
import { AssetIndex, loadInventory } from '../../../core/index.js';
import { EmbeddedStore } from '../../../store/index.js';
import { runSuricata, suricataUnavailable, tcpExchangePcap } from '../../harness/suricata.js';
import { CLI } from '../../harness/built.js';

/**
 * Suricata EVE JSON → ECS. The sample lines are shaped as Suricata's "Eve JSON Format" documentation
 * shows them; the last suite runs Debian's suricata on packets of a TCP exchange and stores its eve.json.
 */
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const context = { utcOffset: '+08:00', now: new Date('2026-11-30T00:00:00Z') };
const decode = (line: string) => decodeRecordLine({ text: line, position: '1' }, 'eve-test', assets, context, 'suricata-eve');
const TUPLE = '"src_ip":"203.0.113.50","src_port":41000,"dest_ip":"10.40.1.11","dest_port":80,"proto":"TCP"';

describe('suricata-eve format', () => {
  it('alert: kind alert, intrusion_detection, rule id/name/category, severity, a 64-bit flow id kept exactly', () => {
    const d = decode(`{"timestamp":"2026-11-26T10:00:00.123456+0800","flow_id":1234567890123456789,"in_iface":"eth0","event_type":"alert",${TUPLE},"community_id":"1:abc=","alert":{"action":"allowed","gid":1,"signature_id":2100498,"rev":7,"signature":"GPL ATTACK_RESPONSE id check returned root","category":"Potentially Bad Traffic","severity":2},"app_proto":"http"}`);
    expect(d.ok && d.event).toMatchObject({
      '@timestamp': '2026-11-26T02:00:00.123Z',
      event: { kind: 'alert', dataset: 'suricata.eve', category: ['network', 'intrusion_detection'], type: ['allowed'], action: 'allowed', severity: 2 },
      rule: { id: '2100498', name: 'GPL ATTACK_RESPONSE id check returned root', category: 'Potentially Bad Traffic' },
      source: { ip: '203.0.113.50', port: 41000 }, destination: { ip: '10.40.1.11', port: 80 }, network: { transport: 'tcp', protocol: 'http', community_id: '1:abc=' },
      observer: { product: 'Suricata', type: 'ids' }, suricata: { eve: { flow_id: '1234567890123456789' } },
      shouwang: { system: 'gaj-jwzh' },
    });
  });

  it('a blocked alert (IPS) is denied', () => {
    const d = decode(`{"timestamp":"2026-11-26T10:00:00+0800","event_type":"alert",${TUPLE},"alert":{"action":"blocked","signature_id":1,"signature":"x","severity":1}}`);
    expect(d.ok && d.event.event).toMatchObject({ type: ['denied'], action: 'blocked', severity: 1 });
  });

  it('http, dns (v2 and the queries array), tls, flow, anomaly', () => {
    const http = decode(`{"timestamp":"2026-11-26T10:00:01.000000+0800","event_type":"http",${TUPLE},"http":{"hostname":"www.example.gov.cn","url":"/login.php","http_user_agent":"curl/8.0","http_method":"POST","protocol":"HTTP/1.1","status":403,"length":120}}`);
    expect(http.ok && http.event).toMatchObject({ event: { category: ['network', 'web'], type: ['access', 'protocol'] }, url: { original: '/login.php', domain: 'www.example.gov.cn' }, http: { request: { method: 'POST' }, response: { status_code: 403 } }, user_agent: { original: 'curl/8.0' } });
    const dns = decode('{"timestamp":"2026-11-26T10:00:02+0800","event_type":"dns","src_ip":"10.40.1.11","src_port":5353,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","id":16000,"rrname":"evil.example","rrtype":"A","tx_id":0}}');
    expect(dns.ok && dns.event).toMatchObject({ dns: { type: 'query', id: '16000', question: { name: 'evil.example', type: 'A' } }, network: { transport: 'udp' } });
    const dns3 = decode('{"timestamp":"2026-11-26T10:00:02+0800","event_type":"dns","src_ip":"10.40.1.11","dest_ip":"10.0.0.53","proto":"UDP","dns":{"version":3,"type":"request","id":1,"queries":[{"rrname":"a.example","rrtype":"AAAA"}]}}');
    expect(dns3.ok && dns3.event).toMatchObject({ dns: { question: { name: 'a.example', type: 'AAAA' } } });
    const tls = decode(`{"timestamp":"2026-11-26T10:00:03+0800","event_type":"tls",${TUPLE},"tls":{"subject":"CN=example","issuerdn":"CN=Test CA","version":"TLS 1.2","sni":"example.gov.cn","ja3":{"hash":"abc"}}}`);
    expect(tls.ok && tls.event).toMatchObject({ tls: { version: 'TLS 1.2', client: { server_name: 'example.gov.cn', ja3: { hash: 'abc' } }, server: { subject: 'CN=example', issuer: 'CN=Test CA' } } });
    const flow = decode(`{"timestamp":"2026-11-26T10:00:04+0800","event_type":"flow",${TUPLE},"flow":{"pkts_toserver":5,"pkts_toclient":4,"bytes_toserver":400,"bytes_toclient":900,"start":"2026-11-26T09:59:00.000000+0800","end":"2026-11-26T10:00:00.000000+0800","state":"closed","reason":"timeout"}}`);
    expect(flow.ok && flow.event).toMatchObject({ event: { type: ['connection', 'end'], start: '2026-11-26T01:59:00.000Z' }, source: { packets: 5, bytes: 400 }, destination: { bytes: 900 } });
    const anomaly = decode(`{"timestamp":"2026-11-26T10:00:05+0800","event_type":"anomaly",${TUPLE},"anomaly":{"type":"decode","event":"decoder.ipv4.trunc_pkt"}}`);
    expect(anomaly.ok && anomaly.event).toMatchObject({ event: { kind: 'alert', reason: 'decoder.ipv4.trunc_pkt', action: 'anomaly' } });
  });

  it.each([
    ['{"event_type":"alert"', 'invalid JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"timestamp":"2026-11-26T10:00:00+0800"}', 'no event_type'],
    ['{"timestamp":"yesterday","event_type":"alert"}', 'timestamp'],
    ['{"timestamp":"2026-11-26T10:00:00+0800","event_type":"nonsense"}', 'event_type'],
    ['{"timestamp":"2026-11-26T10:00:00+0800","event_type":"alert","src_ip":"999.1.1.1"}', 'src_ip'],
    ['{"timestamp":"2026-11-26T10:00:00+0800","event_type":"alert","dest_port":70000}', 'dest_port'],
  ])('a broken EVE record is a dead letter with the reason: %s', (line, reason) => {
    const d = decode(line);
    expect(d.ok ? 'accepted' : d.reason).toContain(reason);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'shouwang-suricata-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ingestToStore(file: string, db: string) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHOUWANG_')));
  const env = { ...clean, SHOUWANG_DATA_DIR: dir, SHOUWANG_LOG_LEVEL: 'warn', SHOUWANG_EMBEDDED_PATH: join(dir, db) };
  return spawnSync('node', [CLI, 'ingest', file, '--format', 'suricata-eve', '--source', 'ids'], { env, encoding: 'utf8', timeout: 60_000 });
}

async function storedEvents(db: string) {
  const store = new EmbeddedStore({ path: join(dir, db) });
  try {
    return (await store.events.search({}, { size: 200 })).items;
  } finally {
    await store.close();
  }
}

describe('eve.json through the collector into the store', () => {
  it('sample lines: each stored, a broken one a dead letter', async () => {
    const file = join(dir, 'eve.json');
    writeFileSync(file, [
      `{"timestamp":"2026-11-26T10:00:00.000000+0800","event_type":"alert",${TUPLE},"alert":{"action":"allowed","signature_id":9000001,"signature":"SHOUWANG test","category":"Misc","severity":1}}`,
      `{"timestamp":"2026-11-26T10:00:01.000000+0800","event_type":"flow",${TUPLE},"flow":{"pkts_toserver":1}}`,
      '{"timestamp":"2026-11-26T10:00:01', '',
    ].join('\n'));
    const result = ingestToStore(file, 'sample.db');
    expect(result.stdout).toMatch(/写入 written 2, 重复 duplicates 0, 死信 dead letters 1/);
    const events = await storedEvents('sample.db');
    expect(events.find((e) => e.event?.kind === 'alert')).toMatchObject({ rule: { id: '9000001' }, shouwang: { system: 'gaj-jwzh', source: 'ids' } });
  });

  it('real suricata: a local rule fires on a TCP exchange, its eve.json stored', async (ctx) => {
    const missing = await suricataUnavailable();
    if (missing) ctx.skip(missing);
    const pcap = join(dir, 'exchange.pcap');
    writeFileSync(pcap, tcpExchangePcap({ client: '203.0.113.50', server: '10.40.1.11', port: 80, request: 'GET /shouwang-probe HTTP/1.1\r\nHost: x\r\n\r\n' }));
    const eve = await runSuricata({ pcap, dir: join(dir, 'suricata'), rules: ['alert http any any -> any any (msg:"SHOUWANG probe"; content:"/shouwang-probe"; http_uri; sid:9000002; rev:1;)'] });
    const result = ingestToStore(eve, 'real.db');
    expect(result.stdout).toMatch(/死信 dead letters 0/);
    const events = await storedEvents('real.db');
    expect(events.find((e) => e.event?.kind === 'alert')).toMatchObject({ rule: { id: '9000002', name: 'SHOUWANG probe' }, destination: { ip: '10.40.1.11', port: 80 } });
    expect(events.some((e) => e.event?.action === 'http')).toBe(true);
  }, 180_000);
});

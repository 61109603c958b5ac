import { readFileSync } from 'node:fs';
import { AssetIndex, loadInventory, seededRandom } from '../core/index.js';
import { decodeLine, decodeRecordLine, RECORD_FORMATS } from '../collectors/index.js';
import { storableEvent } from '../store/index.js';

/**
 * `fuzz`: random bytes, truncations and mutations of real fixture lines, and hostile JSON (deep,
 * wide, typed ECS fields of the wrong type, `__proto__` keys) through each decoder, then the store's
 * own check. Every input must end stored-shaped or as a dead letter; nothing may throw. A fixed seed
 * makes any finding replayable: `npm run bench -- fuzz` (FUZZ_SEED, FUZZ_COUNT override).
 */

// Beside the checkout (as the other benches read them), or beside the worktrees' folder.
const FIXTURES = 'test/fixtures/logs';
const FIXTURE_FILES = [
  'loghub/Linux/Linux_2k.log', 'loghub/OpenSSH/OpenSSH_2k.log', 'elastic-beats-filebeat-tests/system-auth/test.log',
  'loghub/Apache/Apache_2k.log', 'elastic-examples-apache_logs/apache_logs', 'elastic-beats-filebeat-tests/nginx-access/test.log',
  'elastic-beats-filebeat-tests/auditd/test.log', 'elastic-beats-filebeat-tests/auditd/useradd.log', 'pgaudit/pgaudit_audit_lines.txt',
];
/** Boundary devices (firewalls, IDS): one line of each shape the boundary decoders read. */
export const BOUNDARY_SAMPLES: readonly string[] = [
  '<4>Nov 19 10:15:01 edge-fw01 kernel: [123456.789012] IPT-DROP-IN: IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=203.0.113.7 DST=10.0.0.5 LEN=60 TOS=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0',
  '<6>Nov 19 10:15:02 edge-fw01 kernel: nft accept: IN=eth1 OUT=eth0 SRC=2001:db8::5 DST=2001:db8::53 LEN=72 PROTO=UDP SPT=40000 DPT=53 LEN=32',
  '<134>Nov 19 10:20:00 edge-fw01 CEF:0|Security\\|Corp|Edge FW|7.1|100|Denied a\\\\b|8|src=203.0.113.9 spt=4444 dst=10.0.0.5 dpt=3389 proto=TCP act=deny cs1Label=Rule Name cs1=block rdp msg=a\\=b c\\nd',
  '<134>Nov 19 10:21:00 edge-fw01 LEEF:1.0|Acme|Firewall|3.2|deny|src=203.0.113.10\tdst=10.0.0.6\tsrcPort=5000\tdstPort=445\tproto=6\tsev=7',
  '<134>Nov 19 10:21:00 edge-fw01 LEEF:2.0|Acme|Firewall|3.2|allow|^|src=203.0.113.10^dst=10.0.0.6^action=permit',
  '<134>Nov 19 10:22:00 edge-fw01 fwd[7]: type=traffic srcip=203.0.113.11 srcport=6000 dstip=10.0.0.7 dstport=8080 proto=17 action="drop" policyname="Block Inbound"',
  '<190>Nov 19 2026 10:23:00 usg01 %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, source-ip=203.0.113.12, source-port=50000, destination-ip=10.0.0.8, destination-port=23, time=2026/11/19 10:23:00, source-zone=untrust, destination-zone=trust, rule-name=deny_telnet.',
  '<189>Oct  9 14:59:04 2026 secpath01 %%10SHELL/5/SHELL_LOGIN(l): VTY logged in from 192.168.1.21.',
  '<134>Nov 19 10:24:00 sangfor01 fwlog: 日志类型:服务控制或应用控制, 用户:(null), 源IP:192.168.1.133, 源端口:38378, 目的IP:222.46.22.226, 目的端口:10240, 系统动作:拒绝',
  '{"timestamp":"2026-11-19T10:00:00.123456+0800","flow_id":1234567890123456789,"event_type":"alert","src_ip":"203.0.113.50","src_port":41000,"dest_ip":"10.40.1.11","dest_port":80,"proto":"TCP","alert":{"action":"allowed","signature_id":2100498,"signature":"GPL test","category":"Misc","severity":2},"app_proto":"http"}',
  '{"timestamp":"2026-11-19T10:00:02+0800","event_type":"dns","src_ip":"10.40.1.11","dest_ip":"10.0.0.53","proto":"UDP","dns":{"version":3,"type":"request","id":1,"queries":[{"rrname":"a.example","rrtype":"AAAA"}]}}',
];

/** Formats without a fixture file get a few real-shaped lines of their own. */
const SAMPLES = [
  '20261126 10:00:00,db01,root,localhost,5,0,CONNECT,,,0',
  "20261126 10:00:00,db01,app,10.0.0.5,7,12,QUERY,hr,'select * from salary where id=1',0",
  '{"audit_record":{"name":"Connect","record":"7_2024-09-03T01:53:14","timestamp":"2024-09-03T01:53:33Z","connection_id":"993","status":1045,"user":"wrong","priv_user":"","os_login":"","proxy_user":"","host":"","ip":"10.207.85.214","db":""}}',
  '2026-11-26 17:59:26.787 UTC,"auditor","postgres",1761,"::1:47056",6b08737e.6e1,2,"authentication",2026-11-26 17:59:26 UTC,3/4,0,FATAL,28P01,"password authentication failed for user ""auditor""",,,,,,,,,"","client backend",,0',
  '{"@timestamp":"2026-11-20T10:00:00Z","message":"login","host":{"name":"rsj-shbx-app01","ip":["10.0.0.1"]},"source":{"ip":"203.0.113.9","port":22}}',
  ...BOUNDARY_SAMPLES,
];
const KEYS = [
  '@timestamp', 'message', 'host', 'ip', 'name', 'source', 'port', 'destination', 'event', 'severity', 'user', 'related', 'hosts',
  'host.ip', 'source.port', 'a.b.c', 'labels', 'shouwang', 'log', 'tags', '__proto__', 'constructor', 'prototype', '', '.', 'x..y',
];
const TOKENS = ['{', '}', '[', ']', '"', '\\', ',', ':', '\u0000', '\uFFFD', '\uD800', '😀', '中文', '\t', '\r', ' ', 'null', '1e999', '-0', '"__proto__":'];

export type Rand = () => number;


const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const int = (rand: Rand, below: number) => Math.floor(rand() * below);

export function fixtureLines(): string[] {
  const lines = FIXTURE_FILES.flatMap((file) => {
    try {
      return readFileSync(`${FIXTURES}/${file}`, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(0, 300);
    } catch {
      return []; // a checkout without the shared fixtures still fuzzes the rest
    }
  });
  return [...lines, ...SAMPLES];
}

function randomValue(rand: Rand, depth: number): unknown {
  const roll = rand();
  if (depth > 0 && roll < 0.25) return randomObject(rand, depth - 1, 1 + int(rand, 5));
  if (depth > 0 && roll < 0.35) return Array.from({ length: int(rand, 4) }, () => randomValue(rand, depth - 1));
  if (roll < 0.5) return pick(rand, ['10.0.0.1', '2001:db8::1', '999.1.1.1', '', 'not-an-ip', '2026-11-20T10:00:00Z', 'x'.repeat(int(rand, 300))]);
  if (roll < 0.7) return pick(rand, [0, -1, 5, 22, 1.5, 1e300, -1e300, 2 ** 63, Number.MAX_SAFE_INTEGER]);
  if (roll < 0.8) return pick(rand, [true, false, null]);
  return pick(rand, TOKENS);
}

function randomObject(rand: Rand, depth: number, width: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < width; i += 1) {
    Object.defineProperty(out, pick(rand, KEYS) + (rand() < 0.2 ? `.${pick(rand, KEYS)}` : ''), {
      value: randomValue(rand, depth), enumerable: true, writable: true, configurable: true,
    });
  }
  return out;
}

function mutate(rand: Rand, text: string): string {
  let out = text;
  for (let n = 1 + int(rand, 3); n > 0; n -= 1) {
    const at = int(rand, out.length + 1);
    const roll = rand();
    if (roll < 0.3) out = out.slice(0, at); // truncated
    else if (roll < 0.55) out = out.slice(0, at) + pick(rand, TOKENS) + out.slice(at);
    else if (roll < 0.75) out = out.slice(0, at) + String.fromCharCode(int(rand, 0x10000)) + out.slice(at + 1);
    else if (roll < 0.9) out = out.slice(0, at) + out.slice(at + int(rand, 20));
    else out = out.slice(0, at) + out.slice(int(rand, out.length), at + int(rand, 40)) + out.slice(at);
  }
  return out;
}

const CACHE = new Map<string, string>();
/** The large inputs are the same text each time: built once, so the fuzz times the pipeline, not the generator. */
function cached(key: string, build: (key: string) => string): string {
  let text = CACHE.get(key);
  if (text === undefined) CACHE.set(key, (text = build(key)));
  return text;
}

/** One fuzz input: a kind chosen by the seed, so a failing index can be generated again. */
export function fuzzInput(rand: Rand, corpus: readonly string[]): string {
  const roll = rand();
  if (roll < 0.4) return mutate(rand, pick(rand, corpus));
  if (roll < 0.5) return Buffer.from(Array.from({ length: int(rand, 200) }, () => int(rand, 256))).toString(rand() < 0.5 ? 'utf8' : 'latin1');
  if (roll < 0.8) {
    const doc = { '@timestamp': pick(rand, ['2026-11-20T10:00:00Z', 'yesterday', 5]), ...randomObject(rand, 1 + int(rand, 5), 1 + int(rand, 8)) };
    const text = JSON.stringify(doc);
    return rand() < 0.3 ? mutate(rand, text) : text;
  }
  if (roll < 0.93) {
    // Mostly around the limit; now and then far past it (each costs its length to parse).
    const depth = rand() < 0.95 ? pick(rand, [31, 32, 33, 64]) : pick(rand, [1000, 6000]);
    return cached(`deep:${depth}:${rand() < 0.5}`, (key) => {
      const [open, close] = key.endsWith('true') ? ['{"a":', '}'] : ['[', ']'];
      return `{"@timestamp":"2026-11-20T10:00:00Z","deep":${open.repeat(depth)}1${close.repeat(depth)}}`;
    });
  }
  if (roll < 0.935) {
    const width = pick(rand, [998, 999, 1000, 1001]); // around maxFields, with @timestamp and deep counted
    return cached(`wide:${width}`, () => JSON.stringify({ '@timestamp': '2026-11-20T10:00:00Z', ...Object.fromEntries(Array.from({ length: width }, (_, i) => [`f${i}`, i])) }));
  }
  return `<13>Nov 20 10:00:00 host app[1]: ${mutate(rand, JSON.stringify(randomObject(rand, 3, 4)))}`;
}

export interface FuzzOutcome {
  inputs: number;
  stored: number;
  deadLettered: number;
  /** Inputs on which something threw: a decoder broke its promise, or the store check did. */
  escapes: number;
  /** The first 20 of them, each with its index in the seeded sequence. */
  escaped: { index: number; input: string; error: string }[];
}

/** Decode + enrich (+ the store's shape and type check, which expands dotted keys) for `count` seeded inputs. */
export function runFuzz(format: string, seed: number, count: number, corpus = fixtureLines()): FuzzOutcome {
  const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
  const rand = seededRandom(seed);
  const context = { utcOffset: '+08:00', now: new Date('2026-11-20T02:00:00Z') };
  const outcome: FuzzOutcome = { inputs: 0, stored: 0, deadLettered: 0, escapes: 0, escaped: [] };
  for (let index = 0; index < count; index += 1) {
    const text = fuzzInput(rand, corpus);
    const line = { text, position: String(index) };
    outcome.inputs += 1;
    try {
      const decoded = format === 'auto' ? decodeLine(line, 'fuzz', assets, context) : decodeRecordLine(line, 'fuzz', assets, context, format);
      // decodeLine/decodeRecordLine turn a throw into a dead letter; here that still counts as a finding.
      if (!decoded.ok && decoded.reason.startsWith('decoder failed')) throw new Error(decoded.reason);
      const prepared = decoded.ok ? storableEvent(decoded.event) : undefined;
      if (prepared && 'event' in prepared) {
        JSON.stringify(prepared.event); // what both stores do next
        outcome.stored += 1;
      } else {
        outcome.deadLettered += 1;
      }
    } catch (error) {
      outcome.escapes += 1;
      if (outcome.escaped.length < 20) outcome.escaped.push({ index, input: text.slice(0, 500), error: String((error as Error)?.stack ?? error) });
    }
  }
  return outcome;
}

export const FUZZ_FORMATS = ['auto', ...Object.keys(RECORD_FORMATS)];

export async function benchFuzz(): Promise<void> {
  const seed = Number(process.env.FUZZ_SEED ?? 20261206);
  const count = Number(process.env.FUZZ_COUNT ?? 1_000_000);
  const corpus = fixtureLines();
  console.log(`\nfuzz: ${count.toLocaleString('en')} inputs per decoder, seed ${seed} (${corpus.length} fixture lines to mutate)`);
  console.log('decoder              inputs/s    stored  dead-letter  escaped');
  let escapedTotal = 0;
  for (const format of FUZZ_FORMATS) {
    const started = process.hrtime.bigint();
    const outcome = runFuzz(format, seed, count, corpus);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    escapedTotal += outcome.escapes;
    console.log(`${format.padEnd(18)} ${Math.round(outcome.inputs / seconds).toLocaleString('en').padStart(10)} ${String(outcome.stored).padStart(9)} ${String(outcome.deadLettered).padStart(12)} ${String(outcome.escapes).padStart(8)}`);
    for (const found of outcome.escaped.slice(0, 3)) console.log(`  input #${found.index}: ${JSON.stringify(found.input.slice(0, 200))}\n  ${found.error.split('\n').slice(0, 3).join('\n  ')}`);
  }
  if (escapedTotal) process.exitCode = 1;
}

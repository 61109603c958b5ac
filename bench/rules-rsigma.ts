import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { isPlainObject } from '../core/index.js';
import { compileRuleSet, identityMapping, loadRuleDir, type CompiledRuleSet, type RuleDocument } from '../analyzers/index.js';
import { median } from './measure.js';

const RULES_DIR = 'test/fixtures/sigma/rules/linux/process_creation';
export const EVENTS = 20_000;
const ROUNDS = 5;

/** `rsigma` on PATH, else where `cargo install` puts it. */
function findRsigma(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v rsigma'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const cargo = join(homedir(), '.cargo', 'bin', 'rsigma');
  return existsSync(cargo) ? cargo : undefined;
}

/** One RSigma comparison: the rules (as files), the NDJSON lines, our compiled set over the same rules, and the RSigma pipeline that maps the rules' fields the way our mapping does (none: raw names). */
export interface RsigmaWorkload {
  title: string;
  documents: readonly RuleDocument[];
  lines: readonly string[];
  set: CompiledRuleSet;
  pipeline?: string;
}

/**
 * SigmaHQ's process-creation rules against RSigma (a Rust Sigma engine) on the same NDJSON events,
 * JSON parsing included on both sides, one core each. The events use the rules' own field names
 * (Image, CommandLine, ParentImage, User…), so neither engine needs a field mapping. RSigma's
 * start-up (reading and compiling the rules) is measured with one event and taken off.
 */
export async function benchRulesAgainstRsigma(): Promise<void> {
  const loaded = await loadRuleDir(RULES_DIR);
  const compiled = compileRuleSet(loaded.documents, { mapping: identityMapping() });
  const documents = compiled.rules.map((rule) => rule.document).slice(0, 100);
  const lines = syntheticProcessEvents(documents, EVENTS).map((event) => JSON.stringify(event));
  const set = compileRuleSet(documents, { mapping: identityMapping() });
  await compareWithRsigma({ title: `${documents.length} SigmaHQ process_creation rules (linux)`, documents, lines, set });
}

/** Our engine and, when installed, RSigma over the workload's lines: events/s of each, both match counts, the ratio. */
export async function compareWithRsigma(workload: RsigmaWorkload): Promise<void> {
  const { documents, lines, set } = workload;
  const rsigma = findRsigma();
  console.log(`\nrules vs RSigma: ${workload.title}, ${lines.length.toLocaleString('en-US')} NDJSON events, one core each`);

  const ourRound = () => {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    let matches = 0;
    for (const line of lines) matches += set.match(JSON.parse(line) as Record<string, unknown>).length;
    const { user, system } = process.cpuUsage(cpu);
    return { rate: lines.length / (Number(process.hrtime.bigint() - started) / 1e9), cpuRate: lines.length / Math.max((user + system) / 1e6, 1e-6), matches };
  };
  // Matches per rule id, untimed: equal totals could still hide two rules that disagree the other way.
  const ourPerRule = new Map<string, number>();
  for (const line of lines) for (const ref of set.match(JSON.parse(line) as Record<string, unknown>)) ourPerRule.set(ref.id, (ourPerRule.get(ref.id) ?? 0) + 1);
  // JSON.parse alone (per CPU-second, as the load changes wall time), to tell parsing from matching in our figure.
  const parseRound = () => {
    const cpu = process.cpuUsage();
    let fields = 0;
    for (const line of lines) fields += Object.keys(JSON.parse(line) as object).length;
    const { user, system } = process.cpuUsage(cpu);
    return fields > 0 ? lines.length / Math.max((user + system) / 1e6, 1e-6) : 0;
  };
  const parseShare = (cpuRates: number[], parseRates: number[]) =>
    console.log(`    of which JSON.parse alone: ${Math.round(median(parseRates)).toLocaleString('en-US')} events per CPU-second, ${Math.round((100 * median(cpuRates)) / median(parseRates))}% of our CPU time`);
  const ours = (label: string, rates: number[], matches: number) =>
    console.log(`  ${label.padEnd(42)} ${Math.round(median(rates)).toLocaleString('en-US').padStart(12)} events/s  ${matches} matches`);
  if (!rsigma) {
    const rounds = Array.from({ length: ROUNDS }, () => ({ ...ourRound(), parse: parseRound() }));
    ours('shouwang (compiled, JSON.parse per line)', rounds.map((r) => r.rate), rounds[0]!.matches);
    parseShare(rounds.map((r) => r.cpuRate), rounds.map((r) => r.parse));
    console.log('  rsigma: not installed (cargo install --locked rsigma); no ratio');
    return;
  }

  const dir = mkdtempSync(join(tmpdir(), 'shouwang-rsigma-'));
  try {
    const rulesDir = join(dir, 'rules');
    execFileSync('mkdir', ['-p', rulesDir]);
    for (const file of new Set(documents.map((doc) => doc.position.file))) symlinkSync(resolve(file), join(rulesDir, basename(file)));
    const all = join(dir, 'events.ndjson');
    const one = join(dir, 'one.ndjson');
    writeFileSync(all, `${lines.join('\n')}\n`);
    writeFileSync(one, `${lines[0]}\n`);
    const pipeline = workload.pipeline === undefined ? [] : ['-p', join(dir, 'pipeline.yml')];
    if (workload.pipeline !== undefined) writeFileSync(join(dir, 'pipeline.yml'), workload.pipeline);
    const evalArgs = [...rsigmaEvalArgs(rsigma, rulesDir), ...pipeline];
    const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).stdout.trim() !== '';
    const bash = spawnSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim() !== '';
    const run = (file: string) => {
      const started = process.hrtime.bigint();
      // One core, as our matcher is: taskset pins RSigma (and any threads it starts) to CPU 0.
      const [command, args] = taskset ? ['taskset', ['-c', '0', rsigma, ...evalArgs, '-e', `@${file}`]] : [rsigma, [...evalArgs, '-e', `@${file}`]];
      // bash's `times` prints its children's CPU time last: RSigma's, however loaded the machine is.
      const result = bash
        ? spawnSync('bash', ['-c', '"$@"; status=$?; times >&2; exit $status', 'bash', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 })
        : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.status !== 0) throw new Error(`rsigma failed (${result.status}): ${result.stderr.slice(0, 500)}`);
      const outputs = result.stdout.split('\n').filter((l) => l.trim().startsWith('{'));
      return { seconds, cpu: bash ? childCpuSeconds(result.stderr) : undefined, matches: outputs.length, outputs };
    };
    // Interleaved rounds (the machine is shared): each round times both, and its ratio is kept. Our
    // process is pinned to the same CPU for the rounds, so neither side gets a quieter core.
    const restore = taskset ? pinSelf() : undefined;
    const rounds = Array.from({ length: ROUNDS }, () => {
      const our = ourRound();
      const parse = parseRound();
      const startup = run(one);
      const full = run(all);
      const their = lines.length / Math.max(full.seconds - startup.seconds, 1e-6);
      const theirCpu = full.cpu === undefined || startup.cpu === undefined ? undefined : lines.length / Math.max(full.cpu - startup.cpu, 1e-6);
      return {
        our, parse, their, theirCpu, theirMatches: full.matches, outputs: full.outputs, ratio: our.rate / their,
        cpuRatio: theirCpu === undefined ? undefined : our.cpuRate / theirCpu,
      };
    });
    restore?.();
    const theirPerRule = new Map<string, number>();
    for (const output of rounds[0]!.outputs) {
      const id = String((JSON.parse(output) as { rule_id?: unknown }).rule_id);
      theirPerRule.set(id, (theirPerRule.get(id) ?? 0) + 1);
    }
    const differing = [...new Set([...ourPerRule.keys(), ...theirPerRule.keys()])]
      .filter((id) => ourPerRule.get(id) !== theirPerRule.get(id))
      .map((id) => `${id}: ${ourPerRule.get(id) ?? 0} ours, ${theirPerRule.get(id) ?? 0} rsigma`);
    const ourMatches = rounds[0]!.our.matches;
    const theirMatches = rounds[0]!.theirMatches;
    ours('shouwang (compiled, JSON.parse per line)', rounds.map((r) => r.our.rate), ourMatches);
    parseShare(rounds.map((r) => r.our.cpuRate), rounds.map((r) => r.parse));
    console.log(`  ${`rsigma ${versionOf(rsigma)}`.padEnd(42)} ${Math.round(median(rounds.map((r) => r.their))).toLocaleString('en-US').padStart(12)} events/s  ${theirMatches} matches` +
      `${theirMatches === ourMatches ? '' : '  ← DIFFERENT match count'}`);
    console.log(`  shouwang / rsigma: ${median(rounds.map((r) => r.ratio)).toFixed(2)}× (median of ${ROUNDS} interleaved rounds' ratios` +
      `${taskset ? '; both pinned to CPU 0 with taskset)' : '; taskset missing: rsigma may use more than one core)'}`);
    console.log(differing.length ? `  per rule: ${differing.length} rules DIFFER ← ${differing.join('; ')}` : `  per rule: the same matches for each of the ${ourPerRule.size} rules that matched`);
    const cpuRatios = rounds.map((r) => r.cpuRatio).filter((r): r is number => r !== undefined);
    if (cpuRatios.length === rounds.length) {
      // Wall time under load measures the scheduler as much as the engines; CPU time does not.
      console.log(`  per CPU-second: shouwang ${Math.round(median(rounds.map((r) => r.our.cpuRate))).toLocaleString('en-US')} events, ` +
        `rsigma ${Math.round(median(rounds.map((r) => r.theirCpu!))).toLocaleString('en-US')} events: ${median(cpuRatios).toFixed(2)}× (median of the rounds' ratios)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pins this process (every thread) to CPU 0, as RSigma is; returns what puts the old affinity back. */
function pinSelf(): () => void {
  const before = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }).stdout.split(':').pop()?.trim();
  spawnSync('taskset', ['-a', '-pc', '0', String(process.pid)]);
  return () => {
    if (before) spawnSync('taskset', ['-a', '-pc', before, String(process.pid)]);
  };
}

/** The children's user + system seconds from bash's `times` (its last line, `0m0.069s 0m0.008s`). */
function childCpuSeconds(stderr: string): number | undefined {
  const last = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(stderr);
  if (!last) return undefined;
  const [, um, us, sm, ss] = last.map(Number) as [number, number, number, number, number];
  return um * 60 + us + sm * 60 + ss;
}

/** Newer releases moved `eval` under `engine`. */
function rsigmaEvalArgs(rsigma: string, rulesDir: string): string[] {
  const help = spawnSync(rsigma, ['--help'], { encoding: 'utf8' }).stdout;
  return /^\s+engine\b/m.test(help) ? ['engine', 'eval', '-r', rulesDir] : ['eval', '-r', rulesDir];
}

function versionOf(rsigma: string): string {
  return spawnSync(rsigma, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() || 'rsigma';
}

const BENIGN = [
  ['/usr/bin/ls', 'ls -la /var/log'], ['/usr/bin/systemctl', 'systemctl restart nginx'], ['/usr/bin/tail', 'tail -n 100 /var/log/messages'],
  ['/usr/bin/curl', 'curl -s http://10.1.2.3/health'], ['/usr/bin/tar', 'tar czf /backup/app.tgz /srv/app'], ['/usr/bin/python3', 'python3 /opt/app/job.py'],
  ['/usr/sbin/crond', 'crond -n'], ['/usr/bin/bash', 'bash -c uptime'], ['/usr/bin/grep', 'grep -r ERROR /srv/app/logs'], ['/usr/bin/find', 'find /tmp -mtime +7'],
] as const;

/**
 * Process starts with the rules' field names: nine in ten everyday commands, one in ten built from a
 * rule's first selection (its first value per field, shaped by the modifier) so that matches happen.
 */
export function syntheticProcessEvents(documents: readonly RuleDocument[], count: number): Record<string, unknown>[] {
  const derived = documents.map((doc) => positiveOf(doc, linuxShape)).filter((e): e is Record<string, unknown> => e !== undefined);
  return Array.from({ length: count }, (_, i) => {
    const base = { ProcessId: 1000 + i, User: i % 7 === 0 ? 'root' : 'app', CurrentDirectory: '/srv/app', ParentImage: '/usr/bin/bash', ParentCommandLine: 'bash' };
    if (i % 10 === 9 && derived.length) return { ...base, ...derived[i % derived.length]! };
    const [image, commandLine] = BENIGN[i % BENIGN.length]!;
    return { ...base, Image: image, CommandLine: commandLine };
  });
}

/** A value that meets `text` under the modifiers, as a Linux path or command line. */
function linuxShape(text: string, modifiers: readonly string[]): string {
  return modifiers.includes('endswith') ? `/usr/bin/${text.replace(/^\//, '')}`
    : modifiers.includes('startswith') ? `${text} --now`
      : modifiers.includes('contains') ? `run ${text} now` : text;
}

/** An event built from a rule's first selection: its first value per field, shaped by the modifiers. */
export function positiveOf(doc: RuleDocument, shape: (text: string, modifiers: readonly string[]) => string): Record<string, unknown> | undefined {
  const detection = doc.body.detection;
  if (!isPlainObject(detection)) return undefined;
  const first = Object.entries(detection).find(([name, value]) => name !== 'condition' && !name.startsWith('filter') && isPlainObject(value))?.[1];
  if (!isPlainObject(first)) return undefined;
  const event: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(first)) {
    const [field, ...modifiers] = key.split('|');
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (!field || typeof value !== 'string' || modifiers.some((m) => m === 're' || m === 'cidr' || m === 'base64offset')) continue;
    const shaped = shape(value.replace(/\*/g, 'x'), modifiers);
    event[field] = typeof event[field] === 'string' ? `${String(event[field])} ${shaped}` : shaped;
  }
  return Object.keys(event).length ? event : undefined;
}

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/index.js';
import { openStore, type EventStore } from '../store/index.js';
import {
  compileCorrelation, compileRuleSet, Correlator, loadMlpsCatalog, ruleCoverage, type CoverageReport, linkCorrelations, loadDefaultMapping, loadFieldMapping, loadPlaceholders, loadRuleDir,
  loadRuleFile, RuleErrors, type CompiledCorrelation, type CompiledRuleSet, type CorrelationHit, type FieldMapping, type ParsedRules,
  type Placeholders, type RuleProblem, type Signal,
} from '../analyzers/index.js';

/** Where the command writes; tests pass their own to capture output. */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: CommandOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

export const RULES_USAGE = `shouwang rules lint <dir-or-file> [--mapping FILE] [--placeholders FILE]
shouwang rules test <rule-or-dir> <events.ndjson> [--mapping FILE] [--placeholders FILE] [--time-field FIELD]

  lint  检查规则 / parses and compiles every rule, correlations included (*.yml, *.yaml; *.tests.yaml
        and *_test.yaml are test vectors and skipped) and prints each problem as
        file:line: severity: message. Exits 1 when there is an error.
  test  对事件试跑规则 / runs the rules over events (one JSON object per line) and prints which
        events (line number, id or message) match which rules, then the correlation hits (events in
        time order), then a summary. An event without a readable time is named and left out of
        correlation, never counted at time 0.
  --mapping       field mapping (default rules/mappings/default.yaml)
  --placeholders  YAML file of expand placeholder values (Admins: [admin, dba])
  --time-field    the events' time field for correlation (default @timestamp): ISO 8601 or epoch ms

shouwang rules coverage [<rules-dir>] [--config FILE] [--days N] [--sample N] [--json]
  coverage  规则覆盖 / which rules can fire on the data actually stored: per logsource and per MLPS
        control, the rules whose logsource has events and whose fields appear in them; fields no
        rule reads; rule fields never seen. Reads the newest --sample events (default 500) of each
        dataset of the last --days (default 7) from the store; rules-dir defaults to analyze.rulesDir.`;

export const rulesCommand = {
  summary: '检查规则、用事件试跑规则 / lint rules, test rules against events',
  usage: RULES_USAGE,
  run: (args: string[]) => runRulesCommand(args),
};

export async function runRulesCommand(args: string[], io: CommandOutput = CONSOLE): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      mapping: { type: 'string' }, placeholders: { type: 'string' }, 'time-field': { type: 'string' },
      config: { type: 'string' }, days: { type: 'string' }, sample: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  const [action, ...rest] = positionals;
  const mapping = values.mapping ? loadFieldMapping(values.mapping) : loadDefaultMapping();
  const options: RulesOptions = {
    ...(values.placeholders ? { placeholders: loadPlaceholders(values.placeholders) } : {}),
    ...(values['time-field'] ? { timeField: values['time-field'] } : {}),
  };
  if (action === 'coverage' && rest.length <= 1) {
    const days = Number(values.days ?? 7);
    const sample = Number(values.sample ?? 500);
    if (!(days > 0) || !Number.isInteger(sample) || sample < 1 || sample > 1000) {
      io.err('shouwang rules coverage: --days must be a positive number and --sample a whole number 1–1000');
      return 2;
    }
    const { config } = loadConfig(values.config ? { file: values.config } : {});
    const store = await openStore(config);
    try {
      return await rulesCoverage(store.events, rest[0] ?? config.analyze.rulesDir, mapping, io, { ...options, days, sample, json: values.json === true });
    } finally {
      await store.close();
    }
  }
  if (action === 'lint' && rest.length === 1) return lintRules(rest[0]!, mapping, io, options);
  if (action === 'test' && rest.length === 2) return testRules(rest[0]!, rest[1]!, mapping, io, options);
  io.err(`shouwang rules: expected "lint <dir>" or "test <rule-or-dir> <events.ndjson>"\n\n${RULES_USAGE}`);
  return 2;
}

async function loadRules(path: string): Promise<ParsedRules> {
  const info = await stat(path).catch((error: Error) => {
    throw RuleErrors.ruleRead(path, error.message);
  });
  return info.isDirectory() ? loadRuleDir(path) : loadRuleFile(path);
}

function formatProblem(p: RuleProblem): string {
  return `${p.file}:${p.line}: ${p.severity}: ${p.message}${p.ruleId ? ` [${p.ruleId}]` : ''}`;
}

function sortProblems(problems: RuleProblem[]): RuleProblem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

export interface RulesOptions {
  placeholders?: Placeholders;
  /** The events' time field for correlation (default `@timestamp`). */
  timeField?: string;
}

/** The detection rules and the correlations over them, with every problem of both. */
function compileAll(parsed: ParsedRules, mapping: FieldMapping, options: RulesOptions): { set: CompiledRuleSet; correlations: CompiledCorrelation[]; problems: RuleProblem[] } {
  const set = compileRuleSet(parsed.documents, { mapping, ...options });
  const problems: RuleProblem[] = [...parsed.problems, ...set.problems];
  const compiled = parsed.documents
    .filter((doc) => doc.kind === 'correlation')
    .map((doc) => compileCorrelation(doc, problems))
    .filter((c): c is CompiledCorrelation => c !== undefined);
  // A reference to no loaded rule is a warning: the rule may live in another folder.
  const correlations = linkCorrelations(compiled, problems, set.rules.map((rule) => rule.ref));
  return { set, correlations, problems };
}

export async function lintRules(path: string, mapping: FieldMapping, io: CommandOutput = CONSOLE, options: RulesOptions = {}): Promise<number> {
  const parsed = await loadRules(path);
  const { set, correlations, problems: found } = compileAll(parsed, mapping, options);
  const problems = sortProblems(found);
  for (const p of problems) io.out(formatProblem(p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const kinds = (kind: string) => [...parsed.documents, ...parsed.rejected].filter((d) => d.kind === kind).length;
  io.out(`${errors ? '规则有错误 / rules have errors' : '规则有效 / rules OK'}: ${path} — ` +
    `${set.rules.length}/${kinds('detection')} 条检测规则已编译 detection rules compiled, ` +
    `${correlations.length}/${kinds('correlation')} 条关联已编译 correlations compiled, ` +
    `${kinds('filter')} 个过滤器 filters; ${errors} 个错误 errors, ${problems.length - errors} 个警告 warnings`);
  return errors ? 1 : 0;
}

export async function testRules(
  rulePath: string, eventsFile: string, mapping: FieldMapping, io: CommandOutput = CONSOLE, options: RulesOptions = {},
): Promise<number> {
  const parsed = await loadRules(rulePath);
  const { set, correlations, problems } = compileAll(parsed, mapping, options);
  const errors = problems.filter((p) => p.severity === 'error');
  for (const p of sortProblems(errors)) io.err(formatProblem(p));
  const timeField = options.timeField ?? '@timestamp';
  const signals: { signal: Signal; line: number }[] = [];
  let untimed = 0;
  const perRule = new Map<string, { title: string; count: number }>();
  let events = 0;
  let matched = 0;
  let unreadable = 0;
  let lineNumber = 0;
  const lines = createInterface({ input: createReadStream(eventsFile, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch (error) {
        unreadable += 1;
        io.err(`${eventsFile}:${lineNumber}: 不是 JSON / not JSON: ${(error as Error).message}`);
        continue;
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        unreadable += 1;
        io.err(`${eventsFile}:${lineNumber}: 不是 JSON 对象 / not a JSON object`);
        continue;
      }
      events += 1;
      const record = event as Record<string, unknown>;
      const hits = set.match(record);
      if (hits.length === 0) continue;
      matched += 1;
      io.out(`${eventsFile}:${lineNumber} ${describeEvent(record)}`);
      if (correlations.length > 0) {
        const time = set.timeOf(record);
        if (time === undefined) {
          untimed += 1;
          io.err(`${eventsFile}:${lineNumber}: 无有效时间，不参与关联 / no readable time in ${timeField}: left out of correlation`);
        } else {
          for (const signal of set.matchSignals(record, typeof record.id === 'string' ? record.id : `${eventsFile}:${lineNumber}`)) {
            signals.push({ signal: { ...signal, time }, line: lineNumber });
          }
        }
      }
      for (const rule of hits) {
        io.out(`  → [${rule.level}] ${rule.title} (${rule.id})`);
        const entry = perRule.get(rule.id) ?? { title: rule.title, count: 0 };
        entry.count += 1;
        perRule.set(rule.id, entry);
      }
    }
  } catch (error) {
    throw RuleErrors.ruleRead(eventsFile, (error as Error).message);
  }
  const hits = correlate(correlations, signals);
  if (hits.length > 0) io.out('\n关联命中 correlation hits:');
  for (const { hit, lines } of hits) {
    const group = Object.entries(hit.group).map(([k, v]) => `${k}=${v}`).join(' ');
    io.out(`  ⇒ [${hit.rule.level}] ${hit.rule.title} (${hit.rule.id}) ${group ? `${group} ` : ''}` +
      `value=${hit.value} ${new Date(hit.windowStart).toISOString()} – ${new Date(hit.windowEnd).toISOString()} lines ${lines.join(',')}`);
  }
  io.out(`\n汇总 summary: ${events} 个事件 events, ${matched} 个命中 matched, ${unreadable} 行无法读取 unreadable lines; ${set.rules.length} 条规则 rules` +
    (correlations.length ? `; ${hits.length} 个关联命中 correlation hits, ${untimed} 个命中事件无时间 matched events without a time` : ''));
  for (const [id, { title, count }] of [...perRule].sort((a, b) => b[1].count - a[1].count)) {
    io.out(`  ${String(count).padStart(6)}  ${title} (${id})`);
  }
  return errors.length ? 1 : 0;
}

function describeEvent(event: Record<string, unknown>): string {
  const id = typeof event.id === 'string' ? `id=${event.id}` : undefined;
  const message = typeof event.message === 'string' ? event.message : undefined;
  const text = [id, message && JSON.stringify(message.length > 100 ? `${message.slice(0, 97)}...` : message)].filter(Boolean).join(' ');
  return text || JSON.stringify(event).slice(0, 120);
}

/** The correlation hits over the signals, fed in event-time order (a file need not be sorted), with the lines behind each hit. */
function correlate(correlations: CompiledCorrelation[], signals: { signal: Signal; line: number }[]): { hit: CorrelationHit; lines: number[] }[] {
  if (correlations.length === 0) return [];
  const correlator = new Correlator(correlations, { latenessMs: 0 });
  const lineOf = new Map<string, number>();
  const hits: CorrelationHit[] = [];
  for (const { signal, line } of [...signals].sort((a, b) => a.signal.time - b.signal.time || a.line - b.line)) {
    lineOf.set(signal.eventId, line);
    hits.push(...correlator.push(signal));
  }
  hits.push(...correlator.flush());
  return hits.map((hit) => ({ hit, lines: [...new Set(hit.signals.map((s) => lineOf.get(s.eventId)).filter((l): l is number => l !== undefined))] }));
}

export interface CoverageOptions extends RulesOptions {
  days: number;
  /** Newest events per dataset. */
  sample: number;
  json?: boolean;
  /** The clock, for the look-back. */
  now?: Date;
}

/** `rules coverage`: the rules that can fire on a sample of the stored events (analyzers/coverage/rule-coverage.ts). */
export async function rulesCoverage(
  events: EventStore, rulesDir: string, mapping: FieldMapping, io: CommandOutput, options: CoverageOptions,
): Promise<number> {
  const parsed = await loadRules(rulesDir);
  const from = new Date((options.now ?? new Date()).getTime() - options.days * 86_400_000).toISOString();
  const datasets = await events.countBy({ from }, 'event.dataset', 200);
  const sample = [];
  for (const { key } of datasets) {
    const page = await events.search({ from, filters: { 'event.dataset': key } }, { size: options.sample, order: 'desc' });
    sample.push(...page.items);
  }
  const report = ruleCoverage({
    documents: parsed.documents, mapping, catalog: loadMlpsCatalog(), events: sample as Record<string, unknown>[],
    ...(options.placeholders ? { placeholders: options.placeholders } : {}),
  });
  if (options.json) io.out(JSON.stringify(report, null, 2));
  else printCoverage(report, datasets.length, io);
  return 0;
}

function printCoverage(report: CoverageReport, datasets: number, io: CommandOutput): void {
  const firing = report.rules.filter((r) => r.canFire).length;
  io.out(`规则覆盖 coverage: ${firing}/${report.rules.length} 条规则可在已存数据上触发 rules can fire on the stored data ` +
    `(${report.sampled} 个样本事件 sampled events, ${datasets} 个数据集 datasets)`);
  io.out('\n按日志源 per logsource (product/category/service):');
  for (const l of report.logsources) {
    io.out(`  ${l.logsource.padEnd(40)} ${String(l.events).padStart(6)} 事件 events  ${l.canFire}/${l.rules} 可触发 can fire`);
    if (l.events > 0 && l.unusedFields.length) io.out(`      无规则使用的字段 fields no rule reads: ${l.unusedFields.slice(0, 20).join(', ')}${l.unusedFields.length > 20 ? ` … (+${l.unusedFields.length - 20})` : ''}`);
  }
  io.out('\n按等保控制点 per MLPS control:');
  for (const c of report.controls) io.out(`  ${c.clause.padEnd(10)} ${c.control.padEnd(36)} ${c.canFire}/${c.rules} 可触发 can fire`);
  const blind = report.rules.filter((r) => !r.canFire);
  if (blind.length) io.out('\n不能触发的规则 rules that cannot fire:');
  for (const r of blind) {
    const why = r.events === 0 ? '无该日志源数据 no data of its logsource' : r.missingFields.length ? `字段从未出现 fields never seen: ${r.missingFields.join(', ')}` : '所依赖的规则不能触发 its base rules cannot fire';
    io.out(`  [${r.logsource}] ${r.title} (${r.id}): ${why}`);
  }
}

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  compileRuleSet, loadDefaultMapping, loadFieldMapping, loadRuleDir, loadRuleFile, RuleErrors,
  type FieldMapping, type ParsedRules, type RuleProblem,
} from '../analyzers/index.js';

/** Where the command writes; tests pass their own to capture output. */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: CommandOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

export const RULES_USAGE = `shouwang rules lint <dir-or-file> [--mapping FILE]
shouwang rules test <rule-or-dir> <events.ndjson> [--mapping FILE]

  lint  检查规则 / parses and compiles every rule (*.yml, *.yaml; *.tests.yaml and *_test.yaml are
        test vectors and skipped) and prints each problem as file:line: severity: message.
        Exits 1 when there is an error.
  test  对事件试跑规则 / runs the rules over events (one JSON object per line) and prints which
        events (line number, id or message) match which rules, then a summary.
  --mapping  field mapping (default rules/mappings/default.yaml)`;

export const rulesCommand = {
  summary: '检查规则、用事件试跑规则 / lint rules, test rules against events',
  usage: RULES_USAGE,
  run: (args: string[]) => runRulesCommand(args),
};

export async function runRulesCommand(args: string[], io: CommandOutput = CONSOLE): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { mapping: { type: 'string' } } });
  const [action, ...rest] = positionals;
  const mapping = values.mapping ? loadFieldMapping(values.mapping) : loadDefaultMapping();
  if (action === 'lint' && rest.length === 1) return lintRules(rest[0]!, mapping, io);
  if (action === 'test' && rest.length === 2) return testRules(rest[0]!, rest[1]!, mapping, io);
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

export async function lintRules(path: string, mapping: FieldMapping, io: CommandOutput = CONSOLE): Promise<number> {
  const parsed = await loadRules(path);
  const set = compileRuleSet(parsed.documents, { mapping });
  const problems = sortProblems([...parsed.problems, ...set.problems]);
  for (const p of problems) io.out(formatProblem(p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const kinds = (kind: string) => parsed.documents.filter((d) => d.kind === kind).length;
  io.out(`${errors ? '规则有错误 / rules have errors' : '规则有效 / rules OK'}: ${path} — ` +
    `${set.rules.length}/${kinds('detection')} 条检测规则已编译 detection rules compiled, ${kinds('correlation')} 条关联 correlation, ` +
    `${kinds('filter')} 个过滤器 filters; ${errors} 个错误 errors, ${problems.length - errors} 个警告 warnings`);
  return errors ? 1 : 0;
}

export async function testRules(rulePath: string, eventsFile: string, mapping: FieldMapping, io: CommandOutput = CONSOLE): Promise<number> {
  const parsed = await loadRules(rulePath);
  const set = compileRuleSet(parsed.documents, { mapping });
  const errors = [...parsed.problems, ...set.problems].filter((p) => p.severity === 'error');
  for (const p of sortProblems(errors)) io.err(formatProblem(p));
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
  io.out(`\n汇总 summary: ${events} 个事件 events, ${matched} 个命中 matched, ${unreadable} 行无法读取 unreadable lines; ${set.rules.length} 条规则 rules`);
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

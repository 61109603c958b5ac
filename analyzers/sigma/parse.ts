/**
 * Rule files → validated documents with positions. A file may hold several YAML documents; a bad
 * one is reported (file, line, reason) and skipped while the others load.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { isPlainObject, RULE_LEVELS, type RuleLevel } from '../../core/index.js';
import type { RuleDocument, RuleProblem } from '../types.js';
import { buildCorrelation } from './correlation-tree.js';
import { buildCustomAttributes } from './custom-attributes.js';
import { DetectionError } from './detection-error.js';
import { buildDetection } from './detection-tree.js';
import { RuleErrors } from './errors.js';
import type { Detection } from './rule-tree.js';
import { describeValue } from './describe-value.js';

export interface ParseOptions {
  /**
   * Sigma requires title and logsource; test vectors written for other engines often leave them
   * out. `false` reports their absence as a warning instead of skipping the document.
   */
  strict?: boolean;
  /**
   * Leave out, silently, documents with none of the Sigma keys (title, detection, logsource,
   * correlation, filter): rule folders also hold field mappings and the MLPS catalog.
   */
  skipNonRules?: boolean;
}

const RULE_KEYS = ['title', 'detection', 'logsource', 'correlation', 'filter'];

export interface ParsedRules {
  documents: RuleDocument[];
  problems: RuleProblem[];
  /**
   * Documents left out for a malformed detection, filter or correlation (the problems say why): the
   * compiler used to find these, so `rules lint` still counts them as rules not compiled.
   */
  rejected: RejectedDocument[];
}

export interface RejectedDocument {
  kind: RuleDocument['kind'];
  id: string;
}

const STATUSES = new Set(['stable', 'test', 'experimental', 'deprecated', 'unsupported']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_LEVEL: RuleLevel = 'medium';

/** Parses the text of one rule file (one or more YAML documents). */
export function parseRuleText(text: string, file: string, options: ParseOptions = {}): ParsedRules {
  const strict = options.strict ?? true;
  const lineCounter = new LineCounter();
  const documents: RuleDocument[] = [];
  const problems: RuleProblem[] = [];
  const rejected: RejectedDocument[] = [];
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const multi = list.length > 1;
  list.forEach((doc, index) => {
    const start = doc.contents?.range[0] ?? doc.range[0];
    const docLine = lineCounter.linePos(start).line;
    const problem = (severity: RuleProblem['severity'], message: string, line = docLine, ruleId?: string) =>
      problems.push({ file, line, severity, message, ...(ruleId ? { ruleId } : {}) });
    if (doc.errors.length) {
      for (const error of doc.errors) problem('error', `YAML: ${error.message.split('\n')[0]}`, lineCounter.linePos(error.pos[0]).line);
      return;
    }
    if (doc.contents === null) return; // an empty document, e.g. after a trailing `---`
    let body: unknown;
    try {
      body = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problem('error', `YAML: ${(error as Error).message}`);
      return;
    }
    if (!isPlainObject(body)) {
      problem('error', '规则文档必须是映射 a rule document must be a YAML mapping');
      return;
    }
    if (options.skipNonRules && !RULE_KEYS.some((key) => key in body)) return;
    const lineOf = (path: string) => lineOfPath(doc, lineCounter, path) ?? docLine;
    const result = validateDocument(body, { file, line: docLine, lineOf, strict, fallbackId: multi ? `${baseName(file)}#${index + 1}` : baseName(file) });
    for (const p of result.problems) problem(p.severity, p.message, p.path ? lineOf(p.path) : docLine, result.document?.id ?? result.rejected?.id);
    if (result.document) documents.push(result.document);
    if (result.rejected) rejected.push(result.rejected);
  });
  return { documents, problems, rejected };
}

interface Finding {
  severity: RuleProblem['severity'];
  message: string;
  path?: string;
}

interface ValidateInput {
  file: string;
  line: number;
  lineOf(path: string): number;
  strict: boolean;
  fallbackId: string;
}

function validateDocument(body: Record<string, unknown>, input: ValidateInput): { document?: RuleDocument; rejected?: RejectedDocument; problems: Finding[] } {
  const findings: Finding[] = [];
  const error = (message: string, path?: string) => findings.push({ severity: 'error', message, ...(path ? { path } : {}) });
  const warn = (message: string, path?: string) => findings.push({ severity: 'warning', message, ...(path ? { path } : {}) });
  const required = input.strict ? error : warn;

  if ('action' in body) {
    error('Sigma 1 规则集合（action: global/reset/repeat）在 Sigma 2 中已移除 / rule collections were removed in Sigma 2: write each rule as its own document', 'action');
    return { problems: findings };
  }
  const kind: RuleDocument['kind'] = 'correlation' in body ? 'correlation' : 'filter' in body ? 'filter' : 'detection';

  const title = body.title;
  if (typeof title !== 'string' || title.trim() === '') required('缺少 title / title is required (a short string)', 'title');
  else if (title.length > 256) warn('title 超过 256 个字符 / title is longer than 256 characters', 'title');

  let id = typeof body.id === 'string' ? body.id : undefined;
  if (body.id !== undefined && id === undefined) warn('id 应为字符串 / id should be a string (a UUID)', 'id');
  if (id === undefined) {
    if (kind !== 'filter') warn(`缺少 id，使用 "${typeof body.name === 'string' ? body.name : input.fallbackId}" / no id: using the name or file name`);
    id = typeof body.name === 'string' ? body.name : input.fallbackId;
  } else if (!UUID.test(id)) {
    warn(`id 不是 UUID / id "${id}" is not a UUID`, 'id');
  }
  if (body.name !== undefined && typeof body.name !== 'string') error('name 必须是字符串 / name must be a string', 'name');

  let level: RuleLevel = DEFAULT_LEVEL;
  if (body.level === undefined) {
    if (kind !== 'filter') warn(`缺少 level，按 ${DEFAULT_LEVEL} 处理 / no level: using ${DEFAULT_LEVEL}`);
  } else if (typeof body.level === 'string' && (RULE_LEVELS as readonly string[]).includes(body.level)) {
    level = body.level as RuleLevel;
  } else {
    error(`未知 level ${describeValue(body.level)} / unknown level: expected one of ${RULE_LEVELS.join(', ')}`, 'level');
  }

  if (body.status !== undefined && !(typeof body.status === 'string' && STATUSES.has(body.status))) {
    warn(`未知 status ${describeValue(body.status)} / unknown status: expected one of ${[...STATUSES].join(', ')}`, 'status');
  }

  const tags = stringList(body.tags, 'tags', warn);
  const falsepositives = stringList(body.falsepositives, 'falsepositives', warn);

  let logsource: RuleDocument['logsource'];
  if (body.logsource === undefined) {
    if (kind !== 'correlation') required('缺少 logsource / logsource is required', undefined);
  } else if (!isPlainObject(body.logsource)) {
    error('logsource 必须是映射 / logsource must be a mapping (category, product, service)', 'logsource');
  } else {
    logsource = {};
    for (const key of ['product', 'category', 'service'] as const) {
      const value = body.logsource[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') error(`logsource.${key} 必须是字符串 / must be a string`, `logsource.${key}`);
      else logsource[key] = value;
    }
  }

  if (kind === 'detection') {
    if (!isPlainObject(body.detection)) {
      error('缺少 detection 映射 / detection is required and must be a mapping', 'detection');
    } else if (body.detection.condition === undefined) {
      error('detection 缺少 condition / detection.condition is required', 'detection');
    }
  } else if (kind === 'filter') {
    const filter = body.filter;
    if (!isPlainObject(filter)) error('filter 必须是映射 / filter must be a mapping (rules, selections, condition)', 'filter');
    else {
      if (filter.rules === undefined) error('filter 缺少 rules / filter.rules is required (ids or names of the rules it applies to)', 'filter');
      if (filter.condition === undefined) error('filter 缺少 condition / filter.condition is required', 'filter');
    }
  } else if (!isPlainObject(body.correlation)) {
    error('correlation 必须是映射 / correlation must be a mapping', 'correlation');
  }

  if (findings.some((f) => f.severity === 'error')) return { problems: findings };

  // The typed tree. Its problems were the compiler's: they name the rule, and they count as a rule not compiled.
  const treeError = (message: string, path?: string) => findings.push({ severity: 'error', message, ...(path ? { path } : {}) });
  const detectionOf = (raw: Record<string, unknown>, base: string): Detection | undefined => {
    try {
      return buildDetection(raw, base);
    } catch (error) {
      if (!(error instanceof DetectionError)) throw error;
      treeError(error.message, error.path);
      return undefined;
    }
  };
  const base = {
    id,
    ...(typeof body.name === 'string' ? { name: body.name } : {}),
    title: typeof title === 'string' && title.trim() !== '' ? title : id,
    level,
    tags,
    ...(typeof body.status === 'string' ? { status: body.status } : {}),
    ...(typeof body.description === 'string' ? { description: body.description } : {}),
    ...(typeof body.author === 'string' ? { author: body.author } : {}),
    ...(typeof body.date === 'string' ? { date: body.date } : {}),
    ...(typeof body.modified === 'string' ? { modified: body.modified } : {}),
    references: strings(body.references),
    falsepositives,
    ...(logsource ? { logsource } : {}),
    body,
    position: { file: input.file, line: input.line },
    lineOf: input.lineOf,
    // A bad `shouwang:` attribute is an error, but the rule still runs with the alert defaults.
    custom: buildCustomAttributes(body, (path, message) => treeError(message, path)),
  };
  let document: RuleDocument | undefined;
  // The checks above made detection and filter maps; isPlainObject says so to the type checker too.
  if (kind === 'detection' && isPlainObject(body.detection)) {
    const detection = detectionOf(body.detection, 'detection');
    if (detection) document = { ...base, kind, detection, fields: strings(body.fields) };
  } else if (kind === 'filter' && isPlainObject(body.filter)) {
    const { rules, ...selections } = body.filter;
    const names = strings(Array.isArray(rules) ? rules : [rules]);
    if (names.length === 0) treeError('filter.rules 应为规则 id 或名称列表 / must list rule ids or names', 'filter.rules');
    const filter = names.length ? detectionOf(selections, 'filter') : undefined;
    if (filter) document = { ...base, kind, rules: names, filter };
  } else if (kind === 'correlation') {
    const correlation = buildCorrelation(body.correlation, body.generate, (path, message) => treeError(message, path));
    if (correlation) document = { ...base, kind, correlation };
  }
  return document ? { document, problems: findings } : { rejected: { kind, id }, problems: findings };
}

/** The strings of a list (or of one string); anything else gives none. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringList(value: unknown, key: string, warn: (message: string, path?: string) => void): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
  warn(`${key} 应为字符串列表 / ${key} should be a list of strings`, key);
  return [];
}

/**
 * Line of a dotted key path such as `detection.selection.Image|endswith`. Keys may themselves hold
 * dots (`process.command_line`), so each step takes the longest key that fits; `[n]` picks a list item.
 */
function lineOfPath(doc: Document, lineCounter: LineCounter, path: string): number | undefined {
  const segments = path.split('.').flatMap((s) => s.split(/(?=\[\d+\])/));
  let node: unknown = doc.contents;
  let line: number | undefined;
  let i = 0;
  while (i < segments.length) {
    const segment = segments[i]!;
    const index = /^\[(\d+)\]$/.exec(segment);
    if (index && isSeq(node)) {
      node = node.items[Number(index[1])];
      const range = (node as Node | undefined)?.range;
      if (range) line = lineCounter.linePos(range[0]).line;
      i += 1;
      continue;
    }
    if (!isMap(node)) break;
    let found = false;
    for (let end = segments.length; end > i; end -= 1) {
      const key = segments.slice(i, end).join('.');
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair) {
        const range = (pair.key as Node).range;
        if (range) line = lineCounter.linePos(range[0]).line;
        node = pair.value;
        i = end;
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  return line;
}

function baseName(file: string): string {
  return basename(file).replace(/\.ya?ml$/i, '');
}

/** Test vectors live next to rules: `<name>.tests.yaml` (our packs) and `*_test.yaml` (sigma-test). */
export function isTestVectorFile(name: string): boolean {
  return /\.tests\.ya?ml$/i.test(name) || /_test\.ya?ml$/i.test(name);
}

/** Reads every *.yml / *.yaml below `dir` (test-vector files and non-rule documents excepted), in a stable order. */
export async function loadRuleDir(dir: string, options: ParseOptions = {}): Promise<ParsedRules> {
  const files = await listRuleFiles(dir);
  const documents: RuleDocument[] = [];
  const problems: RuleProblem[] = [];
  const rejected: RejectedDocument[] = [];
  for (const file of files) {
    const parsed = await loadRuleFile(file, { skipNonRules: true, ...options });
    documents.push(...parsed.documents);
    problems.push(...parsed.problems);
    rejected.push(...parsed.rejected);
  }
  return { documents, problems, rejected };
}

export async function loadRuleFile(file: string, options: ParseOptions = {}): Promise<ParsedRules> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { documents: [], problems: [{ file, line: 1, severity: 'error', message: `无法读取 cannot read: ${(error as Error).message}` }], rejected: [] };
  }
  return parseRuleText(text, file, options);
}

export async function listRuleFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw RuleErrors.ruleRead(dir, (error as Error).message);
  }
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name) && !isTestVectorFile(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort((a, b) => relative(dir, a).localeCompare(relative(dir, b)));
}

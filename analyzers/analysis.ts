import type { Registry } from 'prom-client';
import { counter, gauge, type Logger, type ShouwangEvent } from '../core/index.js';
import type { AlertStore } from '../store/index.js';
import { AlertBuilder, AlertSink, Analyzer, mlpsRefs, readAlertPolicy, type AlertContribution, type AlertPolicy } from './alerts/index.js';
import { compileCorrelation, linkCorrelations, type CompiledCorrelation } from './correlation/index.js';
import { compileRuleSet, loadRuleDir } from './sigma/index.js';
import type { RuleDocument, RuleProblem } from './types.js';

export interface AnalysisOptions {
  rulesDir: string;
  alerts: Pick<AlertStore, 'upsert' | 'get'>;
  latenessMs: number;
  registry?: Registry;
  logger?: Logger;
  /** Consulted on every signal and alert: a disabled rule (console 规则 page) matches nothing and alerts nothing. */
  isEnabled?: (ruleId: string) => boolean;
}

/** A loaded rule as the console lists it. */
export interface RuleInfo {
  id: string;
  name?: string;
  title: string;
  level: RuleDocument['level'];
  kind: RuleDocument['kind'];
  tags: string[];
  mlps: string[];
  status?: string;
  description?: string;
  file: string;
  line: number;
}

export function ruleInfo(doc: RuleDocument): RuleInfo {
  return {
    id: doc.id, ...(doc.name ? { name: doc.name } : {}), title: doc.title, level: doc.level, kind: doc.kind, tags: doc.tags,
    mlps: mlpsRefs(doc.tags), ...(doc.status ? { status: doc.status } : {}), ...(doc.description ? { description: doc.description } : {}),
    file: doc.position.file, line: doc.position.line,
  };
}

/** The alert sink behind a rule switch: alerts of disabled rules (correlations included) are dropped. */
class GatedAlertSink extends AlertSink {
  readonly #isEnabled: (ruleId: string) => boolean;

  constructor(options: ConstructorParameters<typeof AlertSink>[0], isEnabled: (ruleId: string) => boolean) {
    super(options);
    this.#isEnabled = isEnabled;
  }

  override add(contribution: AlertContribution): void {
    if (this.#isEnabled(contribution.alert.rule.id)) super.add(contribution);
  }
}

/** The analyzer as the collectors feed it: events in, alerts out to the store. */
export interface Analysis {
  readonly rules: number;
  readonly correlations: number;
  readonly problems: readonly RuleProblem[];
  /** Every loaded rule document (detection, correlation, filter). */
  readonly catalog: readonly RuleInfo[];
  analyze(events: readonly ShouwangEvent[]): void;
  /** Writes pending alerts (correlation windows stay open). */
  flush(): Promise<void>;
  /** End of input: closes every correlation window and writes all alerts. */
  close(): Promise<void>;
}

/**
 * Loads and compiles the rule files, then runs events through them. A bad rule file is reported
 * (logged with file and line) and skipped; the other rules run.
 */
export async function startAnalysis(options: AnalysisOptions): Promise<Analysis> {
  const loaded = await loadRuleDir(options.rulesDir);
  const problems: RuleProblem[] = [...loaded.problems];
  const ruleSet = compileRuleSet(loaded.documents);
  problems.push(...ruleSet.problems);
  const policies = new Map<string, AlertPolicy>();
  const compiled: CompiledCorrelation[] = [];
  for (const doc of loaded.documents) {
    policies.set(doc.id, readAlertPolicy(doc, problems));
    if (doc.kind !== 'correlation') continue;
    const correlation = compileCorrelation(doc, problems);
    if (correlation) compiled.push(correlation);
  }
  const correlations = linkCorrelations(compiled, problems, ruleSet.rules.map((rule) => rule.ref));
  for (const problem of problems) {
    options.logger?.[problem.severity === 'error' ? 'error' : 'warn']({ rule: problem }, `rule ${problem.file}:${problem.line}: ${problem.message}`);
  }

  const late = options.registry && counter(options.registry, {
    name: 'analyzer_late_signals_total', help: 'Signals later than analyze.lateness, left out of correlation',
  });
  const signals = options.registry && counter(options.registry, {
    name: 'analyzer_signals_total', help: 'Events that matched a single-event rule', labelNames: ['level'],
  });
  if (options.registry) {
    const loadedRules = gauge(options.registry, { name: 'analyzer_rules', help: 'Rules loaded and compiled', labelNames: ['kind'] });
    loadedRules.set({ kind: 'detection' }, ruleSet.rules.length);
    loadedRules.set({ kind: 'correlation' }, correlations.length);
  }

  const sinkOptions = {
    store: options.alerts, latenessMs: options.latenessMs,
    onError: (error: unknown) => options.logger?.warn({ err: error }, 'alerts not written yet; retrying'),
  };
  const isEnabled = options.isEnabled;
  const sink = isEnabled ? new GatedAlertSink(sinkOptions, isEnabled) : new AlertSink(sinkOptions);
  // A disabled detection rule raises no signal, so correlations built on it do not count it either.
  const matcher = isEnabled
    ? { matchSignals: (event: Record<string, unknown>, id: string) => ruleSet.matchSignals(event, id).filter((s) => isEnabled(s.rule.id)) }
    : ruleSet;
  const analyzer = new Analyzer({
    rules: matcher, correlations, builder: new AlertBuilder({ policies }), sink, latenessMs: options.latenessMs,
    ...(late ? { onLate: () => late.inc() } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    rules: ruleSet.rules.length,
    correlations: correlations.length,
    problems,
    catalog: loaded.documents.map(ruleInfo),
    analyze(events) {
      for (const event of events) {
        for (const signal of analyzer.analyze(event, event.id)) signals?.inc({ level: signal.rule.level });
      }
    },
    flush: () => sink.flush().then(() => undefined),
    close: () => (closing ??= analyzer.flush().then(() => sink.close())),
  };
}

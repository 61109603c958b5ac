import type { Registry } from 'prom-client';
import { counter, gauge, type Logger, type ShouwangEvent } from '../core/index.js';
import type { AlertStore } from '../store/index.js';
import { AlertBuilder, AlertSink, Analyzer, readAlertPolicy, type AlertPolicy } from './alerts/index.js';
import { compileCorrelation, linkCorrelations, type CompiledCorrelation } from './correlation/index.js';
import { compileRuleSet, loadRuleDir } from './sigma/index.js';
import type { RuleProblem } from './types.js';

export interface AnalysisOptions {
  rulesDir: string;
  alerts: Pick<AlertStore, 'upsert' | 'get'>;
  latenessMs: number;
  registry?: Registry;
  logger?: Logger;
}

/** The analyzer as the collectors feed it: events in, alerts out to the store. */
export interface Analysis {
  readonly rules: number;
  readonly correlations: number;
  readonly problems: readonly RuleProblem[];
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

  const sink = new AlertSink({
    store: options.alerts, latenessMs: options.latenessMs,
    onError: (error) => options.logger?.warn({ err: error }, 'alerts not written yet; retrying'),
  });
  const analyzer = new Analyzer({
    rules: ruleSet, correlations, builder: new AlertBuilder({ policies }), sink, latenessMs: options.latenessMs,
    ...(late ? { onLate: () => late.inc() } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    rules: ruleSet.rules.length,
    correlations: correlations.length,
    problems,
    analyze(events) {
      for (const event of events) {
        for (const signal of analyzer.analyze(event, event.id)) signals?.inc({ level: signal.rule.level });
      }
    },
    flush: () => sink.flush().then(() => undefined),
    close: () => (closing ??= analyzer.flush().then(() => sink.close())),
  };
}

import { rename } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { counter, gauge, type Logger, type ShouwangEvent } from '../core/index.js';
import type { AlertStore } from '../store/index.js';
import { AlertBuilder, AlertSink, Analyzer, mlpsRefs, readAlertPolicy, type AlertContribution, type AlertPolicy } from './alerts/index.js';
import { compileCorrelation, CorrelationStateFile, linkCorrelations, type CompiledCorrelation } from './correlation/index.js';
import { startDistributedCorrelation, type DistributedCorrelationOptions } from './distributed-correlation.js';
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
  /**
   * A live stream's open correlation windows, kept across restarts (`<dataDir>/checkpoints/correlation.json`):
   * read at start, written by persist(); close() then keeps the windows open instead of testing them.
   */
  statePath?: string;
  /** A live stream: every this many ms, processing time moves correlations on (see Correlator.tick). */
  tickMs?: number;
  /** The wall clock, epoch ms. */
  now?: () => number;
  /** Values of the `expand` modifier's `%name%` placeholders. */
  placeholders?: Record<string, string[]>;
  /** Correlation shared through Redis (`analyze.distributed`): signals are published, windows run where partitions are owned. */
  distributed?: DistributedCorrelationOptions;
  /**
   * Names this process's alert contributions in the store, the same across its restarts (AlertSink `writer`), so
   * several processes raising the same alert add up; absent: one writer per alert.
   */
  writer?: string;
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
  /**
   * Saves the open correlation windows if they changed (to `statePath`), covering every event
   * analyzed so far: call it before a source checkpoints past them. Never rejects (a failed write is
   * logged and tried again at the next call).
   */
  persist(): Promise<void>;
  /** What the live timer does: windows due by processing time close, eager correlations alert early. */
  tick(): void;
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
  const ruleSet = compileRuleSet(loaded.documents, options.placeholders ? { placeholders: options.placeholders } : {});
  problems.push(...ruleSet.problems);
  const policies = new Map<string, AlertPolicy>();
  const compiled: CompiledCorrelation[] = [];
  for (const doc of loaded.documents) {
    policies.set(doc.id, readAlertPolicy(doc));
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

  const sinkOptions = (writer: string | undefined) => ({
    store: options.alerts, latenessMs: options.latenessMs, ...(writer !== undefined ? { writer } : {}),
    onError: (error: unknown) => options.logger?.warn({ err: error }, 'alerts not written yet; retrying'),
  });
  const isEnabled = options.isEnabled;
  const openSink = (writer = options.writer) =>
    (isEnabled ? new GatedAlertSink(sinkOptions(writer), isEnabled) : new AlertSink(sinkOptions(writer)));
  const sink = openSink();
  // A disabled detection rule raises no signal, so correlations built on it do not count it either.
  const matcher = isEnabled
    ? { matchSignals: (event: Record<string, unknown>, id: string) => ruleSet.matchSignals(event, id).filter((s) => isEnabled(s.rule.id)) }
    : ruleSet;
  const builder = new AlertBuilder({ policies });
  // Distributed: this process publishes signals (and owns partitions when asked); no window is kept here.
  const distributed = options.distributed && await startDistributedCorrelation(options.distributed, {
    correlations, builder, openAlertSink: openSink, latenessMs: options.latenessMs,
    ...(options.tickMs ? { tickMs: options.tickMs } : {}), ...(options.now ? { now: options.now } : {}),
    ...(late ? { onLate: () => late.inc() } : {}), ...(options.logger ? { logger: options.logger } : {}),
  });
  const analyzer = new Analyzer({
    rules: matcher, correlations, builder, sink, latenessMs: options.latenessMs,
    ...(late ? { onLate: () => late.inc() } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(distributed ? { forward: distributed.forward } : {}),
  });
  const { correlator } = analyzer;
  const stateFile = options.statePath === undefined || distributed ? undefined : new CorrelationStateFile(options.statePath);
  if (stateFile) await restoreState(stateFile, correlator, options.logger);
  let savedVersion = correlator.version;
  let saving = Promise.resolve();
  const persist = () => {
    if (distributed) return distributed.persist();
    if (!stateFile || correlator.version === savedVersion) return saving;
    savedVersion = correlator.version;
    saving = stateFile.save(() => correlator).catch((error: unknown) => {
      savedVersion = -1;
      options.logger?.warn({ err: error, path: stateFile.path }, '关联状态未能保存，下次再试 / correlation state not saved; retrying at the next batch');
      throw error; // the events it covers are not acknowledged: a file source reads them again
    });
    return saving;
  };
  const tick = () => {
    try {
      analyzer.tick();
    } catch (error) {
      options.logger?.error({ err: error }, 'correlation tick failed');
    }
  };
  const timer = options.tickMs ? setInterval(tick, options.tickMs) : undefined;
  timer?.unref();
  let closing: Promise<void> | undefined;
  return {
    rules: ruleSet.rules.length,
    correlations: correlations.length,
    problems,
    catalog: loaded.documents.map(ruleInfo),
    analyze(events) {
      // Counted per level once per batch: a labelled increment per signal showed in the pipeline benchmark.
      const byLevel = new Map<string, number>();
      try {
        for (const event of events) {
          for (const signal of analyzer.analyze(event, event.id)) byLevel.set(signal.rule.level, (byLevel.get(signal.rule.level) ?? 0) + 1);
        }
      } finally {
        for (const [level, count] of byLevel) signals?.inc({ level }, count);
      }
    },
    // Logged where it failed; flush and close go on (the next batch, or the next start, tries again).
    flush: () => Promise.all([sink.flush(), distributed?.persist().catch(() => undefined)]).then(() => undefined),
    persist,
    tick,
    close: () => (closing ??= (async () => {
      clearInterval(timer);
      if (distributed) return distributed.close().then(() => sink.close());
      if (!stateFile) return analyzer.flush().then(() => sink.close());
      // A live stream goes on after a restart: its windows stay open, on disk.
      tick();
      await persist().catch(() => undefined);
      await sink.close();
    })()),
  };
}

/** Takes back the saved windows; a state file that cannot be read is set aside and correlation starts empty. */
async function restoreState(file: CorrelationStateFile, correlator: Analyzer['correlator'], logger?: Logger): Promise<void> {
  try {
    const state = await file.load();
    if (state !== undefined) correlator.restore(state);
  } catch (error) {
    const aside = `${file.path}.corrupt`;
    await rename(file.path, aside).catch(() => undefined);
    logger?.warn({ err: error, path: file.path, movedTo: aside },
      '关联状态文件无法读取，已移开，从空状态开始 / correlation state unreadable: moved aside, correlation starts empty');
  }
}

import { parseArgs } from 'node:util';
import {
  createLogger, loadConfig, loadInventory, redisTarget, type BusinessSystem, type Config, type JobResult, type Logger,
} from '../core/index.js';
import { openStore, type Store } from '../store/index.js';
import {
  BackupQueues, JobErrors, recordBackupResults, runRestoreDrill, storedFingerprints, verifyBackups, type BackupSite, type DrillStep, type ValidationOutcome,
} from '../backup/index.js';
import { startAnalysis, type Analysis } from '../analyzers/index.js';
import { RuleSwitches, ruleSwitchesFile } from '../console/index.js';
import { analysisSink, drillServers, sftpOptions } from './backup-jobs.js';
import { startRuntime } from './runtime.js';

export const BACKUP_USAGE = `shouwang backup verify <system> [--site same-city|off-site] [--config FILE]
shouwang backup drill <system> [--site same-city|off-site] [--config FILE]
shouwang backup worker [--config FILE]

  verify  核验系统的同城/异地备份：存在、时效 (RPO)、完整度、逐文件校验、保留期、勒索软件迹象、两地一致性
          checks a system's backups now: presence, freshness against the RPO, completeness,
          integrity against the manifest, retention, ransomware signals, and same-city/off-site agreement.
  drill   恢复演练：把同城最新的数据库转储恢复到演练服务器的临时库，运行校验查询，测量 RTO，删除临时库
          restores the newest same-city dump (--site off-site: the off-site copy's) into a scratch database on the drill server
          (backup.drill.postgresUrl / mariadbUrl), runs the validation queries, measures the RTO
          and drops the scratch database.
  worker  运行 BullMQ 队列 shouwang-backup-verify 与 shouwang-restore-drill 的工作进程，并按各系统
          策略的 checkSchedule / drillSchedule（时区 backup.timezone，默认 timeZone）排程；按 Ctrl-C 停止
          runs the queue workers and keeps the policies' schedules; Ctrl-C stops it.

  Results go to the store; failures raise alerts. verify and drill exit 1 when a result fails.`;

/** Where the command writes; a TTY gets a progress bar, anything else plain lines. */
export interface CommandOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface BackupCommandIo {
  out: CommandOutput;
  err: CommandOutput;
}

const STATUS_LABEL: Record<JobResult['status'], string> = { pass: '通过 pass', warn: '警告 warn', fail: '失败 fail' };
const SITES: readonly BackupSite[] = ['same-city', 'off-site'];

export async function runBackupCommand(args: string[], io: BackupCommandIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, site: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [action, systemId, ...rest] = positionals;
  if (values.help) {
    io.out.write(`${BACKUP_USAGE}\n`);
    return 0;
  }
  const usage = (reason: string) => {
    io.err.write(`shouwang backup: ${reason}\n\n${BACKUP_USAGE}\n`);
    return 2;
  };
  if (action === 'worker') return rest.length || systemId ? usage('worker takes no <system>') : runWorker(values.config, io);
  if (action !== 'verify' && action !== 'drill') return usage('expected verify, drill or worker');
  if (!systemId || rest.length) return usage(`expected exactly one <system> after ${action}`);
  if (values.site !== undefined && !SITES.includes(values.site as BackupSite)) {
    return usage(`--site must be same-city or off-site, got ${JSON.stringify(values.site)}`);
  }

  const { config } = loadConfig(values.config ? { file: values.config } : {});
  const inventory = loadInventory(config.inventory.path);
  const system = inventory.systems.find((s) => s.id === systemId);
  if (!system) throw JobErrors.unknownSystem(systemId);
  if (action === 'drill') await refuseQueuedDrill(config, system.id, (values.site as BackupSite | undefined) ?? 'same-city', io);
  const store = await openStore(config);
  try {
    const runId = `cli-${new Date().toISOString()}`;
    const progress = progressView(io.out);
    let results: JobResult[];
    try {
      results = action === 'verify'
        ? await verifyBackups(system, {
          runId, onProgress: progress.update, sftp: sftpOptions(config), fingerprints: storedFingerprints(store.jobResults, system.id),
          ...(values.site ? { sites: [values.site as BackupSite] } : {}),
        })
        : [await runRestoreDrill(system, {
          runId, servers: drillServers(config), onProgress: progress.update, sftp: sftpOptions(config), systems: inventory.systems,
          ...(values.site ? { site: values.site as BackupSite } : {}),
        })];
    } finally {
      progress.end();
    }
    // The backup rules raise the alerts from the results' events, as in the worker.
    const analysis = await backupRules(config, store);
    try {
      await recordBackupResults(store, system, results, analysis.sink);
    } finally {
      await analysis.close();
    }
    io.out.write(action === 'verify' ? verifyReport(system, results) : drillReport(system, results[0]!));
    if (analysis.raised.size) io.out.write(`已告警 alerts raised: ${[...analysis.raised].join(', ')}\n`);
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  } finally {
    await store.close();
  }
}

/**
 * A drill of the same system and copy already queued or running for the backup workers is not started a second time
 * from here (SW_ERR_JOBS_DRILL_PENDING, exit 1). Only an external Redis (`redis.url` / `sentinels`) holds a queue this
 * command can see; when it does not answer, the drill runs anyway, saying so.
 */
async function refuseQueuedDrill(config: Config, system: string, site: BackupSite, io: BackupCommandIo): Promise<void> {
  const redis = redisTarget(config.redis);
  if (!redis) return;
  const queues = new BackupQueues({ redis, prefix: config.backup.queuePrefix, failFast: true });
  try {
    const pending = await queues.pendingDrill(system, site).catch((error: Error) => {
      io.err.write(`shouwang backup: 无法读取演练队列，照常演练 / cannot read the drill queue, drilling anyway: ${error.message}\n`);
      return undefined;
    });
    if (pending) throw JobErrors.drillPending(system, site, pending.id ?? '?');
  } finally {
    await queues.close();
  }
}

/** A bar redrawn in place on a terminal; elsewhere one line per new step, so logs stay readable. */
function progressView(out: CommandOutput) {
  let lastStep = '';
  let drawn = false;
  return {
    update: ({ done, total, step }: { done: number; total: number; step: string }) => {
      if (out.isTTY) {
        const ratio = total > 0 ? Math.min(1, done / total) : 0;
        const width = 24;
        const filled = Math.round(ratio * width);
        const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${step}`;
        out.write(`\r\x1b[2K${line.slice(0, Math.max(20, (out.columns ?? 100) - 1))}`);
        drawn = true;
      } else if (step !== lastStep) {
        out.write(`… ${step}\n`);
      }
      lastStep = step;
    },
    end: () => {
      if (drawn) out.write('\r\x1b[2K');
    },
  };
}

// CJK characters take two columns in a terminal.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/g;
const displayWidth = (text: string) => text.length + (text.match(WIDE)?.length ?? 0);
const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[column] ?? ''))));
  const line = (cells: readonly string[]) => cells.map((cell, column) => pad(cell, widths[column]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

function verifyReport(system: BusinessSystem, results: readonly JobResult[]): string {
  const rows = results.map((r) => [
    r.site === 'same-city' ? '同城 same-city' : r.site === 'off-site' ? '异地 off-site' : '两地 both',
    String(r.detail.check ?? r.kind), STATUS_LABEL[r.status], r.summary,
  ]);
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  return `备份核验 backup verification: ${system.name} (${system.id})\n`
    + formatTable(['站点 site', '检查 check', '结果 status', '说明 summary'], rows)
    + `合计 total: ${results.length}, 失败 failed: ${failed}, 警告 warnings: ${warned}\n`;
}

function drillReport(system: BusinessSystem, result: JobResult): string {
  const steps = (result.detail.steps as DrillStep[] | undefined) ?? [];
  const validations = (result.detail.validations as ValidationOutcome[] | undefined) ?? [];
  const rto = result.kind === 'restore-drill' ? result.detail.rto : undefined;
  const site = result.site === 'off-site' ? '异地 off-site' : '同城 same-city';
  let text = `恢复演练 restore drill: ${system.name} (${system.id}) · ${site}\n`;
  if (result.detail.dump) text += `转储 dump: ${String(result.detail.target)}/${String(result.detail.set)}/${String(result.detail.dump)} → ${String(result.detail.drillServer)}/${String(result.detail.scratchDatabase)}\n`;
  text += formatTable(['步骤 step', '耗时 ms', '结果 status', '说明 note'],
    steps.map((s) => [s.step, String(s.ms), s.ok ? '通过 ok' : '失败 failed', s.note ?? '']));
  if (validations.length) {
    text += formatTable(['校验 validation', '行数 rows', '首值 first', '期望 expected', '结果 status'],
      validations.map((v) => [v.name ?? v.sql, String(v.rows), v.first ?? '', v.expected, v.ok ? '通过 ok' : `失败 ${v.reason ?? ''}`]));
  }
  if (rto) text += `RTO: ${rto.achievedSeconds}s / 目标 target ${rto.targetSeconds}s — ${rto.met ? '达标 met' : rto.achievedSeconds > rto.targetSeconds ? '超出 exceeded' : '未恢复 not recovered'}\n`;
  return `${text}${STATUS_LABEL[result.status]}: ${result.summary}\n`;
}

/** The rules (`analyze.rulesDir`, console switches honoured) as the sink of backup events; names the rules that alerted. */
async function backupRules(config: Config, store: Store, logger?: Logger) {
  const switches = await RuleSwitches.open(ruleSwitchesFile(config.dataDir));
  const raised = new Set<string>();
  const alerts: Parameters<typeof startAnalysis>[0]['alerts'] = {
    get: (id) => store.alerts.get(id),
    upsert: (batch) => {
      for (const alert of batch) raised.add(`${alert.rule.title} (${alert.rule.id})`);
      return store.alerts.upsert(batch);
    },
  };
  const analysis: Analysis = await startAnalysis({
    rulesDir: config.analyze.rulesDir, alerts, latenessMs: config.analyze.lateness * 1000, isEnabled: switches.isEnabled, ...(logger ? { logger } : {}),
  });
  return { sink: analysisSink(analysis), raised, close: () => analysis.close() };
}

/** Workers for both queues and the policies' schedules, until SIGINT/SIGTERM: the wiring with the backup role. */
async function runWorker(configFile: string | undefined, io: BackupCommandIo): Promise<number> {
  const { config } = loadConfig(configFile ? { file: configFile } : {});
  const logger = createLogger({ level: config.log.level });
  const runtime = await startRuntime(config, logger, ['backup']);
  try {
    const summary = runtime.schedules!;
    for (const bad of summary.invalid) {
      io.err.write(`排程无效 invalid schedule: ${bad.system} ${bad.schedule} ${JSON.stringify(bad.pattern)}: ${bad.reason}\n`);
    }
    io.out.write(`备份任务进程运行中 / backup worker running: ${summary.scheduled.length} 个排程 schedules; 按 Ctrl-C 停止 / press Ctrl-C to stop\n`);
    // Inventory edits apply when the file changes; SIGHUP applies it now, as before.
    const reload = () => void runtime.reloadInventory().catch((error: Error) => logger.error({ err: error }, 'schedule sync failed'));
    process.on('SIGHUP', reload);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.off('SIGHUP', reload);
  } finally {
    await runtime.close();
  }
  io.out.write('已停止 / stopped\n');
  return 0;
}

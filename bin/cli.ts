import { parseArgs } from 'node:util';
import { join } from 'node:path';
import {
  AssetIndex, ShouwangError, createLogger, createMetricsRegistry, loadConfig, loadInventory, NETWORK_ZONE_EN, ENV_VARIABLES,
  type Logger,
} from '../core/index.js';
import {
  createIngestMetrics, EventSink, FileDeadLetterSink, ingestLines, readFileRecords, resolveFormat, sinkOutcomes, SOURCE_FORMATS,
  type ResolvedFormat,
} from '../collectors/index.js';
import { parseRoles, ROLES, RolesError, startRuntime, type Role } from './runtime.js';
import { rulesCommand } from './rules-command.js';
import { BACKUP_USAGE, runBackupCommand } from './backup-command.js';
import { EVIDENCE_USAGE, runEvidenceCommand } from './evidence-command.js';

type Command = { summary: string; usage: string; run: (args: string[]) => Promise<number> };

const configOption = { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } as const;

const COMMANDS: Record<string, Command> = {
  start: {
    summary: '运行守望（存储、Redis、控制台、演示数据） / run Shouwang: store, Redis, console, demo data',
    usage: `shouwang start [--roles ROLES] [--config FILE]

  Opens the store, loads the inventory, starts a local redis-server (unless redis.url or redis.sentinels is set),
  serves /healthz and /metrics, and runs the living demo with the bundled demo inventory (demo.enabled). Ctrl-C stops it cleanly.
  Settings come from FILE (default: $SHOUWANG_CONFIG, then config/shouwang.yaml) and SHOUWANG_* variables.
  --roles  运行哪些角色 / the roles this process runs, comma-separated (default: all):
           collect  syslog/HTTP listeners and tailed files into the store through the rules (as \`shouwang collect\`)
           analyze  notifications, silent-source checks, retention
           console  the web console, /healthz, /metrics, evidence exports
           backup   the backup queue workers and the policies' schedules (as \`shouwang backup worker\`)`,
    run: async (args) => {
      const { values } = parseArgs({ args, options: { ...configOption, roles: { type: 'string' } } });
      let roles: Role[] = [...ROLES];
      try {
        if (values.roles !== undefined) roles = parseRoles(values.roles);
      } catch (error) {
        if (error instanceof RolesError) return usageError('start', error.message);
        throw error;
      }
      const { config, file } = loadConfig(values.config ? { file: values.config } : {});
      const logger = createLogger({ level: config.log.level });
      const runtime = await startRuntime(config, logger, roles);
      const range = await runtime.store.events.range();
      const { url } = runtime;
      console.log([
        '',
        '守望 Shouwang 已启动 / is running',
        `  角色 roles:      ${roles.join(', ')}`,
        ...(url ? [`  控制台 console:  ${url}   (健康 ${url}/healthz · 指标 ${url}/metrics)`] : []),
        `  存储 store:      ${config.store} ${config.store === 'embedded' ? (config.embedded.path ?? join(config.dataDir, 'shouwang.db')) : (config.elasticsearch.nodes?.join(',') ?? config.elasticsearch.url ?? '')} — ${range.count} 条事件 events`,
        `  资产 inventory:  ${config.inventory.path} — ${runtime.inventory.departments.length} 个部门 departments, ${runtime.inventory.systems.length} 个系统 systems`,
        ...(runtime.redis ? [`  Redis:           ${runtime.redis}`] : []),
        ...(roles.includes('collect') ? [`  Syslog:          ${describePorts(runtime.syslogPorts)}`] : []),
        `  配置 config:     ${file ?? '(defaults + environment)'}`,
        '按 Ctrl-C 停止 / press Ctrl-C to stop',
      ].join('\n'));
      await untilSignal(logger, () => runtime.close());
      console.log('守望 Shouwang 已停止 / stopped');
      return 0;
    },
  },
  collect: {
    summary: '只运行采集（syslog 监听 → 存储） / run the collectors only: syslog listeners into the store',
    usage: `shouwang collect [--config FILE]

  Opens the store and the inventory and listens for syslog on the ports configured in
  collect.syslog (udpPort, tcpPort, tlsPort with tlsCert/tlsKey), and tails the log files of
  collect.files (checkpoints in <dataDir>/checkpoints/). While the store is down, events
  wait in <dataDir>/spool and are replayed in order when it is back. Ctrl-C stops it cleanly.`,
    run: async (args) => {
      const { values } = parseArgs({ args, options: configOption });
      const { config } = loadConfig(values.config ? { file: values.config } : {});
      const logger = createLogger({ level: config.log.level });
      const { syslog } = config.collect;
      const listening = [syslog.udpPort, syslog.tcpPort, syslog.tlsPort, config.collect.http.port].some((port) => port !== undefined);
      if (!listening && config.collect.files.length === 0) {
        return usageError('collect', 'no source configured: set collect.syslog.udpPort, tcpPort or tlsPort (e.g. SHOUWANG_COLLECT_SYSLOG_TCP_PORT=5514), collect.http.port, or collect.files');
      }
      // The wiring with the collect role; hosts map to systems by the inventory file as it is now (edits apply within seconds).
      const runtime = await startRuntime(config, logger, ['collect']);
      console.log(`守望 Shouwang 采集中 / collecting — syslog ${describePorts(runtime.syslogPorts)}; 文件源 file sources: ${runtime.fileSources}; 按 Ctrl-C 停止 / press Ctrl-C to stop`);
      await untilSignal(logger, () => runtime.close());
      console.log('守望 Shouwang 已停止 / stopped');
      return 0;
    },
  },
  ingest: {
    summary: '导入日志文件 / ingest a log file into the store',
    usage: `shouwang ingest <file> [--format NAME] [--source NAME] [--encoding ENC] [--utc-offset ±HH:MM] [--host NAME]
                [--system ID] [--log-line-prefix P] [--pattern RE] [--config FILE]

  Streams a log file (any size) through the same decode stage and event sink as \`collect\`: records are
  tagged from the inventory, stored (or spooled in <dataDir>/spool/ingest while the store is down,
  replayed by the next ingest), and seen by the analyzers once stored. Ingesting the same file again
  stores nothing twice. Records that cannot be read go to <dataDir>/dead-letter/ with the reason.
  --format      auto (default: syslog RFC 3164/5424 or NDJSON, per line), json, ${SOURCE_FORMATS.slice(3).join(', ')}
  --encoding    utf-8 (default), gbk, gb18030; lines with invalid bytes are kept and tagged encoding_invalid
  --utc-offset  zone of timestamps that carry none (default: the inventory's log source for the host, else collect.utcOffset, else timeZone)
  --host        the server the records come from, for records that name none (database audit): maps them to its system
  --system      every event belongs to this inventory system, whatever its host
  --log-line-prefix  pgaudit: the server's log_line_prefix (default '%m [%p] %q%u@%d ')
  --pattern     app-log: a regex with named groups (message, timestamp, level, logger, thread)`,
    run: async (args) => {
      const { values, positionals } = parseArgs({
        args, allowPositionals: true, options: {
          ...configOption, source: { type: 'string' }, format: { type: 'string', default: 'auto' }, host: { type: 'string' },
          'log-line-prefix': { type: 'string' }, pattern: { type: 'string' }, encoding: { type: 'string', default: 'utf-8' },
          'utc-offset': { type: 'string' }, system: { type: 'string' },
        },
      });
      if (positionals.length !== 1) return usageError('ingest', 'expected exactly one <file>');
      if (!SOURCE_FORMATS.includes(values.format)) return usageError('ingest', `unknown --format ${JSON.stringify(values.format)}`);
      const encoding = values.encoding;
      if (encoding !== 'utf-8' && encoding !== 'gbk' && encoding !== 'gb18030') return usageError('ingest', `unknown --encoding ${JSON.stringify(encoding)}: utf-8, gbk or gb18030`);
      const utcOffset = values['utc-offset'];
      if (utcOffset !== undefined && !/^[+-]\d{2}:\d{2}$/.test(utcOffset)) return usageError('ingest', `--utc-offset must be an offset such as +08:00, got ${JSON.stringify(utcOffset)}`);
      const file = positionals[0]!;
      const source = values.source ?? file;
      const { config } = loadConfig(values.config ? { file: values.config } : {});
      const inventory = loadInventory(config.inventory.path);
      const system = values.system === undefined ? undefined : inventory.systems.find((s) => s.id === values.system);
      if (values.system !== undefined && !system) return usageError('ingest', `no system ${JSON.stringify(values.system)} in ${config.inventory.path}`);
      const assets = new AssetIndex(inventory);
      let format: ResolvedFormat;
      try {
        format = resolveFormat({
          source, format: values.format, assets, host: values.host, utcOffset, defaultUtcOffset: config.collect.utcOffset, timeZone: config.timeZone,
          logLinePrefix: values['log-line-prefix'], pattern: values.pattern,
          ...(system ? { system: { system: system.id, department: system.department, mlps_level: system.mlpsLevel } } : {}),
        });
      } catch (error) {
        return usageError('ingest', (error as Error).message);
      }
      const logger = createLogger({ level: config.log.level });
      // The wiring with no long-lived role: store, inventory and the rules (alerts as \`collect\` raises them).
      const runtime = await startRuntime(config, logger, []);
      try {
        const { analysis } = runtime;
        const metrics = createIngestMetrics(createMetricsRegistry());
        const deadLetters = new FileDeadLetterSink(join(config.dataDir, 'dead-letter'));
        // The sink of \`collect\`: analyzers see events once stored; a store that is down fills a spool of our own.
        const slots = config.store === 'embedded' ? 1 : config.collect.inFlightBatches;
        const sink = new EventSink({
          store: runtime.store.events, spoolDir: join(config.dataDir, 'spool', 'ingest'), deadLetters, maxSpoolBytes: config.collect.spoolMaxBytes,
          batchSize: config.collect.batchSize, flushIntervalMs: config.collect.flushMs, metrics, logger, name: source, inFlight: slots,
          observe: (events) => analysis.analyze(events),
        });
        let stats;
        try {
          stats = await ingestLines(readFileRecords(file, format.join, { encoding }), {
            source, format, sink, deadLetters, metrics, batchSize: config.collect.batchSize, inFlight: slots + 1,
          });
        } finally {
          await sink.close();
        }
        const outcomes = await sinkOutcomes(metrics, source);
        const spooled = (outcomes.spooled ?? 0) - (outcomes.replayed ?? 0);
        console.log(`读取 read ${stats.lines} 行 lines: 写入 written ${outcomes.written ?? 0}, 重复 duplicates ${outcomes.duplicate ?? 0}, 死信 dead letters ${stats.deadLettered}${spooled > 0 ? `, 暂存 spooled ${spooled}` : ''}`);
        if (spooled > 0) console.log(`  存储不可用，已暂存于 store unavailable, spooled in ${join(config.dataDir, 'spool', 'ingest')}/ — 下次导入时重放 replayed by the next ingest`);
        if (stats.deadLettered) console.log(`  死信见 see ${join(config.dataDir, 'dead-letter')}/`);
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
  rules: rulesCommand,
  backup: {
    summary: '核验备份、恢复演练 / verify backups (同城/异地), run restore drills, run the backup workers',
    usage: BACKUP_USAGE,
    run: (args) => runBackupCommand(args),
  },
  evidence: {
    summary: '导出与校验等保证据包 / export and verify signed MLPS evidence bundles',
    usage: EVIDENCE_USAGE,
    run: (args) => runEvidenceCommand(args),
  },
  inventory: {
    summary: '检查资产清单 / check an inventory file (YAML or CSV)',
    usage: `shouwang inventory check <file>

  Validates departments and systems (MLPS level, zone, hosts, databases, backup policy) and prints
  a summary, or every problem with its line and field. Exits 1 when the file is invalid.`,
    run: async (args) => {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: configOption.help } });
      if (values.help) return help('inventory');
      if (positionals[0] !== 'check' || positionals.length !== 2) return usageError('inventory', 'expected: inventory check <file>');
      const inventory = loadInventory(positionals[1]!);
      const byLevel = new Map<number, number>();
      const byZone = new Map<string, number>();
      for (const system of inventory.systems) {
        byLevel.set(system.mlpsLevel, (byLevel.get(system.mlpsLevel) ?? 0) + 1);
        byZone.set(system.zone, (byZone.get(system.zone) ?? 0) + 1);
      }
      const withBackup = inventory.systems.filter((s) => s.backup).length;
      console.log(`资产清单有效 / inventory OK: ${positionals[1]}
  部门 departments: ${inventory.departments.length}
  系统 systems:     ${inventory.systems.length} (${[...byLevel].sort().map(([level, n]) => `${level}级 level ${level}: ${n}`).join(', ')})
  网络区域 zones:   ${[...byZone].map(([zone, n]) => `${zone} ${NETWORK_ZONE_EN[zone as keyof typeof NETWORK_ZONE_EN]}: ${n}`).join(', ')}
  备份策略 backup policies: ${withBackup}`);
      return 0;
    },
  },
};

/** Resolves after the first SIGINT/SIGTERM has stopped everything; a second one exits at once. */
function untilSignal(logger: Logger, stopAll: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      logger.info({ signal }, 'stopping');
      void stopAll().then(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

function describePorts(ports: { udp?: number; tcp?: number; tls?: number }): string {
  const open = Object.entries(ports).map(([transport, port]) => `${transport} ${port}`);
  return open.length ? open.join(', ') : '未开启 off (collect.syslog.udpPort / tcpPort / tlsPort)';
}

function usageError(command: string, reason: string): number {
  console.error(`shouwang ${command}: ${reason}\n\n${COMMANDS[command]!.usage}`);
  return 2;
}

function help(command?: string): number {
  if (command && COMMANDS[command]) {
    console.log(COMMANDS[command].usage);
    return 0;
  }
  console.log(`守望 Shouwang — 政务外网安全与韧性运营 / security and resilience operations

Usage: shouwang <command> [options]   (shouwang <command> --help for more)

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

Environment: ${[...ENV_VARIABLES.keys()].join(', ')}, SHOUWANG_CONFIG`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') return help(args[0]);
  const command = COMMANDS[name];
  if (!command) {
    console.error(`shouwang: unknown command ${JSON.stringify(name)}`);
    help();
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) return help(name);
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof ShouwangError) {
      console.error(`shouwang ${name}: [${error.code}] ${error.message}`);
      return 1;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return usageError(name, (error as Error).message);
    throw error;
  }
}

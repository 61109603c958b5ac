import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Analysis } from '../analyzers/index.js';
import { corruptDemoBackupSet, refreshDemoBackupSets, writeDemoBackupSets, type BackupQueues } from '../backup/index.js';
import {
  demoLogLines, DemoTraffic, type DemoIncident, type DemoIncidentKind, FileDeadLetterSink, ingestLines, resolveFormat, type EventSink, type IngestMetrics, type Line, type ResolvedFormat,
} from '../collectors/index.js';
import { SHANGHAI_OFFSET, type AssetIndex, type Config, type Inventory, type Logger } from '../core/index.js';

/** The bundled demo inventory, wherever the package is (this file runs from dist/bin or bin). */
const BUNDLED = [new URL('../../config/inventory.demo.yaml', import.meta.url), new URL('../config/inventory.demo.yaml', import.meta.url)]
  .map((url) => fileURLToPath(url));

const real = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/** The demo runs with the bundled demo inventory only (or when `demo.enabled` says so): it never touches a city's own. */
export function demoEnabled(config: Config): boolean {
  if (config.demo.enabled !== undefined) return config.demo.enabled;
  const inUse = real(config.inventory.path);
  return inUse !== undefined && BUNDLED.some((path) => real(path) === inUse);
}

export interface DemoOptions {
  config: Config;
  inventory: () => Inventory;
  assets: AssetIndex;
  queues: BackupQueues;
  analysis: Analysis;
  metrics: IngestMetrics;
  /** The collectors' sink: demo lines are stored (or spooled) like any source's, and analysed once stored. */
  sink: EventSink;
  logger: Logger;
}

export interface Demo {
  /** Plays a scripted incident now (the next of `kind`, on `system` when given), as the timer would. */
  playIncident(choice?: { kind?: DemoIncidentKind; system?: string }): Promise<DemoIncident | undefined>;
  close(): Promise<void>;
}

/**
 * The living demo: a day of logs replayed, backup sets on disk with a verification of each system
 * queued at once, live traffic from most hosts, and a scripted incident every three minutes.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { config, inventory, assets, queues, analysis, metrics, sink, logger } = options;
  const deadLetters = new FileDeadLetterSink(join(config.dataDir, 'dead-letter'));
  // Each (source, format) is resolved once, by the decode stage every source uses.
  const formats = new Map<string, ResolvedFormat>();
  const formatOf = (source: string, format: string) => {
    const key = `${source}\n${format}`;
    let resolved = formats.get(key);
    // The demo hosts write China Standard Time (collectors/demo-logs.ts), whatever timeZone the console shows.
    if (!resolved) formats.set(key, (resolved = resolveFormat({ source, format, assets, defaultUtcOffset: SHANGHAI_OFFSET })));
    return resolved;
  };
  const ingest = (source: string, lines: Iterable<Line>, format = 'auto') =>
    ingestLines(lines, { source, format: formatOf(source, format), sink, deadLetters, metrics });

  if (config.demo.replay) {
    const stats = await ingest('demo', demoLogLines(inventory()));
    await analysis.flush();
    logger.info({ stats }, 'demo logs replayed');
  }

  const systems = writeDemoBackupSets(inventory());
  // One verification per system now (idempotent within the hour), so the matrix and posture start from real results.
  const hour = Math.floor(Date.now() / 3_600_000);
  for (const system of inventory().systems) {
    if (system.backup) await queues.enqueueVerify(system.id, { jobId: `demo-verify-${system.id}-${hour}` });
  }
  logger.info({ systems }, 'demo backup sets written, verification queued');
  const backupJob = setInterval(() => {
    try {
      refreshDemoBackupSets(inventory());
    } catch (error) {
      logger.warn({ err: error }, 'demo backup sets not refreshed');
    }
  }, 60_000);
  backupJob.unref();

  const traffic = new DemoTraffic({
    inventory, logger,
    ingest: (lines, format) => ingest('demo-live', lines, format),
    onIncident: async (incident) => {
      if (incident.kind !== 'backup-failure') return;
      const system = inventory().systems.find((s) => s.id === incident.system);
      if (system && corruptDemoBackupSet(system)) await queues.enqueueVerify(system.id);
    },
  });
  await traffic.start();
  return {
    playIncident: (choice) => traffic.playIncident(choice),
    close: async () => {
      clearInterval(backupJob);
      await traffic.close();
    },
  };
}

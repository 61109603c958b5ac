import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep, type LocalRedis } from '../core/index.js';
import {
  startElasticsearch, startElasticsearchCluster, type ElasticsearchClusterHandle, type ElasticsearchHandle,
} from '../test/harness/elasticsearch.js';
import { startRedis } from '../test/harness/redis.js';
import { median } from './measure.js';
import { pipelineInput, sendSyslog, waitForCount } from './pipeline-input.js';
import {
  deleteIndices, elasticsearchCount, elasticsearchIndexed, elasticsearchPids, embeddedCount, processCpuSeconds, removeDir, startRsyslogPeer, startShouwangAnalyzer, startShouwangCollect,
  startSyslogNgPeer, type Receiver,
} from './pipeline-receivers.js';
import { provisionSyslogNg, type SyslogNg } from './peers/syslog-ng.js';

/** Events per run; SHOUWANG_BENCH_PIPELINE_EVENTS changes it (more for steadier figures, fewer for a quick look). */
const EVENTS = Number(process.env.SHOUWANG_BENCH_PIPELINE_EVENTS ?? 30_000);
const ROUNDS = Number(process.env.SHOUWANG_BENCH_ROUNDS ?? 3);
/** SHOUWANG_BENCH_WARM_UP=0: no untimed warm-up run (see runColumns). */
const WARM_UP = process.env.SHOUWANG_BENCH_WARM_UP !== '0';
/** TCP connections the input is spread over (the scale bench deals them out to the collectors). */
const CONNECTIONS = 6;
/** collect.batchSize of the third Elasticsearch column: the default before 2026-12-07 (it is 5,000 now). */
const SMALL_BATCH = 500;
const SMALL_BATCH_NAME = `shouwang collect, batchSize ${SMALL_BATCH} → Elasticsearch`;
/** The Elasticsearch column with one bulk in flight at a time (collect.inFlightBatches 1, the behaviour before it existed). */
const ONE_BULK_NAME = 'shouwang collect, inFlightBatches 1 → Elasticsearch';
const BASELINE = 'rsyslog imtcp → omelasticsearch (baseline)';

interface Sample {
  wallSeconds: number;
  /** Until Elasticsearch had indexed every event, refreshed or not (Elasticsearch columns). */
  indexedSeconds?: number;
  /** CPU of the receiving processes only (not of Elasticsearch, not of the sender). */
  cpuSeconds: number;
  /** CPU of the Elasticsearch node(s) on this machine over the run, when the column writes there. */
  storeCpuSeconds?: number;
}

interface Column {
  name: string;
  /** Starts the receivers for one run; they are stopped after it. */
  start: (run: string) => Promise<{
    receivers: Receiver[]; count: () => Promise<number>; indexed?: () => Promise<number>; cleanup: () => Promise<void>; others?: Helper[];
  }>;
  samples: Sample[];
  skipped?: string;
  /** Pids of the Elasticsearch nodes this column writes to (their CPU is shown beside the receivers'). */
  storePids?: () => Promise<number[]>;
}

/** Elasticsearch for the bench: $SHOUWANG_TEST_ELASTICSEARCH_URL (the running test node), else one started from the harness. */
async function elasticsearch(): Promise<{ url?: string; node?: ElasticsearchHandle; reason?: string }> {
  const url = process.env.SHOUWANG_TEST_ELASTICSEARCH_URL;
  if (url) return { url: url.replace(/\/$/, '') };
  try {
    const node = await startElasticsearch();
    return { url: node.url, node };
  } catch (error) {
    return { reason: `Elasticsearch 测试节点无法启动 / could not start the test node: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** One timed run: receivers ready, input sent over TCP, clock stopped when all events are queryable. */
async function measure(column: Column, lines: readonly string[], run: string): Promise<Sample> {
  const { receivers, count, indexed, cleanup, others = [] } = await column.start(run);
  // The analyzer processes of a scale-out run work on the same events: their CPU counts too.
  const processes: Helper[] = [...receivers, ...others];
  try {
    const storePids = (await column.storePids?.()) ?? [];
    const cpu = (pids: number[]) => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
    const cpuBefore = processes.map((r) => processCpuSeconds(r.pid));
    const storeBefore = cpu(storePids);
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    let indexedSeconds: number | undefined;
    let done = false;
    // Polled beside the queryable count: the moment the last event is indexed, before the refresh shows it.
    const indexing = indexed && (async () => {
      while (!done && (await indexed()) < lines.length) await sleep(20);
      if (!done) indexedSeconds = elapsed();
    })();
    await sendSyslog(receivers.map((r) => r.port), lines, CONNECTIONS);
    await waitForCount(count, lines.length, column.name);
    const wallSeconds = elapsed();
    // Queryable implies indexed: a poll still in flight may stop short, so what it missed is the queryable time.
    done = true;
    await indexing;
    indexedSeconds ??= indexed ? wallSeconds : undefined;
    const cpuSeconds = processes.reduce((sum, r, i) => sum + processCpuSeconds(r.pid) - cpuBefore[i]!, 0);
    return { wallSeconds, ...(indexedSeconds !== undefined ? { indexedSeconds } : {}), cpuSeconds, ...(storePids.length ? { storeCpuSeconds: cpu(storePids) - storeBefore } : {}) };
  } finally {
    await Promise.all(processes.map((r) => r.stop()));
    await cleanup();
  }
}

/** A process of a run that takes no syslog itself (an analyzer). */
interface Helper {
  pid: number;
  stop(): Promise<void>;
}

/** Runs every column once per round, interleaved (the machine is shared and noisy), then prints the medians. */
async function runColumns(title: string, columns: Column[], lines: readonly string[], baseline?: string): Promise<void> {
  // One untimed run of every column first, on a quarter of the input: a node just started runs its first bulks on cold
  // JIT, and the column that went first in round one paid for it (Elasticsearch's CPU per event fell by a third over
  // the first runs). A column that fails here fails in its timed runs too, where it is reported.
  if (WARM_UP) {
    const warmUp = lines.slice(0, Math.ceil(lines.length / 4));
    for (const column of columns) if (!column.skipped) await measure(column, warmUp, 'warm-up').catch(() => undefined);
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const column of columns) {
      if (column.skipped) continue;
      try {
        column.samples.push(await measure(column, lines, `${round}`));
      } catch (error) {
        column.skipped = `运行失败 / failed: ${(error as Error).message.split('\n').slice(0, 3).join(' | ')}`;
      }
    }
  }
  const rate = (column: Column) => median(column.samples.map((s) => lines.length / s.wallSeconds));
  // Indexed events/s: the same run without the refresh wait; the embedded store's rows are searchable when written.
  const indexedRate = (column: Column) => median(column.samples.map((s) => lines.length / (s.indexedSeconds ?? s.wallSeconds)));
  const perCore = (column: Column) => median(column.samples.map((s) => lines.length / s.cpuSeconds));
  // Microseconds of Elasticsearch CPU per event: what the store costs for each receiver's documents.
  const storeMicros = (column: Column) => median(column.samples.flatMap((s) => s.storeCpuSeconds === undefined ? [] : [s.storeCpuSeconds / lines.length * 1e6]));
  const base = columns.find((column) => column.name === baseline && !column.skipped);
  console.log(`\n${title} (median of ${ROUNDS} runs, ${lines.length.toLocaleString('en-US')} events each, ${CONNECTIONS} TCP connections)`);
  console.log(`  ${'receiver → store'.padEnd(56)} ${'events/s'.padStart(10)} ${'indexed/s'.padStart(10)} ${'per core'.padStart(10)} ${'ES µs/ev'.padStart(9)}  ${baseline ? 'ratio (indexed)' : ''}`);
  for (const column of columns) {
    if (column.skipped) {
      console.log(`  ${column.name.padEnd(56)} ${'—'.padStart(10)} ${'—'.padStart(10)} ${'—'.padStart(10)} ${'—'.padStart(9)}  ${column.skipped}`);
      continue;
    }
    const ratio = !baseline ? '' : column === base ? 'baseline' : base
      ? `${(rate(column) / rate(base)).toFixed(2)}× (${(indexedRate(column) / indexedRate(base)).toFixed(2)}×) rsyslog` : 'no baseline';
    console.log(`  ${column.name.padEnd(56)} ${fmt(rate(column)).padStart(10)} ${fmt(indexedRate(column)).padStart(10)} ${fmt(perCore(column)).padStart(10)} ${fmt(storeMicros(column)).padStart(9)}  ${ratio}`);
  }
  if (base) {
    for (const column of columns.filter((c) => c.name.startsWith('shouwang') && !c.skipped)) {
      const ratio = rate(column) / rate(base);
      const indexedRatio = indexedRate(column) / indexedRate(base);
      console.log(`  goal ≥ 1.0× rsyslog (issue #19), ${column.name}: ${ratio >= 1 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}×; indexed ${indexedRatio.toFixed(2)}×)`);
    }
  }
  console.log('  events/s: from the first byte sent to the last event queryable (SQLite row / Elasticsearch _count after refresh)');
  console.log('  indexed/s: the same run, to the last event indexed by Elasticsearch (index_total), without the wait for the next');
  console.log('             refresh (refresh_interval 1 s, at a random phase: with a run of a few seconds it moves events/s by tens of %)');
  console.log('  per core: events / CPU seconds of the receiving process(es), from /proc/<pid>/stat (Elasticsearch not counted)');
  console.log('  ES µs/ev: CPU of the Elasticsearch node(s) over the run per event stored (ids, mapping, merges, refreshes)');
}

const fmt = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—');

function shouwangEmbedded(parent: string): Column {
  return {
    name: 'shouwang collect: decode+rules → embedded SQLite',
    samples: [],
    start: async (run) => {
      const dir = mkdtempSync(join(parent, `embedded-${run}-`));
      const receiver = await startShouwangCollect(dir, { kind: 'embedded', dir });
      return { receivers: [receiver], count: embeddedCount(dir), cleanup: async () => removeDir(dir) };
    },
  };
}

/**
 * `processes` collectors sharing one Elasticsearch under one index prefix, each with its own data dir.
 * A scale-out topology adds its settings per collector (`env`: the cluster's nodes, Redis-shared correlation)
 * and the analyzer processes the collectors publish to (`analyzers`), all under the run's index prefix.
 */
function shouwangElasticsearch(parent: string, url: string, processes = 1, topology: ScaleTopology = {}): Column {
  return {
    name: topology.name ?? (processes === 1 ? 'shouwang collect: decode+rules → Elasticsearch' : `shouwang collect × ${processes} → Elasticsearch`),
    samples: [],
    start: async (run) => {
      const indexPrefix = `bench-pipe-${randomUUID().slice(0, 8)}`;
      const dirs = Array.from({ length: processes }, (_, i) => mkdtempSync(join(parent, `es-${run}-${i}-`)));
      const receivers: Receiver[] = [];
      let others: Helper[] = [];
      try {
        others = (await topology.analyzers?.(indexPrefix)) ?? [];
        for (const [i, dir] of dirs.entries()) {
          receivers.push(await startShouwangCollect(dir, { kind: 'elasticsearch', url, indexPrefix }, topology.env?.(i, indexPrefix) ?? {}));
        }
      } catch (error) {
        await Promise.all([...receivers, ...others].map((r) => r.stop()));
        throw error;
      }
      return {
        receivers,
        others,
        count: elasticsearchCount(url, `${indexPrefix}-events-*`),
        indexed: elasticsearchIndexed(url, `${indexPrefix}-events-*`),
        cleanup: async () => {
          await deleteIndices(url, `${indexPrefix}-*`);
          await fetch(`${url}/_index_template/${indexPrefix}-events`, { method: 'DELETE' });
          await topology.cleanup?.(indexPrefix);
          dirs.forEach(removeDir);
        },
      };
    },
  };
}

/** What a scale-out run adds to the collectors (see shouwangElasticsearch). */
export interface ScaleTopology {
  name?: string;
  env?: (collector: number, indexPrefix: string) => Record<string, string>;
  /** Processes started before the collectors, stopped with them; their CPU is counted. */
  analyzers?: (indexPrefix: string) => Promise<Helper[]>;
  cleanup?: (indexPrefix: string) => Promise<void>;
}

function peer(name: string, url: string, parent: string, start: (index: string) => Promise<Receiver>): Column {
  return {
    name,
    samples: [],
    start: async () => {
      const index = `bench-peer-${randomUUID().slice(0, 8)}`;
      const receiver = await start(index);
      return { receivers: [receiver], count: elasticsearchCount(url, index), indexed: elasticsearchIndexed(url, index), cleanup: () => deleteIndices(url, index) };
    },
  };
}

/**
 * `pipeline`: syslog over TCP → decode → rules → store, end to end, with the built `shouwang collect`
 * on the embedded store and on Elasticsearch, beside rsyslog (omelasticsearch) and syslog-ng
 * (elasticsearch-http) parsing RFC 3164/5424 into JSON into the same Elasticsearch node, same input.
 */
export async function benchPipeline(): Promise<void> {
  const parent = mkdtempSync(join(tmpdir(), 'shouwang-bench-pipeline-'));
  chmodSync(parent, 0o711); // the peers run as nobody, in their own dirs under this one
  const es = await elasticsearch();
  const lines = pipelineInput(EVENTS);
  const columns: Column[] = [shouwangEmbedded(parent)];
  const esColumn = (name: string, make: (url: string) => Column): Column =>
    es.url ? { ...make(es.url), storePids: () => elasticsearchPids(es.url!) } : { name, samples: [], start: () => Promise.reject(new Error('unreachable')), skipped: es.reason! };
  let syslogNg: SyslogNg | undefined;
  let syslogNgMissing: string | undefined;
  try {
    syslogNg = await provisionSyslogNg();
  } catch (error) {
    syslogNgMissing = `syslog-ng 不可用 / unavailable: ${(error as Error).message}`;
  }
  columns.push(
    esColumn('shouwang collect: decode+rules → Elasticsearch', (url) => shouwangElasticsearch(parent, url)),
    esColumn(ONE_BULK_NAME, (url) => shouwangElasticsearch(parent, url, 1, { name: ONE_BULK_NAME, env: () => ({ SHOUWANG_COLLECT_IN_FLIGHT_BATCHES: '1' }) })),
    // More, smaller bulks: what the default batch size saves on Elasticsearch.
    esColumn(SMALL_BATCH_NAME, (url) => shouwangElasticsearch(parent, url, 1, { name: SMALL_BATCH_NAME, env: () => ({ SHOUWANG_COLLECT_BATCH_SIZE: String(SMALL_BATCH) }) })),
    esColumn(BASELINE, (url) =>
      peer(BASELINE, url, parent, (index) => startRsyslogPeer(parent, url, index))),
    esColumn('syslog-ng network() → elasticsearch-http()', (url) => syslogNgMissing
      ? { name: 'syslog-ng network() → elasticsearch-http()', samples: [], start: () => Promise.reject(new Error('unreachable')), skipped: syslogNgMissing }
      : peer('syslog-ng network() → elasticsearch-http()', url, parent, (index) => startSyslogNgPeer(syslogNg!, parent, url, index))),
  );
  // SHOUWANG_BENCH_PIPELINE_COLUMNS=<regex>: only the columns whose name matches, and the baseline (a quicker look at one change).
  const only = process.env.SHOUWANG_BENCH_PIPELINE_COLUMNS ? new RegExp(process.env.SHOUWANG_BENCH_PIPELINE_COLUMNS, 'i') : undefined;
  const chosen = only ? columns.filter((column) => only.test(column.name) || column.name === BASELINE) : columns;
  try {
    await runColumns('pipeline: TCP syslog → parse → store, end to end', chosen, lines, BASELINE);
    console.log(`  Elasticsearch: ${es.node ? 'node started by the test harness' : es.url ? '$SHOUWANG_TEST_ELASTICSEARCH_URL' : 'none'}; `
      + 'shouwang also enriches from the inventory and runs rules/shouwang (single-event and correlation); the peers only parse');
  } finally {
    removeDir(parent);
    await es.node?.stop();
  }
}

/** Analyzer processes (`--roles analyze`) beside the collectors of a scale-out run. */
const ANALYZERS = 2;

/**
 * `scale`: the same input with 1, 2 and 3 `shouwang collect` processes (the six connections dealt out among them)
 * and 2 `shouwang start --roles analyze` processes, `analyze.distributed` on: collectors decode, store and publish
 * the signals of correlation rules to Redis (correlate off); the analyzers own the partitions and run the windows.
 * Elasticsearch is the 3-node cluster of the test harness (3 shards, 1 replica), all on this machine.
 */
export async function benchScale(): Promise<void> {
  const parent = mkdtempSync(join(tmpdir(), 'shouwang-bench-scale-'));
  let cluster: ElasticsearchClusterHandle | undefined;
  let localRedis: LocalRedis | undefined;
  let redis: Redis | undefined;
  try {
    try {
      cluster = await startElasticsearchCluster();
    } catch (error) {
      console.log(`\nscale: skipped — 3 节点集群无法启动 / the 3-node cluster could not start: ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    const redisUrl = process.env.SHOUWANG_TEST_REDIS_URL ?? (localRedis = await startRedis()).url;
    redis = new Redis(redisUrl);
    const url = cluster.urls[0]!;
    const shared = (indexPrefix: string) => ({
      SHOUWANG_ELASTICSEARCH_NODES: cluster!.urls.join(','), SHOUWANG_ELASTICSEARCH_SHARDS: '3',
      SHOUWANG_REDIS_URL: redisUrl, SHOUWANG_ANALYZE_DISTRIBUTED_ENABLED: 'true', SHOUWANG_ANALYZE_DISTRIBUTED_KEY_PREFIX: `shouwang-bench:${indexPrefix}:`,
    });
    const lines = pipelineInput(EVENTS);
    const columns = [1, 2, 3].map((processes) => shouwangElasticsearch(parent, url, processes, {
      name: `shouwang collect × ${processes} + analyze × ${ANALYZERS} → 3-node cluster`,
      env: (_, indexPrefix) => ({ ...shared(indexPrefix), SHOUWANG_ANALYZE_DISTRIBUTED_CORRELATE: 'false' }),
      analyzers: (indexPrefix) => Promise.all(Array.from({ length: ANALYZERS }, async (_, i) => {
        const dir = mkdtempSync(join(parent, `analyze-${indexPrefix}-${i}-`));
        const analyzer = await startShouwangAnalyzer(dir, { kind: 'elasticsearch', url, indexPrefix }, shared(indexPrefix),
          async () => { try { return readFileSync(join(dir, 'analyze.log'), 'utf8').includes('Ctrl-C'); } catch { return false; } });
        return { pid: analyzer.pid, stop: async () => { await analyzer.stop(); removeDir(dir); } };
      })),
      cleanup: async (indexPrefix) => {
        const keys = await redis!.keys(`shouwang-bench:${indexPrefix}:*`);
        if (keys.length) await redis!.del(keys);
      },
    }));
    for (const column of columns) column.storePids = () => elasticsearchPids(url);
    await runColumns(`scale: TCP syslog → N × shouwang collect (+ ${ANALYZERS} analyzers, correlation through Redis) → 3-node Elasticsearch cluster`, columns, lines);
    const one = columns[0]!;
    if (!one.skipped) {
      const base = median(one.samples.map((s) => lines.length / s.wallSeconds));
      for (const column of columns.slice(1).filter((c) => !c.skipped)) {
        console.log(`  ${column.name}: ${(median(column.samples.map((s) => lines.length / s.wallSeconds)) / base).toFixed(2)}× one collector`);
      }
    }
    console.log('  every process (3 Elasticsearch JVMs, Redis, collectors, analyzers, the sender) shares this machine; '
      + 'per core counts the collectors and the analyzers');
  } finally {
    redis?.disconnect();
    await cluster?.stop();
    await localRedis?.stop();
    removeDir(parent);
  }
}

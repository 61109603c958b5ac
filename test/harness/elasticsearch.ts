import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, ensureExecutable, freePort } from '../../core/index.js';

const run = promisify(execFile);

/**
 * The launcher project: a single-node Elasticsearch 8 in one JVM, built from Maven Central artifacts.
 * Resolved from the package root, where npm runs tests and benchmarks (this file also runs from dist/).
 */
const PROJECT = resolve('test/harness/elasticsearch');
const JAR = join(PROJECT, 'target', 'shouwang-es.jar');

function newestSource(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }, 0);
}

/** Builds the launcher when the jar is missing or older than its sources (dependencies cached in ~/.m2). */
async function buildLauncher(): Promise<void> {
  const sources = Math.max(statSync(join(PROJECT, 'pom.xml')).mtimeMs, newestSource(join(PROJECT, 'src')));
  if (existsSync(JAR) && statSync(JAR).mtimeMs >= sources) return;
  const mvn = await ensureExecutable({ command: 'mvn', debianPackage: 'maven' });
  await run(mvn, ['-q', '-B', 'package'], { cwd: PROJECT, maxBuffer: 64 << 20 });
}

export interface ElasticsearchHandle {
  url: string;
  stop(): Promise<void>;
}

export interface ElasticsearchOptions {
  /** A fixed port, e.g. to restart a node where its clients expect it; default: a free one. */
  port?: number;
  /** Data kept by the caller across restarts; default: a temp dir removed at stop. */
  dataDir?: string;
  /** JVM flags; default: a 512 MB heap, Serial GC and C1 only, sized for test loads. */
  jvmArgs?: string[];
}

// Serial GC and C1 only: it starts in half the time, and test loads are small.
const TEST_JVM_ARGS = ['-Xms512m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/**
 * Under Serial GC the parent circuit breaker's real-memory check counts old-generation garbage until the next full
 * collection (Elasticsearch nudges only G1 to collect before tripping): the node answered 429 circuit_breaking_exception
 * with no live data left, and the bench's rsyslog peer dropped those bulks. The breaker then counts what requests reserve.
 */
const breakerArgs = (jvmArgs: readonly string[]) => (jvmArgs.includes('-XX:+UseSerialGC') ? ['--es.indices.breaker.total.use_real_memory=false'] : []);

/** One launcher JVM; ready once its port file is written and its cluster answers yellow. */
async function launch(dir: string, jvmArgs: string[], args: string[]): Promise<{ service: ChildService; url: string }> {
  await buildLauncher();
  const java = await ensureExecutable({ command: 'java', debianPackage: 'default-jre-headless' });
  const portFile = join(dir, 'port');
  rmSync(portFile, { force: true });
  let url = '';
  const service = await ChildService.start({
    name: 'elasticsearch',
    command: java,
    args: [...jvmArgs, '-jar', JAR, ...args, ...breakerArgs(jvmArgs), `--port-file=${portFile}`],
    logFile: join(dir, 'elasticsearch.log'),
    readyTimeoutMs: 180_000,
    ready: async () => {
      if (!existsSync(portFile)) return false;
      url = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`;
      const health = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`);
      return health.ok;
    },
  });
  return { service, url };
}

/** Starts a throwaway Elasticsearch on a free loopback port with its data in a temp dir. */
export async function startElasticsearch(options: ElasticsearchOptions = {}): Promise<ElasticsearchHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-es-'));
  const { service, url } = await launch(dir, options.jvmArgs ?? TEST_JVM_ARGS, [
    `--port=${options.port ?? 0}`, `--home=${join(dir, 'home')}`, `--data=${options.dataDir ?? join(dir, 'data')}`,
  ]);
  return {
    url,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ElasticsearchClusterNode {
  readonly name: string;
  /** Fixed for the node's life, restarts included, so clients keep their node list. */
  readonly url: string;
  /** Kills the JVM outright (SIGKILL: no clean shutdown, as a power cut or the OOM killer). */
  kill(): Promise<void>;
  /** Starts the node again on its ports and data; resolves once it answers and the cluster is yellow. */
  start(): Promise<void>;
}

export interface ElasticsearchClusterHandle {
  urls: string[];
  nodes: ElasticsearchClusterNode[];
  stop(): Promise<void>;
}

/** Smaller heaps than the single test node: three JVMs share a 2-core test machine. */
const CLUSTER_JVM_ARGS = ['-Xms384m', '-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/**
 * Starts a cluster of `size` (default 3) master-eligible data nodes from the same launcher, on loopback ports
 * chosen up front (seed hosts name the transport ports; a restarted node comes back on its HTTP port).
 */
export async function startElasticsearchCluster(options: { size?: number; jvmArgs?: string[] } = {}): Promise<ElasticsearchClusterHandle> {
  const size = options.size ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'shouwang-es-cluster-'));
  const ports: { http: number; transport: number }[] = [];
  for (let i = 0; i < size; i += 1) ports.push({ http: await freePort(), transport: await freePort() });
  const names = ports.map((_, i) => `node-${i + 1}`);
  const common = [
    `--cluster=${root.split('-').pop()!.toLowerCase()}`, '--es.discovery.type=multi-node',
    `--es.discovery.seed_hosts=${ports.map((p) => `127.0.0.1:${p.transport}`).join(',')}`,
    `--es.cluster.initial_master_nodes=${names.join(',')}`,
  ];
  const nodes = names.map((name, i) => {
    const dir = join(root, name);
    mkdirSync(dir);
    const args = [
      ...common, `--es.node.name=${name}`, `--port=${ports[i]!.http}`, `--es.transport.port=${ports[i]!.transport}`,
      `--home=${join(dir, 'home')}`, `--data=${join(dir, 'data')}`,
    ];
    let service: ChildService | undefined;
    const node = {
      name,
      url: `http://127.0.0.1:${ports[i]!.http}`,
      start: async () => {
        service = (await launch(dir, options.jvmArgs ?? CLUSTER_JVM_ARGS, args)).service;
      },
      kill: async () => {
        if (service?.pid !== undefined) process.kill(service.pid, 'SIGKILL');
        await service?.stop(); // reaps the killed child
        service = undefined;
      },
      stop: () => service?.stop() ?? Promise.resolve(),
    };
    return node;
  });
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  // All at once: a node waits for the others to elect a master before it reports ready.
  const started = await Promise.allSettled(nodes.map((node) => node.start()));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { urls: nodes.map((node) => node.url), nodes: nodes.map(({ stop: _stop, ...node }) => node), stop };
}

/** Removes a test's indices (`<prefix>-*`) and its events template from the test node; what is absent is skipped. */
export async function dropTestIndices(url: string, indexPrefix: string): Promise<void> {
  await fetch(`${url}/${indexPrefix}-*?ignore_unavailable=true&allow_no_indices=true`, { method: 'DELETE' });
  await fetch(`${url}/_index_template/${indexPrefix}-events`, { method: 'DELETE' });
}

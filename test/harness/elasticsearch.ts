import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, ensureExecutable } from '../../core/index.js';

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

/** Starts a throwaway Elasticsearch on a free loopback port with its data in a temp dir. */
export async function startElasticsearch(options: ElasticsearchOptions = {}): Promise<ElasticsearchHandle> {
  await buildLauncher();
  const java = await ensureExecutable({ command: 'java', debianPackage: 'default-jre-headless' });
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-es-'));
  const portFile = join(dir, 'port');
  let url = '';
  const service = await ChildService.start({
    name: 'elasticsearch',
    command: java,
    args: [
      ...(options.jvmArgs ?? TEST_JVM_ARGS), '-jar', JAR,
      `--port=${options.port ?? 0}`, `--home=${join(dir, 'home')}`, `--data=${options.dataDir ?? join(dir, 'data')}`,
      `--port-file=${portFile}`,
    ],
    logFile: join(dir, 'elasticsearch.log'),
    readyTimeoutMs: 120_000,
    ready: async () => {
      if (!existsSync(portFile)) return false;
      url = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`;
      const health = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`);
      return health.ok;
    },
  });
  return {
    url,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackupQueues } from '../../backup/index.js';
import { EvidenceQueue } from '../../evidence/index.js';
import { RuleSwitches } from '../../console/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { giveBackupPolicies, login, seedTwoDepartments, seedUser, testApp, type Client } from './support.js';

const run = promisify(execFile);

/** The stateful phase's own summary: how many scenarios ran and how many links they followed. */
export function statefulSummary(output: string): { scenarios: number; linksCovered: number; linksTotal: number } | undefined {
  const match = /Scenarios:\s+(\d+)\s+API Links:\s+(\d+) covered \/ \d+ selected \/ (\d+) total/.exec(output);
  return match ? { scenarios: Number(match[1]), linksCovered: Number(match[2]), linksTotal: Number(match[3]) } : undefined;
}

/** The seed and bounds of the run: the same examples every time. */
export const SCHEMATHESIS_SEED = 16;
const MAX_EXAMPLES = 5;

/** Schemathesis (PyPI) in a venv under ~/.cache/shouwang, installed with pip the first time. */
async function ensureSchemathesis(): Promise<string> {
  const venv = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'shouwang', 'schemathesis-venv');
  const st = join(venv, 'bin', 'st');
  if (existsSync(st)) return st;
  mkdirSync(join(venv, '..'), { recursive: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(join(venv, 'bin', 'pip'), ['install', '--quiet', 'schemathesis'], { maxBuffer: 64 << 20 });
  return st;
}

const dir = mkdtempSync(join(tmpdir(), 'shouwang-schemathesis-'));
const store = new EmbeddedStore({ path: join(dir, 'st.db') });
const prefix = `test-st-${process.pid}-${Date.now()}`;
let app: FastifyInstance;
let base: string;
let admin: Client;
let backupQueues: BackupQueues;
let evidence: EvidenceQueue;

beforeAll(async () => {
  await seedTwoDepartments(store);
  // The inventory → backup verify/drill links then queue real jobs, which the job-status link reads back.
  await giveBackupPolicies(store, dir);
  await seedUser(store, 'st-admin-9f3c', 'admin');
  const redisUrl = inject('redisUrl');
  backupQueues = new BackupQueues({ redis: redisUrl, prefix, attempts: 1, backoffMs: 100 });
  evidence = new EvidenceQueue({ redis: redisUrl, prefix });
  app = await testApp(store, {
    backupQueues, evidence: { queue: evidence, dataDir: dir },
    rules: { catalog: () => [], switches: await RuleSwitches.open(join(dir, 'rules-disabled.json')) },
    // Schemathesis sends many requests from one address; the limits have their own tests.
    sessions: { secureCookies: false },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  admin = await login(app, 'st-admin-9f3c');
}, 60_000);

afterAll(async () => {
  await app?.close();
  await backupQueues?.verify.obliterate({ force: true }).catch(() => undefined);
  await backupQueues?.drill.obliterate({ force: true }).catch(() => undefined);
  await backupQueues?.close();
  await evidence?.queue.obliterate({ force: true }).catch(() => undefined);
  await evidence?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Schemathesis against the OpenAPI document', () => {
  it('reads the stateful summary, and finds none when the phase was not applicable', () => {
    const ran = '✅  Stateful (in 7.02s)\n\n     Scenarios:    119\n     API Links:    14 covered / 18 selected / 18 total (7 inferred)\n';
    expect(statefulSummary(ran)).toEqual({ scenarios: 119, linksCovered: 14, linksTotal: 18 });
    expect(statefulSummary('Test Phases:\n  ⏭  Stateful (not applicable)\n')).toBeUndefined();
  });

  it(`finds no 5xx and no answer outside the schema (seed ${SCHEMATHESIS_SEED}, ${MAX_EXAMPLES} examples, stateful)`, async () => {
    const st = await ensureSchemathesis();
    const schema = join(dir, 'openapi.json');
    writeFileSync(schema, (await admin.get('/api/docs')).body);
    const report = join(dir, 'report');
    const result = await run(st, [
      'run', schema, '--url', base,
      '-H', `Cookie: ${admin.cookie}`, '-H', `x-csrf-token: ${admin.csrf}`,
      '--checks', 'not_a_server_error,response_schema_conformance',
      '--max-examples', String(MAX_EXAMPLES), '--seed', String(SCHEMATHESIS_SEED),
      '--phases', 'examples,coverage,fuzzing,stateful', '--workers', '1', '--max-time', '90',
      // Logging out (or out everywhere), or a new password for the run's own admin, would end its session.
      '--exclude-path-regex', '^/api/(session|users/)',
      '--report', 'ndjson', '--report-dir', report, '--no-color',
    ], { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } }).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
    const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
    if (process.env.SHOUWANG_SCHEMATHESIS_OUT) {
      writeFileSync(process.env.SHOUWANG_SCHEMATHESIS_OUT, output);
      // The NDJSON report names every step of every stateful scenario, with the link it followed.
      for (const name of existsSync(report) ? readdirSync(report) : []) copyFileSync(join(report, name), `${process.env.SHOUWANG_SCHEMATHESIS_OUT}.${name}`);
    }
    // The session must have lived through the run, or most answers were 401s and proved nothing.
    expect((await admin.get('/api/me')).statusCode).toBe(200);
    expect(output, output.slice(-6000)).toMatch(/No issues found|passed/i);
    // The stateful phase ran scenarios that followed the document's links, not "not applicable".
    expect(output, output.slice(-6000)).not.toMatch(/Stateful \(not applicable\)/);
    const stateful = statefulSummary(output);
    expect(stateful, output.slice(-6000)).toBeDefined();
    expect(stateful!.scenarios).toBeGreaterThan(0);
    expect(stateful!.linksCovered).toBeGreaterThan(0);
    // The eleven declared links (openapi-links.test.ts) at least; Schemathesis may infer more.
    expect(stateful!.linksTotal).toBeGreaterThanOrEqual(11);
    expect(output).not.toMatch(/Server error|Response violates schema/i);
    expect('code' in result ? result.code : 0, output.slice(-6000)).toBe(0);
    if (existsSync(join(report, 'events.ndjson'))) expect(readFileSync(join(report, 'events.ndjson'), 'utf8').length).toBeGreaterThan(0);
  }, 400_000);
});

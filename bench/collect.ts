import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetIndex, canConnect, ChildService, ensureExecutable, freePort, loadInventory, sleep } from '../core/index.js';
import { postgresLogRecords, resolveFormat, SyslogServer, type Line } from '../collectors/index.js';
import { median } from './measure.js';

const FIXTURES = 'test/fixtures/logs';
/** Each fixture with the format our pipeline reads it as (`auto`: syslog or JSON per line). */
const FIXTURE_FORMATS: { file: string; format: string }[] = [
  { file: 'loghub/Linux/Linux_2k.log', format: 'auto' },
  { file: 'loghub/OpenSSH/OpenSSH_2k.log', format: 'auto' },
  { file: 'elastic-beats-filebeat-tests/system-auth/test.log', format: 'auto' },
  { file: 'loghub/Apache/Apache_2k.log', format: 'web-error-log' },
  { file: 'elastic-examples-apache_logs/apache_logs', format: 'access-log' },
  { file: 'elastic-beats-filebeat-tests/nginx-access/test.log', format: 'access-log' },
  { file: 'elastic-beats-filebeat-tests/auditd/test.log', format: 'auditd' },
  { file: 'elastic-beats-filebeat-tests/auditd/useradd.log', format: 'auditd' },
  { file: 'pgaudit/pgaudit_audit_lines.txt', format: 'pgaudit' },
];
const ROUNDS = 5;
/** The fixtures are small; repeating them gives each round enough work to time (≈ 1 s). */
const REPEAT = 4;
/** Times the syslog fixtures are repeated in the TCP stream (≈ 80,000 lines). */
const STREAM_REPEAT = 20;
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

interface Sample {
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
}

/**
 * `collect`: decode + normalize + enrich throughput of our pipeline on the fixture logs,
 * single-threaded (so events per CPU-second is events/s per core), next to a real rsyslog
 * receiving the same syslog stream over TCP into a file, in the same run.
 */
export async function benchCollect(): Promise<void> {
  const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
  const fixtures = FIXTURE_FORMATS.map(({ file, format }) => {
    const lines = readFileSync(join(FIXTURES, file), 'utf8').split('\n').filter((line) => line.trim() !== '');
    return { file, format, lines: format === 'pgaudit' ? [...postgresLogRecords(lines, 'stderr')] : lines };
  });
  // The syslog stream: every syslog fixture line with a priority, as a relay would send it.
  const syslogLines = fixtures.filter((fixture) => fixture.format === 'auto').flatMap((fixture) => fixture.lines.map((line) => `<38>${line}`));
  const stream = Array.from({ length: STREAM_REPEAT }, () => syslogLines).flat();
  const streamBytes = Buffer.from(stream.map((line) => `${line}\n`).join(''));

  // The decode stage every source calls: each fixture's format resolved once, as a source does at start.
  const context = { now: new Date() };
  const stages = new Map(fixtures.map(({ file, format }) => [file, resolveFormat({ source: file, format, assets })]));
  const syslogStage = resolveFormat({ source: 'syslog', format: 'syslog', assets });
  let round = 0;
  const pipelineAll = (): Promise<Sample> => timed(() => {
    round += 1;
    let events = 0;
    for (let r = 0; r < REPEAT; r += 1) {
      for (const { file, lines } of fixtures) {
        const stage = stages.get(file)!;
        for (let i = 0; i < lines.length; i += 1) {
          const line: Line = { text: lines[i]!, position: `${round}:${r}:${i}` };
          const decoded = stage.decode(line, context);
          if (decoded.ok) events += 1;
        }
      }
    }
    return events;
  });
  const pipelineSyslog = (): Promise<Sample> => timed(() => {
    round += 1;
    let events = 0;
    for (let i = 0; i < stream.length; i += 1) {
      if (syslogStage.decode({ text: stream[i]!, position: `${round}:${i}` }, context).ok) events += 1;
    }
    return events;
  });

  const dir = mkdtempSync(join(tmpdir(), 'shouwang-bench-collect-'));
  const rsyslogd = await ensureExecutable({ command: 'rsyslogd', debianPackage: 'rsyslog' });
  const samples: Record<string, Sample[]> = {
    'rsyslog: TCP syslog → file (baseline)': [],
    'shouwang: TCP syslog → decode+enrich → NDJSON file': [],
    'shouwang: decode+enrich, same syslog lines': [],
    'shouwang: decode+enrich, all fixtures': [],
  };
  try {
    for (let r = 0; r < ROUNDS; r += 1) {
      samples['rsyslog: TCP syslog → file (baseline)']!.push(await rsyslogToFile(rsyslogd, dir, streamBytes, stream.length));
      samples['shouwang: TCP syslog → decode+enrich → NDJSON file']!.push(await shouwangToFile(join(dir, `shouwang-${r}.ndjson`), streamBytes, stream.length, assets));
      samples['shouwang: decode+enrich, same syslog lines']!.push(await pipelineSyslog());
      samples['shouwang: decode+enrich, all fixtures']!.push(await pipelineAll());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const perCore = (list: Sample[]) => median(list.map((s) => s.events / s.cpuSeconds));
  const wall = (list: Sample[]) => median(list.map((s) => s.events / s.wallSeconds));
  const entries = Object.entries(samples);
  const baseline = perCore(entries[0]![1]);
  console.log(`\ncollect: decode + normalize + enrich (median of ${ROUNDS} rounds; syslog stream ${stream.length.toLocaleString('en-US')} lines, `
    + `all fixtures ${(fixtures.reduce((n, f) => n + f.lines.length, 0) * REPEAT).toLocaleString('en-US')} records)`);
  console.log(`  ${'variant'.padEnd(52)} ${'events/s (wall)'.padStart(16)} ${'events/s per core'.padStart(18)}  ratio (per core)`);
  for (const [name, list] of entries) {
    const ratio = name === entries[0]![0] ? 'baseline' : `${(perCore(list) / baseline).toFixed(2)}× rsyslog`;
    console.log(`  ${name.padEnd(52)} ${fmt(wall(list)).padStart(16)} ${fmt(perCore(list)).padStart(18)}  ${ratio}`);
  }
  const goal = perCore(samples['shouwang: decode+enrich, all fixtures']!);
  console.log(`  goal ≥ 70,000 events/s per core (issue #13): ${goal >= 70_000 ? 'met' : 'NOT met'} (${fmt(goal)})`);
  console.log('  per core = events / CPU seconds of the process (ours: process.cpuUsage; rsyslog: utime+stime from /proc/<pid>/stat)');
}

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');

/** Runs synchronous work and measures wall and CPU time of this process. */
async function timed(work: () => number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const events = work();
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { events, wallSeconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** A fresh rsyslogd writing each received message as it came (`%rawmsg%`) to a file; timed from the first byte to the last line on disk. */
async function rsyslogToFile(rsyslogd: string, parent: string, bytes: Buffer, lines: number): Promise<Sample> {
  const work = mkdtempSync(join(parent, 'rsyslog-'));
  const port = await freePort();
  const output = join(work, 'out.log');
  writeFileSync(join(work, 'rsyslog.conf'), [
    `global(workDirectory="${work}")`,
    'module(load="imtcp")',
    'template(name="raw" type="string" string="%rawmsg%\\n")',
    `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="bench")`,
    `ruleset(name="bench") { action(type="omfile" file="${output}" template="raw") }`,
  ].join('\n') + '\n');
  const service = await ChildService.start({
    name: 'rsyslogd', command: rsyslogd, args: ['-n', '-f', join(work, 'rsyslog.conf'), '-i', join(work, 'rsyslogd.pid')],
    logFile: join(work, 'rsyslogd.log'), ready: () => canConnect(port),
  });
  try {
    const pid = service.pid!;
    const cpuBefore = processCpuSeconds(pid);
    const started = process.hrtime.bigint();
    const socket = connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    socket.end(bytes);
    while (fileSize(output) < bytes.length) await sleep(2);
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuSeconds = processCpuSeconds(pid) - cpuBefore;
    const written = readFileSync(output, 'utf8').split('\n').length - 1;
    if (written !== lines) throw new Error(`rsyslog wrote ${written} lines, expected ${lines}`);
    return { events: lines, wallSeconds, cpuSeconds };
  } finally {
    await service.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Our syslog server over TCP, each message decoded, enriched and written as NDJSON; timed like rsyslog. */
async function shouwangToFile(output: string, bytes: Buffer, lines: number, assets: AssetIndex): Promise<Sample> {
  const out = createWriteStream(output);
  const stage = resolveFormat({ source: 'syslog', format: 'syslog', assets });
  const now = new Date();
  let handled = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const server = new SyslogServer({
    tcpPort: 0,
    onMessage: async (message, peer) => {
      const decoded = stage.decode({ text: message.toString('utf8'), position: `${peer.port}:${handled}` }, { now, peer });
      out.write(`${JSON.stringify(decoded.ok ? decoded.event : decoded)}\n`);
      handled += 1;
      if (handled === lines) done();
    },
  });
  await server.start();
  try {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const socket = connect({ port: server.ports.tcp!, host: '127.0.0.1' });
    await once(socket, 'connect');
    socket.end(bytes);
    await all;
    await new Promise<void>((resolve) => out.end(resolve));
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    return { events: lines, wallSeconds, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await server.close();
    rmSync(output, { force: true });
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** utime + stime of a process, all its threads included. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './measure.js';
import { sendSyslog, waitForCount } from './pipeline-input.js';
import { embeddedCount, processCpuSeconds, removeDir, startShouwangCollect } from './pipeline-receivers.js';

const EVENTS = Number(process.env.SHOUWANG_BENCH_BRUTE_FORCE_EVENTS ?? 60_000);
const ROUNDS = Number(process.env.SHOUWANG_BENCH_ROUNDS ?? 3);
const SOURCES = 10;

/**
 * sshd lines from SOURCES addresses over 200 s ending 40 s ago, so all of them are inside correlation's 5-minute
 * lateness. `message` makes them failed logins (signals the brute-force correlations hold) or closed connections
 * (no rule matches: the baseline).
 */
function sshdLines(message: string): string[] {
  const end = Date.now() - 40_000;
  return Array.from({ length: EVENTS }, (_, i) => {
    const at = new Date(end - 200_000 + Math.floor((i / EVENTS) * 200_000)).toISOString();
    return `<38>1 ${at} zwfw-ywtb-app01 sshd ${10_000 + i} - - ${message} 10.20.9.${i % SOURCES} port ${1024 + (i % 60_000)} ssh2`;
  });
}

/** One `shouwang collect` on the embedded store: CPU per event until all are stored, and the correlation state left. */
async function run(lines: string[]): Promise<{ cpuMicros: number; stateBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-bench-brute-'));
  try {
    const collector = await startShouwangCollect(dir, { kind: 'embedded', dir });
    try {
      const before = processCpuSeconds(collector.pid);
      await sendSyslog([collector.port], lines, 4);
      await waitForCount(embeddedCount(dir), lines.length, 'brute-force events stored');
      const cpuMicros = ((processCpuSeconds(collector.pid) - before) / lines.length) * 1e6;
      // The state file and the journal of its reorder buffer beside it.
      const checkpoints = join(dir, 'checkpoints');
      const state = existsSync(checkpoints) ? readdirSync(checkpoints).filter((name) => name.startsWith('correlation.json')) : [];
      return { cpuMicros, stateBytes: state.reduce((sum, name) => sum + statSync(join(checkpoints, name)).size, 0) };
    } finally {
      await collector.stop();
    }
  } finally {
    removeDir(dir);
  }
}

/**
 * `brute-force`: a brute force is what the analyzers are for, and it keeps minutes of failed-login signals in the
 * correlation state (the reorder buffer holds `analyze.lateness`). The collector's CPU per event on that stream,
 * beside the same number of sshd lines no rule matches, interleaved, in one run.
 */
export async function benchBruteForce(): Promise<void> {
  const variants = {
    'sshd lines no rule matches (baseline)': sshdLines('Connection closed by'),
    [`failed logins from ${SOURCES} addresses`]: sshdLines('Failed password for root from'),
  };
  const samples: Record<string, { cpuMicros: number; stateBytes: number }[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, lines] of Object.entries(variants)) samples[name]!.push(await run(lines));
  }
  console.log(`\nbrute-force: ${EVENTS.toLocaleString('en-US')} sshd lines in 200 s of event time → shouwang collect → embedded store, `
    + `collector CPU per event until all are stored (median of ${ROUNDS} rounds)`);
  let baseline: number | undefined;
  for (const [name, values] of Object.entries(samples)) {
    const cpu = median(values.map((value) => value.cpuMicros));
    baseline ??= cpu;
    const state = median(values.map((value) => value.stateBytes)) / 1e6;
    console.log(`  ${name.padEnd(42)} ${cpu.toFixed(1).padStart(8)} µs CPU/event  ${cpu === baseline ? 'baseline' : `${(cpu / baseline).toFixed(2)}× baseline`}`
      + `  correlation state ${state.toFixed(1)} MB`);
  }
}

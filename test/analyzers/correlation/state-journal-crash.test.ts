import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Correlator, CorrelationStateFile } from '../../../analyzers/correlation/index.js';
import { distModule } from '../../harness/built.js';
import { correlations } from './rule-documents.js';

// A process writing the correlation state through its journal, killed with SIGKILL at random moments (mostly in the
// middle of a save: it saves all the time): what it acknowledged is always there afterwards, and the state loads.

const dir = mkdtempSync(join(tmpdir(), 'state-journal-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(import.meta.dirname, 'fixtures', 'state-journal-writer.mjs');

/** Runs the writer from signal `start`, kills it `delayMs` after its `acks`-th acknowledgement; returns the last acknowledged count. */
async function runAndKill(path: string, start: number, acks: number, delayMs: number): Promise<number> {
  const modules = [distModule('analyzers/correlation/index.js'), distModule('analyzers/sigma/index.js')];
  const child = spawn(process.execPath, [script, path, String(start), ...modules], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  let acked = start;
  let seen = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    acked = Number(/^acked (\d+)$/.exec(line)![1]);
    seen += 1;
    if (seen === acks) {
      setTimeout(() => child.kill('SIGKILL'), delayMs);
      break;
    }
  }
  // Acknowledgements printed before the kill landed count too.
  for await (const line of createInterface({ input: child.stdout })) acked = Math.max(acked, Number(/^acked (\d+)$/.exec(line)?.[1] ?? 0));
  expect(await exited, stderr).toBe('SIGKILL');
  return acked;
}

describe('correlation state journal killed mid-write', () => {
  it('loses nothing acknowledged, and the state always loads', async () => {
    const path = join(dir, 'correlation.json');
    const rules = correlations(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {gte: 1000000}}
`);
    let acked = 0;
    for (let run = 0; run < 8; run += 1) {
      acked = await runAndKill(path, acked, 2 + ((run * 7) % 11), run % 3);
      const saved = await new CorrelationStateFile(path).load();
      const correlator = new Correlator(rules, { latenessMs: 3_600_000 });
      correlator.restore(saved);
      const ids = new Set(correlator.snapshot().seen.map(([key]) => key.split('\u001f')[1]));
      const missing = Array.from({ length: acked }, (_, i) => `e${i}`).filter((id) => !ids.has(id));
      expect(missing, `run ${run}: acknowledged ${acked}`).toEqual([]);
      expect(correlator.pending).toBe(ids.size);
    }
    // Journals of compactions before the last are gone (a kill may leave one more, and a temporary file).
    expect(readdirSync(dir).filter((name) => name.includes('.journal')).length).toBeLessThanOrEqual(3);
  }, 120_000);
});

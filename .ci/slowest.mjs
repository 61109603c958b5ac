// Prints the slowest test files of a run from vitest's json reporter output.
// Usage: node .ci/slowest.mjs <vitest json file> [count]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import process from 'node:process';

const [file, count = '10'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(file, 'utf8'));
const files = report.testResults
  .map((result) => ({ seconds: (result.endTime - result.startTime) / 1000, name: relative(process.cwd(), result.name), status: result.status }))
  .sort((a, b) => b.seconds - a.seconds);
const total = files.reduce((sum, f) => sum + f.seconds, 0);
const lines = [`最慢的 ${count} 个测试文件 / slowest ${count} test files (of ${files.length}, ${total.toFixed(0)} s in all):`];
for (const f of files.slice(0, Number(count))) lines.push(`${f.seconds.toFixed(1).padStart(8)} s  ${f.name}${f.status === 'passed' ? '' : `  (${f.status})`}`);
process.stdout.write(`${lines.join('\n')}\n`);

/** The worker behind RuleSandbox: one pasted rule trial per message, answered in order. */
import { parentPort } from 'node:worker_threads';
import { tryRule } from './rule-trial.js';
import type { FieldMapping } from './sigma/index.js';

export interface TrialJob {
  text: string;
  events: Record<string, unknown>[];
  mapping?: FieldMapping;
}

const port = parentPort;
if (!port) throw new Error('rule-sandbox-worker runs in a worker thread');
port.on('message', (job: TrialJob) => port.postMessage(tryRule(job.text, job.events, job.mapping)));
// One trial before "ready": the YAML parser, compiler and matcher run cold only once, outside any rule's time budget.
tryRule('title: warm-up\nid: warm-up\nlogsource: {product: linux}\ndetection:\n  s: {message|re: \'^w+$\', user.name|contains: x}\n  condition: s\n', [{ message: 'www' }]);
port.postMessage('ready');

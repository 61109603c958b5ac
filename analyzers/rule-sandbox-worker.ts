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
port.postMessage('ready');

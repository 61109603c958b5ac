// Starts a worker written in TypeScript when running from the sources (vitest): Node 20 cannot load
// .ts itself, so these hooks transpile each module with the typescript package (a dev dependency).
// Builds (dist/) start the compiled .js worker directly and never load this file.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

register('./source-hooks.mjs', import.meta.url);
await import(workerData.sourceEntry);

import { benchCollect } from './collect.js';
import { benchConsole } from './console.js';
import { benchBackupVerify } from './backup-verify.js';
import { benchStoreBulk } from './store-bulk.js';
import { benchStoreWrite } from './store-write.js';
import { benchRules } from './rules.js';
import { benchEvidence } from './evidence.js';
import { benchFuzz } from './fuzz.js';
import { benchNotify } from './notify.js';
import { benchCorrelation } from './correlation.js';
import { benchBruteForce } from './brute-force.js';
import { benchPipeline, benchScale } from './pipeline.js';

/** `npm run bench`: every benchmark, each printed next to its baseline from the same run. */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  'store-write': benchStoreWrite,
  'store-bulk': benchStoreBulk,
  rules: benchRules,
  'backup-verify': benchBackupVerify,
  collect: benchCollect,
  console: benchConsole,
  evidence: benchEvidence,
  fuzz: benchFuzz,
  notify: benchNotify,
  correlation: benchCorrelation,
  'brute-force': benchBruteForce,
  pipeline: benchPipeline,
  scale: benchScale,
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(BENCHMARKS)) {
  if (only.length && !only.includes(name)) continue;
  await run();
}

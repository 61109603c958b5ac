import { MANIFEST_FILES, readManifest, type Manifest } from '../manifest.js';
import { isRepositoryTarget, type BackupFileInfo, type BackupSetRef, type BackupTarget } from '../targets/index.js';
import type { BackupSite } from './outcome.js';

export interface SetListing {
  name: string;
  time: Date;
  files: BackupFileInfo[];
  /** Files other than the manifest. */
  dataFiles: number;
  dataBytes: number;
  /** The tool's kind of set when sizes differ by kind (mariabackup: full vs incremental). */
  type?: string;
}

/** What one site holds, listed once and shared by every check of the run. */
export interface SiteSnapshot {
  site: BackupSite;
  target: BackupTarget;
  sets: BackupSetRef[];
  latest?: SetListing & { manifest?: Manifest; manifestError?: string };
  /** Sets before the latest, newest first, at most `historySize`. */
  history: SetListing[];
  /** The target could not be listed at all. */
  error?: string;
}

export async function listSet(target: BackupTarget, set: BackupSetRef): Promise<SetListing> {
  const files = await target.listFiles(set.name);
  const data = files.filter((file) => !MANIFEST_FILES.includes(file.path));
  const type = isRepositoryTarget(target) ? target.setType?.(set.name) : undefined;
  return {
    name: set.name, time: set.time, files, dataFiles: data.length, dataBytes: data.reduce((sum, f) => sum + f.size, 0), ...(type ? { type } : {}),
  };
}

export async function takeSnapshot(site: BackupSite, target: BackupTarget, historySize = 7): Promise<SiteSnapshot> {
  let sets: BackupSetRef[];
  try {
    sets = await target.listSets();
  } catch (error) {
    return { site, target, sets: [], history: [], error: (error as Error).message };
  }
  const newest = sets.at(-1);
  if (!newest) return { site, target, sets, history: [] };
  try {
    const latest = await listSet(target, newest);
    let manifest: Manifest | undefined;
    let manifestError: string | undefined;
    try {
      manifest = await readManifest(target, newest.name);
    } catch (error) {
      manifestError = (error as Error).message;
    }
    const history: SetListing[] = [];
    for (const set of sets.slice(0, -1).reverse().slice(0, historySize)) history.push(await listSet(target, set));
    return {
      site, target, sets, history,
      latest: { ...latest, ...(manifest ? { manifest } : {}), ...(manifestError ? { manifestError } : {}) },
    };
  } catch (error) {
    return { site, target, sets, history: [], error: (error as Error).message };
  }
}

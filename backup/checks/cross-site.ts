import { readManifest, type Manifest } from '../manifest.js';
import { isRepositoryTarget, isS3Target, type BackupFileInfo } from '../targets/index.js';
import { compareObjects } from './object-agreement.js';
import { formatSeconds, nameList, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

export interface ManifestDiff {
  differing: string[];
  onlySameCity: string[];
  onlyOffSite: string[];
}

export function compareManifests(sameCity: Manifest, offSite: Manifest): ManifestDiff {
  const off = new Map(offSite.files.map((file) => [file.path, file]));
  const same = new Set(sameCity.files.map((file) => file.path));
  const diff: ManifestDiff = { differing: [], onlySameCity: [], onlyOffSite: [] };
  for (const file of sameCity.files) {
    const other = off.get(file.path);
    if (!other) diff.onlySameCity.push(file.path);
    else if (other.sha256 !== file.sha256 || (file.sm3 && other.sm3 && file.sm3 !== other.sm3)) diff.differing.push(file.path);
  }
  for (const file of offSite.files) if (!same.has(file.path)) diff.onlyOffSite.push(file.path);
  return diff;
}

async function manifestOf(snapshot: SiteSnapshot, set: string): Promise<Manifest | string> {
  if (snapshot.latest?.name === set) return snapshot.latest.manifest ?? snapshot.latest.manifestError ?? 'no manifest';
  try {
    return (await readManifest(snapshot.target, set)) ?? 'no manifest';
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The off-site copy must hold the same latest set with the same checksums. When one site is behind,
 * the lag is counted in sets and time, and the newest set both hold is compared instead. Behind by
 * no more than the RPO is a warning (the copy is on its way); beyond it, a failure.
 */
export async function checkCrossSite(sameCity: SiteSnapshot, offSite: SiteSnapshot, rpoSeconds: number): Promise<CheckOutcome> {
  const a = sameCity.latest;
  const b = offSite.latest;
  if (!a || !b) {
    const missing = [!a ? 'same-city' : undefined, !b ? 'off-site' : undefined].filter(Boolean).join(', ');
    return {
      status: 'fail',
      summary: `无法比对同城与异地：${missing.replace('same-city', '同城').replace('off-site', '异地')} 没有备份集 / cannot compare sites: no set at ${missing}`,
      detail: { sameCityLatest: a?.name, offSiteLatest: b?.name, sameCityError: sameCity.error, offSiteError: offSite.error },
    };
  }
  const offSiteBehind = b.time < a.time;
  const leader = offSiteBehind ? sameCity : offSite;
  const trailing = offSiteBehind ? b : a;
  const lagSets = leader.sets.filter((set) => set.time > trailing.time).length;
  const lagSeconds = Math.round(Math.abs(a.time.getTime() - b.time.getTime()) / 1000);
  // The newest set both sites hold is the one whose checksums must agree.
  const names = new Set(offSite.sets.map((set) => set.name));
  const common = [...sameCity.sets].reverse().find((set) => names.has(set.name));
  const detail: Record<string, unknown> = {
    sameCityLatest: a.name, offSiteLatest: b.name, lagSets, lagSeconds, rpoSeconds,
    behind: lagSets ? (offSiteBehind ? 'off-site' : 'same-city') : undefined, comparedSet: common?.name,
  };
  let mismatch: string | undefined;
  if (!common) mismatch = '两地没有共同的备份集 / the sites hold no set in common';
  else if (isRepositoryTarget(sameCity.target) && isRepositoryTarget(offSite.target)) {
    mismatch = await compareRepositorySets(sameCity, offSite, common.name, detail);
  } else {
    const [left, right] = await Promise.all([manifestOf(sameCity, common.name), manifestOf(offSite, common.name)]);
    if (typeof left === 'string' || typeof right === 'string') {
      mismatch = `备份集 ${common.name} 缺少可比对的清单 / set ${common.name} lacks a manifest to compare: ${[left, right].filter((m) => typeof m === 'string').join('; ')}`;
    } else {
      const diff = compareManifests(left, right);
      Object.assign(detail, diff);
      const names = [...diff.differing, ...diff.onlySameCity.map((p) => `${p} (仅同城 same-city only)`), ...diff.onlyOffSite.map((p) => `${p} (仅异地 off-site only)`)];
      if (names.length) mismatch = `备份集 ${common.name} 两地校验和不一致 / set ${common.name} differs between sites: ${nameList(names)}`;
      else if (isS3Target(sameCity.target) && isS3Target(offSite.target)) {
        mismatch = await compareStoredObjects(sameCity.target, offSite.target, common.name, left, detail);
      }
    }
  }
  if (mismatch) return { status: 'fail', summary: mismatch, detail };
  if (!lagSets) {
    return {
      status: 'pass',
      summary: `同城与异地最新备份集 ${a.name} 一致 / same-city and off-site hold the same latest set ${a.name} with the same checksums`,
      detail,
    };
  }
  const lag = formatSeconds(lagSeconds);
  if (!offSiteBehind) {
    return {
      status: 'warn',
      summary: `同城落后异地 ${lagSets} 个备份集（${lag}），异地最新 ${b.name} / same-city is ${lagSets} set(s) (${lag}) behind off-site, whose latest is ${b.name}`,
      detail,
    };
  }
  return {
    status: lagSeconds > rpoSeconds ? 'fail' : 'warn',
    summary: `异地落后 ${lagSets} 个备份集（${lag}），异地最新 ${b.name}，同城最新 ${a.name} / off-site is ${lagSets} set(s) (${lag}) behind: its latest is ${b.name}, same-city's ${a.name}`,
    detail,
  };
}

async function filesOf(snapshot: SiteSnapshot, set: string): Promise<BackupFileInfo[] | string> {
  if (snapshot.latest?.name === set) return snapshot.latest.files;
  try {
    return await snapshot.target.listFiles(set);
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Repositories have no manifest and their snapshot ids differ after `restic copy`; what must agree is
 * the snapshot's content as each repository lists it: every file path with its size.
 */
async function compareRepositorySets(
  sameCity: SiteSnapshot, offSite: SiteSnapshot, set: string, detail: Record<string, unknown>,
): Promise<string | undefined> {
  const [left, right] = await Promise.all([filesOf(sameCity, set), filesOf(offSite, set)]);
  if (typeof left === 'string' || typeof right === 'string') {
    return `备份集 ${set} 无法列出 / set ${set} cannot be listed: ${[left, right].filter((m) => typeof m === 'string').join('; ')}`;
  }
  const off = new Map(right.map((file) => [file.path, file.size]));
  const same = new Set(left.map((file) => file.path));
  const diff: ManifestDiff = { differing: [], onlySameCity: [], onlyOffSite: [] };
  for (const file of left) {
    const size = off.get(file.path);
    if (size === undefined) diff.onlySameCity.push(file.path);
    else if (size !== file.size) diff.differing.push(file.path);
  }
  for (const file of right) if (!same.has(file.path)) diff.onlyOffSite.push(file.path);
  Object.assign(detail, diff, { compared: 'paths and sizes', filesCompared: left.length });
  const names = [...diff.differing, ...diff.onlySameCity.map((p) => `${p} (仅同城 same-city only)`), ...diff.onlyOffSite.map((p) => `${p} (仅异地 off-site only)`)];
  return names.length ? `备份集 ${set} 两地内容不一致 / set ${set} differs between sites: ${nameList(names)}` : undefined;
}

/** Both sites in object storage: the manifests agree, now the objects themselves must (see compareObjects). */
async function compareStoredObjects(
  sameCity: Parameters<typeof compareObjects>[0], offSite: Parameters<typeof compareObjects>[1], set: string, manifest: Manifest,
  detail: Record<string, unknown>,
): Promise<string | undefined> {
  try {
    const agreement = await compareObjects(sameCity, offSite, set, manifest);
    Object.assign(detail, { objects: agreement });
    if (agreement.differing.length) {
      Object.assign(detail, { differing: agreement.differing });
      return `备份集 ${set} 两地对象内容不一致 / set ${set}: the stored objects differ between sites: ${nameList(agreement.differing)}`;
    }
    return undefined;
  } catch (error) {
    return `备份集 ${set} 两地对象无法比对 / set ${set}: the stored objects cannot be compared: ${(error as Error).message}`;
  }
}

import type { BucketLock, ObjectFacts, ResticRepository, S3Target } from '../targets/index.js';
import { SITE_LABEL, nameList, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

/** HEAD requests in flight at once: enough to hide latency, few enough for a small store. */
const HEAD_CONCURRENCY = 8;

export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index]!);
    }
  }));
  return out;
}

const isProtected = (facts: ObjectFacts, now: Date) =>
  facts.legalHold || (facts.lockMode !== undefined && facts.retainUntil !== undefined && facts.retainUntil > now);

/**
 * GOVERNANCE retention yields to anyone holding s3:BypassGovernanceRetention (a stolen admin key
 * will do); only COMPLIANCE or a legal hold stop everyone until the date.
 */
const isBypassable = (facts: ObjectFacts) => !facts.legalHold && facts.lockMode === 'GOVERNANCE';

/** What was looked at: a set's objects, or the parts of a restic repository a restore needs. */
interface Judged {
  setName: string;
  bucket: string;
  description: string;
  lock: BucketLock;
  objects: readonly { path: string; facts: ObjectFacts }[];
  /** Extra detail (which repository objects were judged) and its words for the summary. */
  scope?: { detail: Record<string, unknown>; zh: string; en: string };
}

function unreadable(snapshot: SiteSnapshot, setName: string, bucket: string, error: unknown): CheckOutcome {
  const message = (error as Error).message;
  return {
    status: 'fail',
    summary: `${SITE_LABEL[snapshot.site]}备份集 ${setName} 的对象锁定状态无法读取 / cannot read the Object Lock state of ${snapshot.site} set ${setName}: ${message}`,
    detail: { latestSet: setName, bucket, error: message },
  };
}

/**
 * Protected (COMPLIANCE in force or a legal hold on every object): pass. Protected, but some object
 * only by GOVERNANCE: warn. Any object without either: fail off-site, warn same-city.
 */
function judge(snapshot: SiteSnapshot, judged: Judged, now: Date): CheckOutcome {
  const zh = SITE_LABEL[snapshot.site];
  const { setName, lock, objects } = judged;
  const failStatus = snapshot.site === 'off-site' ? 'fail' : 'warn';
  const facts = objects.map((o) => o.facts);
  const unprotected = objects.filter((o) => !isProtected(o.facts, now)).map((o) => o.path);
  const bypassable = unprotected.length ? [] : objects.filter((o) => isBypassable(o.facts)).map((o) => o.path);
  const modes = [...new Set(facts.map((f) => f.lockMode).filter((m): m is string => m !== undefined))].sort();
  const until = facts.map((f) => f.retainUntil).filter((d): d is Date => d !== undefined && d > now).sort((a, b) => a.getTime() - b.getTime());
  const earliest = until[0]?.toISOString();
  const detail = {
    latestSet: setName, bucket: judged.bucket, target: judged.description, protected: unprotected.length === 0,
    bypassable, bucketLockEnabled: lock.enabled, defaultMode: lock.defaultMode, defaultDays: lock.defaultDays, defaultYears: lock.defaultYears,
    modes, retainUntil: earliest, objects: objects.length, unprotected,
    legalHolds: facts.filter((f) => f.legalHold).length,
    ...judged.scope?.detail,
  };
  const scopeZh = judged.scope ? `（${judged.scope.zh}）` : '';
  const scopeEn = judged.scope ? ` (${judged.scope.en})` : '';
  if (!unprotected.length) {
    const mode = modes.join('/') || 'LEGAL HOLD';
    const keptZh = earliest ? `，保留至 ${earliest}` : '';
    const keptEn = earliest ? `, retained until ${earliest}` : '';
    if (bypassable.length) {
      return {
        status: 'warn',
        summary: `${zh}备份集 ${setName} 受保护但可绕过（WORM，GOVERNANCE${keptZh}）：持有 s3:BypassGovernanceRetention 权限者可删除 ${bypassable.length}/${objects.length} 个对象${scopeZh} / `
          + `${snapshot.site} set ${setName} is protected, but bypassable with s3:BypassGovernanceRetention (WORM, GOVERNANCE${keptEn}): `
          + `${bypassable.length} of ${objects.length} objects${scopeEn} can be deleted by anyone holding it; use COMPLIANCE`,
        detail,
      };
    }
    return {
      status: 'pass',
      summary: `${zh}备份集 ${setName} 受保护（WORM，${mode}${keptZh}）${scopeZh} / ${snapshot.site} set ${setName} is protected (WORM, ${mode}${keptEn}): all ${objects.length} objects locked${scopeEn}`,
      detail,
    };
  }
  const why = lock.enabled
    ? `${unprotected.length}/${objects.length} 个对象无有效保留期 / ${unprotected.length} of ${objects.length} objects have no retention in force: ${nameList(unprotected)}`
    : `存储桶 ${judged.bucket} 未启用对象锁定 / bucket ${judged.bucket} has no Object Lock`;
  return {
    status: failStatus,
    summary: `${zh}备份集 ${setName} 未受保护（可被删除或覆盖）${scopeZh} / ${snapshot.site} set ${setName} is not protected (can be deleted or overwritten)${scopeEn}: ${why}`,
    detail,
  };
}

const noSet = (snapshot: SiteSnapshot): CheckOutcome => ({
  status: 'fail',
  summary: `${SITE_LABEL[snapshot.site]}没有备份集，无从判断防篡改保护 / no ${snapshot.site} set to judge`,
  detail: { error: snapshot.error },
});

/**
 * Whether a site's latest set in object storage is write-once (Object Lock): every object must carry a
 * retention that has not yet expired, or a legal hold. Ransomware with the backup keys can delete or
 * overwrite anything else. An unprotected off-site copy fails; a same-city one only warns (the
 * off-site copy is the one that must survive).
 */
export async function checkImmutability(snapshot: SiteSnapshot, target: S3Target, now: Date): Promise<CheckOutcome> {
  const latest = snapshot.latest;
  if (!latest) return noSet(snapshot);
  try {
    const lock = await target.bucketLock();
    const facts = await mapLimited(latest.files, HEAD_CONCURRENCY, (file) => target.objectFacts(latest.name, file.path));
    const objects = latest.files.map((file, i) => ({ path: file.path, facts: facts[i]! }));
    return judge(snapshot, { setName: latest.name, bucket: target.bucket, description: target.description, lock, objects }, now);
  } catch (error) {
    return unreadable(snapshot, latest.name, target.bucket, error);
  }
}

/**
 * The same for a restic repository on S3. A restore of the newest snapshot needs `config`, a key under
 * `keys/`, the snapshot's file under `snapshots/`, the `index/` files and the packs holding its blobs.
 * Which packs those are is only known after decrypting every tree, so all packs under `data/` are
 * judged: a superset of the newest snapshot's (restic deduplicates, so old packs serve it too).
 * `locks/` is left out: restic deletes its own lock files, so they cannot be locked.
 */
export async function checkResticImmutability(snapshot: SiteSnapshot, repository: ResticRepository, store: S3Target, now: Date): Promise<CheckOutcome> {
  const latest = snapshot.latest;
  if (!latest) return noSet(snapshot);
  try {
    const id = repository.snapshotId(latest.name);
    if (!id) throw new Error(`no snapshot id for ${latest.name}`);
    const [lock, keys, index, packs] = await Promise.all([
      store.bucketLock(), store.listFiles('keys'), store.listFiles('index'), store.listFiles('data'),
    ]);
    const paths = [
      'config', ...keys.map((f) => `keys/${f.path}`), `snapshots/${id}`, ...index.map((f) => `index/${f.path}`), ...packs.map((f) => `data/${f.path}`),
    ];
    const facts = await mapLimited(paths, HEAD_CONCURRENCY, (path) => store.objectFactsAt(path));
    const objects = paths.map((path, i) => ({ path, facts: facts[i]! }));
    const scope = {
      detail: { snapshotId: id, judged: { config: 1, keys: keys.length, snapshot: `snapshots/${id}`, index: index.length, packs: packs.length, packScope: 'all' } },
      zh: `config、${keys.length} 个密钥、快照 ${id.slice(0, 8)}、${index.length} 个索引和全部 ${packs.length} 个数据包`,
      en: `config, ${keys.length} keys, snapshot ${id.slice(0, 8)}, ${index.length} index files and all ${packs.length} pack files, a superset of the newest snapshot's`,
    };
    return judge(snapshot, { setName: latest.name, bucket: store.bucket, description: repository.description, lock, objects, scope }, now);
  } catch (error) {
    return unreadable(snapshot, latest.name, store.bucket, error);
  }
}

import type { ObjectFacts, S3Target } from '../targets/index.js';
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
 * Whether a site's latest set in object storage is write-once (Object Lock): every object must carry a
 * retention (GOVERNANCE or COMPLIANCE) that has not yet expired, or a legal hold. Ransomware with the
 * backup keys can delete or overwrite anything else. An unprotected off-site copy fails; a same-city
 * one only warns (the off-site copy is the one that must survive).
 */
export async function checkImmutability(snapshot: SiteSnapshot, target: S3Target, now: Date): Promise<CheckOutcome> {
  const zh = SITE_LABEL[snapshot.site];
  const latest = snapshot.latest;
  const failStatus = snapshot.site === 'off-site' ? 'fail' : 'warn';
  if (!latest) return { status: 'fail', summary: `${zh}没有备份集，无从判断防篡改保护 / no ${snapshot.site} set to judge`, detail: { error: snapshot.error } };
  let lock;
  let facts: ObjectFacts[];
  try {
    lock = await target.bucketLock();
    facts = await mapLimited(latest.files, HEAD_CONCURRENCY, (file) => target.objectFacts(latest.name, file.path));
  } catch (error) {
    return {
      status: 'fail',
      summary: `${zh}备份集 ${latest.name} 的对象锁定状态无法读取 / cannot read the Object Lock state of ${snapshot.site} set ${latest.name}: ${(error as Error).message}`,
      detail: { latestSet: latest.name, bucket: target.bucket, error: (error as Error).message },
    };
  }
  const unprotected = latest.files.filter((_, i) => !isProtected(facts[i]!, now)).map((file) => file.path);
  const modes = [...new Set(facts.map((f) => f.lockMode).filter((m): m is string => m !== undefined))].sort();
  const until = facts.map((f) => f.retainUntil).filter((d): d is Date => d !== undefined && d > now).sort((a, b) => a.getTime() - b.getTime());
  const earliest = until[0]?.toISOString();
  const detail = {
    latestSet: latest.name, bucket: target.bucket, target: target.description, protected: unprotected.length === 0,
    bucketLockEnabled: lock.enabled, defaultMode: lock.defaultMode, defaultDays: lock.defaultDays, defaultYears: lock.defaultYears,
    modes, retainUntil: earliest, objects: latest.files.length, unprotected,
    legalHolds: facts.filter((f) => f.legalHold).length,
  };
  if (!unprotected.length) {
    const mode = modes.join('/') || 'LEGAL HOLD';
    const kept = earliest ? `，保留至 ${earliest}` : '';
    return {
      status: 'pass',
      summary: `${zh}备份集 ${latest.name} 受保护（WORM，${mode}${kept}）/ ${snapshot.site} set ${latest.name} is protected (WORM, ${mode}${earliest ? `, retained until ${earliest}` : ''}): all ${latest.files.length} objects locked`,
      detail,
    };
  }
  const why = lock.enabled
    ? `${unprotected.length}/${latest.files.length} 个对象无有效保留期 / ${unprotected.length} of ${latest.files.length} objects have no retention in force: ${nameList(unprotected)}`
    : `存储桶 ${target.bucket} 未启用对象锁定 / bucket ${target.bucket} has no Object Lock`;
  return {
    status: failStatus,
    summary: `${zh}备份集 ${latest.name} 未受保护（可被删除或覆盖）/ ${snapshot.site} set ${latest.name} is not protected (can be deleted or overwritten): ${why}`,
    detail,
  };
}

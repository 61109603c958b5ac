import { isRepositoryTarget } from '../targets/index.js';
import { SITE_LABEL, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

/** The site holds at least one set; the latest is named. */
export function checkPresence(snapshot: SiteSnapshot): CheckOutcome {
  const zh = SITE_LABEL[snapshot.site];
  const target = snapshot.target.description;
  if (snapshot.error) {
    return {
      status: 'fail',
      summary: `${zh}备份位置无法读取：${snapshot.error} / ${snapshot.site} backup target unreadable: ${snapshot.error}`,
      detail: { target, error: snapshot.error, sets: 0 },
    };
  }
  const latest = snapshot.latest;
  if (!latest) {
    return {
      status: 'fail',
      summary: `${zh}备份位置 ${target} 没有任何备份集 / no backup set at ${snapshot.site} target ${target}`,
      detail: { target, sets: 0 },
    };
  }
  return {
    status: 'pass',
    summary: `${zh}最新备份集 ${latest.name}，共 ${snapshot.sets.length} 个 / ${snapshot.site} latest set ${latest.name}, ${snapshot.sets.length} sets`,
    detail: {
      target, sets: snapshot.sets.length, latestSet: latest.name, latestSetTime: latest.time.toISOString(), oldestSet: snapshot.sets[0]?.name,
      // The tool's own account (pgBackRest: backup types, WAL archive range, sizes).
      ...(isRepositoryTarget(snapshot.target) ? snapshot.target.details?.() : {}),
    },
  };
}

import { SITE_LABEL, formatSeconds, nameList, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

/** A gap between sets longer than this many RPOs means promised restore points are gone. */
export const RETENTION_GAP_FACTOR = 1.5;

/**
 * The policy promises one restore point per RPO for the whole retention period. So the oldest set must
 * reach back to the start of that window, and no two sets inside it may be further apart than
 * 1.5 × RPO (backups run a little early or late). Sets older than the window are fine and counted.
 */
export function checkRetention(snapshot: SiteSnapshot, rpoSeconds: number, retentionSeconds: number | undefined, now: Date): CheckOutcome {
  const zh = SITE_LABEL[snapshot.site];
  if (retentionSeconds === undefined) {
    return {
      status: 'pass',
      summary: `${zh}备份策略未规定保留期，现有 ${snapshot.sets.length} 个备份集 / the policy sets no retention; ${snapshot.sets.length} ${snapshot.site} sets held`,
      detail: { sets: snapshot.sets.length },
    };
  }
  const retention = formatSeconds(retentionSeconds);
  if (!snapshot.sets.length) {
    return {
      status: 'fail',
      summary: `${zh}没有备份集，保留期 ${retention} 无从谈起 / no ${snapshot.site} set, retention of ${retention} not kept`,
      detail: { retentionSeconds, sets: 0, error: snapshot.error },
    };
  }
  const windowStart = now.getTime() - retentionSeconds * 1000;
  const tolerance = RETENTION_GAP_FACTOR * rpoSeconds * 1000;
  const inWindow = snapshot.sets.filter((set) => set.time.getTime() >= windowStart);
  const olderThanWindow = snapshot.sets.length - inWindow.length;
  // The newest set older than the window still covers its start.
  const anchor = olderThanWindow ? snapshot.sets[olderThanWindow - 1]!.time.getTime() : undefined;
  const gaps: { after: string; before: string; gapSeconds: number }[] = [];
  let previous = anchor ?? windowStart;
  let previousName = anchor !== undefined ? snapshot.sets[olderThanWindow - 1]!.name : '(retention start)';
  for (const set of inWindow) {
    if (set.time.getTime() - previous > tolerance) {
      gaps.push({ after: previousName, before: set.name, gapSeconds: Math.round((set.time.getTime() - previous) / 1000) });
    }
    previous = set.time.getTime();
    previousName = set.name;
  }
  const expectedSets = Math.floor(retentionSeconds / rpoSeconds);
  const detail = {
    retentionSeconds, rpoSeconds, windowStart: new Date(windowStart).toISOString(), expectedSets,
    setsInWindow: inWindow.length, setsBeyondRetention: olderThanWindow, oldestSet: snapshot.sets[0]!.name,
    gaps, gapToleranceSeconds: tolerance / 1000,
  };
  if (gaps.length) {
    const names = gaps.map((gap) => `${gap.after}→${gap.before} (${formatSeconds(gap.gapSeconds)})`);
    const pruned = anchor === undefined && gaps[0]!.after === '(retention start)';
    return {
      status: 'fail',
      summary: pruned && gaps.length === 1
        ? `${zh}保留期 ${retention} 内最早的备份集缺失，最早仅到 ${snapshot.sets[0]!.name} / ${snapshot.site} sets promised by the ${retention} retention are gone: the oldest is ${snapshot.sets[0]!.name}`
        : `${zh}保留期 ${retention} 内缺少备份集：${nameList(names)} / ${snapshot.site} sets missing within the ${retention} retention: ${nameList(names)}`,
      detail,
    };
  }
  return {
    status: 'pass',
    summary: `${zh}保留期 ${retention} 内有 ${inWindow.length} 个备份集（按每个 RPO 一个约 ${expectedSets} 个），无缺口 / ${inWindow.length} ${snapshot.site} sets within the ${retention} retention (about ${expectedSets} at one per RPO), no gaps`,
    detail,
  };
}

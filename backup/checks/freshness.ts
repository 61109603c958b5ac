import { SITE_LABEL, formatSeconds, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

/** Above this share of the RPO the latest set is close to stale. */
export const FRESHNESS_WARN_RATIO = 0.8;
/** Clocks drift; a set this far in the future means a wrong clock or a wrong name. */
const FUTURE_TOLERANCE_SECONDS = 300;

/** Age of the latest set against the RPO: warn above 80 %, fail beyond. */
export function checkFreshness(snapshot: SiteSnapshot, rpoSeconds: number, now: Date): CheckOutcome {
  const zh = SITE_LABEL[snapshot.site];
  const latest = snapshot.latest;
  if (!latest) {
    return {
      status: 'fail',
      summary: `${zh}没有备份集，无法满足 RPO ${formatSeconds(rpoSeconds)} / no ${snapshot.site} set, RPO ${formatSeconds(rpoSeconds)} not met`,
      detail: { rpoSeconds, error: snapshot.error },
    };
  }
  const ageSeconds = Math.round((now.getTime() - latest.time.getTime()) / 1000);
  const ratio = ageSeconds / rpoSeconds;
  const detail = {
    latestSet: latest.name, latestSetTime: latest.time.toISOString(), ageSeconds, rpoSeconds,
    rpoRatio: Math.round(ratio * 1000) / 1000, manifestCreatedAt: latest.manifest?.createdAt,
  };
  const age = formatSeconds(ageSeconds);
  const rpo = formatSeconds(rpoSeconds);
  if (ageSeconds < -FUTURE_TOLERANCE_SECONDS) {
    return {
      status: 'warn',
      summary: `${zh}最新备份集 ${latest.name} 的时间在未来 ${formatSeconds(-ageSeconds)}，请检查时钟 / ${snapshot.site} latest set ${latest.name} is ${formatSeconds(-ageSeconds)} in the future; check clocks`,
      detail,
    };
  }
  if (ratio > 1) {
    return {
      status: 'fail',
      summary: `${zh}最新备份集 ${latest.name} 已过去 ${age}，超过 RPO ${rpo} / ${snapshot.site} latest set ${latest.name} is ${age} old, beyond the RPO of ${rpo}`,
      detail,
    };
  }
  const near = ratio > FRESHNESS_WARN_RATIO;
  return {
    status: near ? 'warn' : 'pass',
    summary: near
      ? `${zh}最新备份集 ${latest.name} 已过去 ${age}，接近 RPO ${rpo} / ${snapshot.site} latest set ${latest.name} is ${age} old, close to the RPO of ${rpo}`
      : `${zh}最新备份集 ${latest.name} 距今 ${age}，RPO ${rpo} 内 / ${snapshot.site} latest set ${latest.name} is ${age} old, within the RPO of ${rpo}`,
    detail,
  };
}

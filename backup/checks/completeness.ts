import { median } from './stats.js';
import { SITE_LABEL, formatBytes, type CheckOutcome } from './outcome.js';
import type { SiteSnapshot } from './snapshot.js';

/** A latest set this much smaller than the median of the previous sets is a sudden drop. */
export const COMPLETENESS_DROP_RATIO = 0.3;

/** Size and file count of the latest set against the median of the previous sets. */
export function checkCompleteness(snapshot: SiteSnapshot): CheckOutcome {
  const zh = SITE_LABEL[snapshot.site];
  const latest = snapshot.latest;
  if (!latest) {
    return { status: 'fail', summary: `${zh}没有备份集 / no ${snapshot.site} set`, detail: { error: snapshot.error } };
  }
  const measured: Record<string, unknown> = { latestSet: latest.name, files: latest.dataFiles, bytes: latest.dataBytes };
  if (latest.dataFiles === 0) {
    return {
      status: 'fail',
      summary: `${zh}最新备份集 ${latest.name} 是空的 / ${snapshot.site} latest set ${latest.name} is empty`,
      detail: measured,
    };
  }
  if (latest.dataBytes === 0) {
    // Files that are all empty (a dump job that died at once) hash and list fine, and restore nothing.
    return {
      status: 'fail',
      summary: `${zh}最新备份集 ${latest.name} 的 ${latest.dataFiles} 个文件都是空的（0 字节）/ every one of the ${latest.dataFiles} files of ${snapshot.site} latest set ${latest.name} is empty (0 bytes)`,
      detail: measured,
    };
  }
  // An incremental is small by design: sets are compared only with earlier sets of their own kind.
  const history = latest.type === undefined ? snapshot.history : snapshot.history.filter((set) => set.type === latest.type);
  if (latest.type !== undefined) Object.assign(measured, { setType: latest.type });
  if (!history.length) {
    return {
      status: 'pass',
      summary: `${zh}最新备份集 ${latest.name}：${latest.dataFiles} 个文件 ${formatBytes(latest.dataBytes)}，无更早备份可比 / ${snapshot.site} latest set ${latest.name}: ${latest.dataFiles} files, ${formatBytes(latest.dataBytes)}; no earlier set to compare`,
      detail: { ...measured, comparedWith: 0 },
    };
  }
  const medianBytes = median(history.map((set) => set.dataBytes));
  const medianFiles = median(history.map((set) => set.dataFiles));
  const bytesDrop = medianBytes > 0 ? 1 - latest.dataBytes / medianBytes : 0;
  const filesDrop = medianFiles > 0 ? 1 - latest.dataFiles / medianFiles : 0;
  const detail = {
    ...measured, comparedWith: history.length, comparedSets: history.map((set) => set.name),
    medianBytes, medianFiles, bytesDropRatio: round(bytesDrop), filesDropRatio: round(filesDrop), dropLimit: COMPLETENESS_DROP_RATIO,
  };
  const figures = `${latest.dataFiles} 个文件 ${formatBytes(latest.dataBytes)}，此前中位数 ${medianFiles} 个 ${formatBytes(medianBytes)}`;
  const figuresEn = `${latest.dataFiles} files, ${formatBytes(latest.dataBytes)} against a median of ${medianFiles} files, ${formatBytes(medianBytes)}`;
  if (bytesDrop > COMPLETENESS_DROP_RATIO || filesDrop > COMPLETENESS_DROP_RATIO) {
    return {
      status: 'fail',
      summary: `${zh}最新备份集 ${latest.name} 骤减：${figures} / ${snapshot.site} latest set ${latest.name} dropped suddenly: ${figuresEn}`,
      detail,
    };
  }
  return {
    status: 'pass',
    summary: `${zh}最新备份集 ${latest.name}：${figures} / ${snapshot.site} latest set ${latest.name}: ${figuresEn}`,
    detail,
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;

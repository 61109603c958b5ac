import PDFDocument from 'pdfkit';
import { ensureDebianPackage } from '../../core/index.js';
import type { ControlRow } from './controls.js';
import { EvidenceErrors } from './errors.js';
import type { EvidenceFacts } from './facts.js';
import { STATUSES, formatDuration, type ComplianceStatus, type ControlVerdict, type EvidencedControl } from './status-rules.js';

/** WenQuanYi Micro Hei: a free CJK font in Debian; the PDF embeds the glyphs it uses. */
export const CJK_FONT = {
  debianPackage: 'fonts-wqy-microhei',
  file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  /** The face inside the TrueType collection. */
  postscriptName: 'WenQuanYiMicroHei',
};

/** The font file, installed with apt-get when missing; a clear error naming the package otherwise. */
export async function ensureCjkFont(file = CJK_FONT.file): Promise<string> {
  try {
    return await ensureDebianPackage({ debianPackage: CJK_FONT.debianPackage, file });
  } catch (error) {
    throw EvidenceErrors.font(file, CJK_FONT.debianPackage, (error as Error).message);
  }
}

export interface ReportInput {
  facts: EvidenceFacts;
  rows: readonly ControlRow[];
  verdicts: ReadonlyMap<string, Record<EvidencedControl, ControlVerdict>>;
  generatedAt: string;
  fingerprint: string;
  fontFile: string;
}

const CONTROL_TITLES: Record<EvidencedControl, string> = { audit: '安全审计', intrusion: '入侵防范', backup: '数据备份恢复' };
const MARGIN = 40;

/** The zh-CN report: cover summary, one block per system, then the status count per control item. */
export function renderReport(input: ReportInput): Promise<Buffer> {
  const { facts, rows } = input;
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: '等级保护合规证据报告', Author: '守望 Shouwang' } });
  try {
    doc.registerFont('cjk', input.fontFile, CJK_FONT.postscriptName);
  } catch (error) {
    throw EvidenceErrors.font(input.fontFile, CJK_FONT.debianPackage, (error as Error).message);
  }
  doc.font('cjk');
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 2 * MARGIN;
  const heading = (text: string, size = 14) => {
    if (doc.y > doc.page.height - 120) doc.addPage();
    doc.moveDown(0.6).fontSize(size).fillColor('#003366').text(text).fillColor('black').moveDown(0.3);
  };
  const line = (text: string, size = 9) => doc.fontSize(size).text(text, { width });

  const { selection } = facts;
  const target = selection.system ? `系统 ${selection.system}` : selection.department ? `部门 ${selection.department}` : '全部系统 all systems';
  doc.fontSize(20).text('等级保护合规证据报告', { align: 'center' });
  doc.fontSize(11).text('MLPS 2.0 (GB/T 22239-2019) compliance evidence report', { align: 'center' }).moveDown(1);
  line(`范围 Scope：${target}${facts.scope?.departments ? `（部门范围 department scope: ${facts.scope.departments.join(', ')}）` : ''}`, 10);
  line(`期间 Period：${selection.from} — ${selection.to}`, 10);
  line(`生成时间 Generated：${input.generatedAt}`, 10);
  line(`签名公钥指纹 Signing key fingerprint：${input.fingerprint}`, 10);

  heading('总体情况 Overview');
  const tally = (control: EvidencedControl) => {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ComplianceStatus, number>;
    for (const verdict of input.verdicts.values()) counts[verdict[control].status] += 1;
    return STATUSES.map((s) => `${s} ${counts[s]}`).join('，');
  };
  line(`系统数 Systems：${facts.systems.length}；审计事件合计 audit events：${facts.systems.reduce((n, s) => n + s.audit.eventsInPeriod, 0)}；`
    + `告警合计 alerts：${facts.systems.reduce((n, s) => n + s.intrusion.alerts, 0)}；备份核查 backup checks：${facts.systems.reduce((n, s) => n + s.backup.checks, 0)}；`
    + `恢复演练 drills：${facts.systems.reduce((n, s) => n + s.backup.drills, 0)}`, 10);
  for (const control of Object.keys(CONTROL_TITLES) as EvidencedControl[]) line(`${CONTROL_TITLES[control]}：${tally(control)}`, 10);
  doc.moveDown(0.4);
  line('判定规则 Rules：安全审计 — 期间内无审计事件为不符合；全部日志源上报且日志留存 ≥ 180 天为符合；其余部分符合。'
    + '入侵防范 — 期间内无事件或告警无一处置为不符合；无告警，或处置率 ≥ 90% 且确认时间中位数 ≤ 24 小时为符合；其余部分符合。'
    + '数据备份恢复 — 无备份策略为不适用（需人工核查）；无核查或全部失败为不符合；通过率 ≥ 90%、各站点最新核查通过且演练达到 RTO 为符合；其余部分符合。'
    + '其他条款本平台无法自动取证，标为不适用（需人工核查）。', 8);

  heading('系统摘要 Summary per system');
  for (const system of facts.systems) {
    const verdicts = input.verdicts.get(system.system.id);
    if (doc.y > doc.page.height - 150) doc.addPage();
    doc.moveDown(0.4).fontSize(11).fillColor('#003366')
      .text(`${system.system.name}（${system.system.id}）· ${system.departmentName} · 第${system.system.mlpsLevel}级`).fillColor('black');
    const a = system.audit;
    const i = system.intrusion;
    const b = system.backup;
    line(`审计事件 ${a.eventsInPeriod} 条；日志源上报 ${a.reportingSources}/${a.expectedSources}；日志留存 ${a.retainedDays} 天`);
    line(`告警 ${i.alerts} 条，已处置 ${i.handled}，确认时间中位数 ${i.medianAckSeconds === undefined ? '—' : formatDuration(i.medianAckSeconds)}`);
    line(`备份核查 ${b.checks} 次，通过 ${b.passed}；恢复演练 ${b.drills} 次`
      + `${b.latestDrill?.rtoAchievedSeconds !== undefined ? `，RTO 实际 ${formatDuration(b.latestDrill.rtoAchievedSeconds)}` : ''}`
      + `${b.latestDrill?.rtoTargetSeconds !== undefined ? ` / 目标 ${formatDuration(b.latestDrill.rtoTargetSeconds)}` : ''}`
      + `${b.rpo ? `；RPO 实际 ${formatDuration(b.rpo.ageSeconds)} / 目标 ${formatDuration(b.rpo.targetSeconds)}` : ''}`);
    if (verdicts) {
      line((Object.keys(CONTROL_TITLES) as EvidencedControl[]).map((c) => `${CONTROL_TITLES[c]}：${verdicts[c].status}`).join('　'), 10);
    }
  }

  heading('控制项摘要 Summary per control item');
  const byClause = new Map<string, { row: ControlRow; counts: Record<ComplianceStatus, number> }>();
  for (const row of rows) {
    let entry = byClause.get(row.clause);
    if (!entry) byClause.set(row.clause, entry = { row, counts: { 符合: 0, 部分符合: 0, 不符合: 0, 不适用: 0 } });
    entry.counts[row.status] += 1;
  }
  const clauses = [...byClause.values()].sort((x, y) => x.row.clause.localeCompare(y.row.clause, 'en', { numeric: true }));
  for (const { row, counts } of clauses) {
    if (doc.y > doc.page.height - 70) doc.addPage();
    line(`${row.clause}（测评单元 ${row.testUnit}）${row.control}：${row.requirement}`, 8);
    doc.fillColor('#555555');
    line(`    ${STATUSES.map((s) => `${s} ${counts[s]}`).join('　')}`, 8);
    doc.fillColor('black');
  }
  doc.end();
  return done;
}

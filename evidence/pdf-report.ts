import PDFDocument from 'pdfkit';
import { ensureDebianPackage } from '../core/index.js';
import { evidencedClause, type ControlRow } from './controls.js';
import { EvidenceErrors } from './errors.js';
import type { EvidenceFacts } from './facts.js';
import { formatLocalIso } from './local-time.js';
import { FINGERPRINT_LABEL } from './report-fingerprint.js';
import {
  CONTROL_TITLES, EVIDENCED_CONTROLS, RETENTION_MONTHS_REQUIRED, STATUSES, STATUS_LABEL, formatRoundedDuration,
  type ComplianceStatus, type ControlVerdict, type EvidencedControl,
} from './status-rules.js';

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

const MARGIN = 40;

/** The zh-CN report: cover (scope by name, period in the configured time zone, settings), one block per system, then the status count per control item. */
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

  const { selection, names, settings } = facts;
  const department = (id: string) => `${names.departments[id] ?? id}（${id}）`;
  const target = selection.system ? `系统 ${names.systems[selection.system] ?? selection.system}（${selection.system}）`
    : selection.department ? `部门 ${department(selection.department)}` : '全部系统 all systems';
  const { periodDays } = facts;
  doc.fontSize(20).text('等级保护合规证据报告', { align: 'center' });
  doc.fontSize(11).text('MLPS 2.0 (GB/T 22239-2019, GB/T 28448-2019) compliance evidence report', { align: 'center' }).moveDown(1);
  line(`范围 Scope：${target}${facts.scope?.departments ? `（部门范围 department scope: ${facts.scope.departments.map(department).join('、')}）` : ''}`, 10);
  const local = (iso: string) => formatLocalIso(iso, settings.timeZone);
  line(`期间 Period：${local(selection.from)} — ${local(selection.to)}（至今 ${Math.round(periodDays * 10) / 10} 天 days elapsed）`, 10);
  line(`最短取证期间 Minimum evidence window：${settings.minimumWindowDays} 天 days${periodDays < settings.minimumWindowDays ? '（本期间短于此，任何项不判为符合 / shorter: no item is 符合）' : ''}`, 10);
  line(`异地实时备份 RPO 上限 Real-time off-site RPO bound（第三、四级 levels 3–4）：${formatRoundedDuration(settings.realtimeRpoSeconds)}`, 10);
  line(`生成时间 Generated：${local(input.generatedAt)}`, 10);
  line(`时区 Time zone：${settings.timeZone}（报告中的日期与时间均为此时区 / every date and time in this report）`, 10);
  line(`${FINGERPRINT_LABEL}${input.fingerprint}`, 10);

  heading('总体情况 Overview');
  const tally = (control: EvidencedControl) => {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ComplianceStatus, number>;
    for (const system of facts.systems) {
      const verdict = input.verdicts.get(system.system.id)?.[control];
      if (verdict && evidencedClause(control, system.system.mlpsLevel)) counts[verdict.status] += 1;
    }
    return STATUSES.filter((s) => counts[s]).map((s) => `${STATUS_LABEL[s]} ${counts[s]}`).join('，') || '—';
  };
  line(`系统数 Systems：${facts.systems.length}；审计事件合计 audit events：${facts.systems.reduce((n, s) => n + s.audit.eventsInPeriod, 0)}；`
    + `入侵告警合计 intrusion alerts：${facts.systems.reduce((n, s) => n + s.handling.alerts, 0)}；`
    + `备份核查 backup checks：${facts.systems.reduce((n, s) => n + s.backup.sameCity.checks + s.backup.offSite.checks + s.backup.crossSite.checks, 0)}；`
    + `恢复演练 drills：${facts.systems.reduce((n, s) => n + s.backup.sameCity.drills + s.backup.offSite.drills, 0)}`, 10);
  for (const control of EVIDENCED_CONTROLS) line(`${CONTROL_TITLES[control]}：${tally(control)}`, 10);
  doc.moveDown(0.4);
  line('判定规则 Rules：每个条款单独判定。安全审计 a) 期间内无审计事件为不符合，全部声明的日志源上报为符合（未声明日志源不算全覆盖）；'
    + 'b) 抽样记录均含日期时间、用户、事件类型和结果为符合（第四级另要求客体标识，最高为部分符合）；c) 审计记录备份无自动证据，未测评；'
    + `集中管控 d) 自期间末起向前 ${RETENTION_MONTHS_REQUIRED} 个自然月（${settings.timeZone}）每天均有留存记录为符合。`
    + '入侵防范 — 系统日志到达已启用的入侵检测规则且期间内有命中（含测试事件）为符合，仅到达而无命中为部分符合，无告警不等于符合；第二级（7.1.3.3）只计区域边界的网络入侵检测规则。'
    + '安全事件处置 c) — 仅统计入侵规则告警：处置率 ≥ 90%（均有书面处置记录）且确认时间中位数 ≤ 24 小时为符合，无告警为未测评。'
    + '数据备份恢复 a) 同城核查、最近一次同城恢复演练（无论成败）达到 RTO；b) 期间内须有异地核查，异地副本在 RPO 内，第三、四级策略 RPO 不超过实时上限，最近一次异地演练达到 RTO；无备份策略为不符合。'
    + '备份与恢复管理 a) 有备份策略为部分符合（识别清单需人工核查），b) 策略写明保存期为符合，c) 期间内两地均有核查且最近一次恢复演练通过为符合；无备份策略均为不符合。'
    + '应急预案管理 培训与演练 — 期间内有恢复演练为部分符合（培训需人工核查），无演练为未测评。'
    + '其他条款本平台无法自动取证，标为未测评（需人工核查）；不适用仅在给出理由时使用。', 8);
  line('Rules: each item is decided on its own. Security audit a) no audit event in the period is non-compliant, every declared log source reporting is compliant '
    + '(no source declared is not full coverage); b) every sampled record with date/time, user, event type and outcome is compliant (level 4 also asks for the '
    + 'object identity: at most partially compliant); c) no automated evidence of the records\' backup: not assessed; centralised control d) stored records on '
    + `every day of the ${RETENTION_MONTHS_REQUIRED} calendar months before the period end (${settings.timeZone}) is compliant. Intrusion prevention: the system's logs reach enabled `
    + 'intrusion rules and a rule matched in the period (test events count) is compliant; reaching without a match is partial: no alert is no evidence; '
    + 'at level 2 (7.1.3.3) only the boundary (network) intrusion rules count. '
    + 'Incident handling c): intrusion-rule alerts only; ≥ 90 % handled, each with a written record, and a median time to acknowledge ≤ 24 h is compliant; no alert is not assessed. '
    + 'Data backup a) same-city checks, the latest same-city drill (failed or not) met the RTO; b) an off-site check in the period, the off-site copy within the RPO, '
    + 'at levels 3–4 a policy RPO within the real-time bound, the latest off-site drill met the RTO; no backup policy is non-compliant. Backup management a) a policy is '
    + 'partial (the list is a document), b) a stated retention is compliant, c) both copies checked and the latest restore drill passed is compliant; no policy: non-compliant. '
    + 'Emergency plans, training and rehearsal: a restore drill in the period is partial (training needs manual review), none is not assessed. Every other item has no '
    + 'automated evidence: not assessed (manual review); not applicable only with a stated reason.', 8);

  heading('系统摘要 Summary per system');
  for (const system of facts.systems) {
    const verdicts = input.verdicts.get(system.system.id);
    const level = system.system.mlpsLevel;
    if (doc.y > doc.page.height - 150) doc.addPage();
    doc.moveDown(0.4).fontSize(11).fillColor('#003366')
      .text(`${system.system.name}（${system.system.id}）· ${system.departmentName} · 第${level}级`).fillColor('black');
    const a = system.audit;
    const h = system.handling;
    const b = system.backup;
    // Retention is x.1.5.4 d) (集中管控), which level 2 lacks.
    line(`审计事件 ${a.eventsInPeriod} 条；日志源上报 ${a.reportingSources}/${a.expectedSources}；抽样 ${a.records.sampled} 条，字段齐全 ${a.records.complete} 条`
      + `${evidencedClause('auditRetention', level) ? `；留存要求自 ${a.retention.requiredFrom} 起，缺失 ${a.retention.gapDays}/${a.retention.days} 天` : ''}`);
    line(`入侵检测规则启用 ${system.intrusion.rulesEnabled}/${system.intrusion.rules}；命中 ${system.intrusion.matches} 次；入侵告警 ${h.alerts} 条，已处置 ${h.handled}（有处置记录 ${h.documented ?? 0}），`
      + `确认时间中位数 ${h.medianAckSeconds === undefined ? '—' : formatRoundedDuration(h.medianAckSeconds)}`);
    if (b.hasPolicy) {
      line(`备份策略 Policy：RPO 目标 ${formatRoundedDuration(b.rpoTargetSeconds ?? 0)}，RTO 目标 ${formatRoundedDuration(b.rtoTargetSeconds ?? 0)}`);
      for (const [label, site] of [['同城 same-city', b.sameCity], ['异地 off-site', b.offSite]] as const) {
        const drill = site.latestDrill;
        line(`${label}：核查 ${site.checks} 次，通过 ${site.passed}${site.freshness ? `；最新备份 ${formatRoundedDuration(site.freshness.ageSeconds)} 前` : ''}；`
          + `演练 ${site.drills} 次${drill ? `，最近 ${local(drill.finishedAt)} ${drill.status}${drill.rto ? `，RTO 实际 ${formatRoundedDuration(drill.rto.achievedSeconds)}` : ''}` : ''}`);
      }
    } else {
      line('备份策略 Policy：资产清单中无 / none in the inventory');
    }
    if (verdicts) {
      // Only the rules whose item exists at the system's level.
      line(EVIDENCED_CONTROLS.filter((c) => evidencedClause(c, level))
        .map((c) => `${evidencedClause(c, level)} ${CONTROL_TITLES[c].split(' ')[0]}：${STATUS_LABEL[verdicts[c].status]}`).join('　'), 9);
    }
  }

  heading('控制项摘要 Summary per control item');
  const byClause = new Map<string, { row: ControlRow; counts: Record<ComplianceStatus, number> }>();
  for (const row of rows) {
    let entry = byClause.get(row.clause);
    if (!entry) byClause.set(row.clause, entry = { row, counts: Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ComplianceStatus, number> });
    entry.counts[row.status] += 1;
  }
  const clauses = [...byClause.values()].sort((x, y) => x.row.clause.localeCompare(y.row.clause, 'en', { numeric: true }));
  for (const { row, counts } of clauses) {
    if (doc.y > doc.page.height - 70) doc.addPage();
    line(`${row.clause}（测评单元 ${row.testUnit}）${row.control}：${row.requirement}`, 8);
    doc.fillColor('#555555');
    line(`    ${STATUSES.filter((s) => counts[s]).map((s) => `${STATUS_LABEL[s]} ${counts[s]}`).join('　')}`, 8);
    doc.fillColor('black');
  }
  doc.end();
  return done;
}

import type { Alert, RuleLevel } from '../../core/index.js';
import type { Dispatch } from './types.js';

const LEVEL_ZH: Record<RuleLevel, string> = { informational: '提示', low: '低', medium: '中', high: '高', critical: '严重' };

export interface NotifyMessage {
  subject: string;
  /** Plain text (email body, robot `text`, SMS). */
  text: string;
  /** Markdown for the robots. */
  markdown: string;
  /** One line for SMS gateways. */
  short: string;
}

const KIND_ZH: Record<Dispatch['kind'], string> = {
  alert: '告警 Alert', group: '重复告警 Repeats', held: '暂缓告警 Held alerts', digest: '每日摘要 Daily digest',
  escalation: '升级 Escalation', test: '测试消息 Test message',
};

const alertUrl = (consoleUrl: string, alert: Alert) => `${consoleUrl.replace(/\/+$/, '')}/alerts/${encodeURIComponent(alert.id)}`;

function alertLines(alert: Alert, consoleUrl: string | undefined): string[] {
  return [
    `规则 Rule: ${value(alert.rule.title)} (${value(alert.rule.id)})`,
    `级别 Level: ${LEVEL_ZH[alert.rule.level]} ${alert.rule.level} · 优先级 priority ${alert.priority}`,
    `系统 System: ${value(alert.system ?? '—')} · 部门 Department: ${value(alert.department ?? '—')} · 等保级别 MLPS level: ${alert.mlpsLevel ?? '—'}`,
    `等保条款 MLPS clause: ${value(alert.mlps.join('; ') || '—')}`,
    `实体 Entities: ${value(alert.groupKey || '—')}`,
    `次数 Count: ${alert.count} · 首次 first ${alert.firstSeen} · 最近 last ${alert.lastSeen}`,
    ...(consoleUrl ? [`查看 Open: ${alertUrl(consoleUrl, alert)}`] : []),
  ];
}

/**
 * An event value as message text. One line whatever it holds: a newline in a host name must not forge a
 * "级别 Level:" line. No live link: chat clients and mail readers make a bare `https://…` clickable, so an
 * attacker's URL in a user name would be a link in an official alert; its "://" becomes "：//" (still readable).
 */
function value(text: string): string {
  return oneLine(text).replace(/:\/\//g, '：//');
}

/** Line breaks (including the Unicode ones and NEL) become spaces. */
export function oneLine(text: string): string {
  return text.replace(/\r\n|[\r\n\v\f\u0085\u2028\u2029]/g, ' ');
}

/** The one wording of a dispatch, zh-CN first, for every channel. */
export function buildMessage(dispatch: Dispatch, consoleUrl?: string): NotifyMessage {
  const lead = dispatch.alerts[0];
  const head = lead ? `[守望 ${LEVEL_ZH[lead.rule.level]}] ${KIND_ZH[dispatch.kind]}` : `[守望] ${KIND_ZH[dispatch.kind]}`;
  const subject = lead
    ? `${head}${dispatch.step ? ` 第${dispatch.step}级 tier ${dispatch.step}` : ''}: ${value(lead.rule.title)} · ${value(lead.system ?? '—')}${dispatch.count > 1 ? ` ×${dispatch.count}` : ''}`
    : head;
  const blocks = dispatch.alerts.map((alert) => alertLines(alert, consoleUrl));
  const more = dispatch.count > dispatch.alerts.length ? [`共 ${dispatch.count} 次 / ${dispatch.count} occurrences in all`] : [];
  const escalated = dispatch.step ? [`告警 ${dispatch.step === 1 ? '未在时限内确认' : '仍未确认'} / not acknowledged in time`] : [];
  const text = [subject, ...escalated, '', ...blocks.map((b) => b.join('\n')).join('\n\n').split('\n'), ...more].join('\n');
  const markdown = [
    `### ${markdownSafe(subject)}`, ...escalated.map((l) => `> ${l}`), '',
    // The console link is the one link, made from the configured URL: never a pattern run over lines that carry event values.
    ...dispatch.alerts.map((alert, i) => [
      ...(consoleUrl ? blocks[i]!.slice(0, -1) : blocks[i]!).map((line) => `> ${markdownSafe(line)}`),
      ...(consoleUrl ? [`> 查看 Open: [${alertUrl(consoleUrl, alert)}](${alertUrl(consoleUrl, alert)})`] : []),
    ].join('\n')).join('\n\n').split('\n'),
    ...more,
  ].join('\n');
  const short = lead ? `${subject} ${value(lead.department ?? '')}`.trim() : subject;
  return { subject, text, markdown, short };
}

/**
 * Event values (user names, hosts) reach the robots' markdown: `<@all>` would mention the whole group on 企业微信,
 * `[text](url)` would plant a link, a newline a fake line. Their brackets become full-width look-alikes.
 */
export function markdownSafe(text: string): string {
  return oneLine(text).replace(/[<>[\]]/g, (c) => ({ '<': '＜', '>': '＞', '[': '［', ']': '］' })[c]!);
}

/** Cuts UTF-8 text to at most `maxBytes` without splitting a character (robots limit bytes, not characters). */
export function truncateBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes - 3;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return `${bytes.subarray(0, end).toString('utf8')}…`;
}

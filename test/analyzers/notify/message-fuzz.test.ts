import { describe, expect, it } from 'vitest';
import { alertPriority, RULE_LEVELS, seededRandom, type Alert } from '../../../core/index.js';
import { buildMessage, dingtalkUrl, fillSmsTemplate, truncateBytes, type Dispatch } from '../../../analyzers/notify/index.js';
import { wecomPayload } from '../../../analyzers/notify/channels/wecom.js';
import { dingtalkPayload } from '../../../analyzers/notify/channels/dingtalk.js';

/** Random text: any code point (lone surrogates, controls, CJK, emoji), sometimes huge. */
function randomText(random: () => number): string {
  const length = random() < 0.01 ? 20_000 : Math.floor(random() * 200);
  let text = '';
  for (let i = 0; i < length; i++) {
    const kind = random();
    const code = kind < 0.3 ? Math.floor(random() * 0x80) : kind < 0.6 ? 0x4e00 + Math.floor(random() * 0x5000)
      : kind < 0.7 ? 0xd800 + Math.floor(random() * 0x800) : Math.floor(random() * 0x10ffff);
    text += String.fromCodePoint(code);
  }
  return text;
}

describe('messages from hostile alerts (seeded fuzz)', () => {
  it('never throw, keep the robots within their byte limits and stay valid JSON', () => {
    const random = seededRandom(18);
    for (let round = 0; round < 300; round++) {
      const level = RULE_LEVELS[Math.floor(random() * RULE_LEVELS.length)]!;
      const alerts: Alert[] = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({
        id: `f${round}-${i}`, rule: { id: randomText(random), title: randomText(random), level }, mlps: [randomText(random)],
        department: randomText(random), system: randomText(random), mlpsLevel: 3, priority: alertPriority(level, 3), status: 'new',
        timeline: [], firstSeen: '2026-12-07T00:00:00Z', lastSeen: '2026-12-07T00:00:00Z', count: 1 + Math.floor(random() * 1e6),
        sampleEventIds: [], groupKey: randomText(random),
      }));
      const dispatch: Dispatch = { key: 'k', kind: 'group', routeId: 'r', channelId: 'c', step: Math.floor(random() * 3), alerts, count: 5_000_000 };
      const message = buildMessage(dispatch, 'https://soc.example.gov.cn');
      for (const msgtype of ['markdown', 'text'] as const) {
        const wecom = JSON.parse(JSON.stringify(wecomPayload(msgtype, message))) as Record<string, { content: string }>;
        expect(Buffer.byteLength(wecom[msgtype]!.content)).toBeLessThanOrEqual(msgtype === 'markdown' ? 4096 : 2048);
        expect(wecom[msgtype]!.content).not.toMatch(/<@/);
        JSON.parse(JSON.stringify(dingtalkPayload(msgtype, message)));
      }
      expect(JSON.parse(fillSmsTemplate('{"t":{{text}},"p":{{phones}}}', message, ['1'], 'sms')).t.length).toBeLessThanOrEqual(300);
    }
  });

  it('cuts UTF-8 on a character boundary', () => {
    expect(truncateBytes('守望守望', 7)).toBe('守…');
    expect(Buffer.byteLength(truncateBytes('a'.repeat(10), 5))).toBeLessThanOrEqual(5);
  });

  it('keeps the 钉钉 signature a query parameter even when the URL already has one or a fragment', () => {
    const url = new URL(dingtalkUrl('https://oapi.dingtalk.com/robot/send?access_token=a&x=1#f', 'SEC+/=', 1_700_000_000_000));
    expect(url.searchParams.get('access_token')).toBe('a');
    expect(url.searchParams.get('timestamp')).toBe('1700000000000');
    expect(url.searchParams.get('sign')).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});

/**
 * The evidence page shows the bundle's status counts with `label(status)` (console/web/js/i18n.js):
 * in English mode every MLPS status, 未测评 included, must read in English.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STATUSES, STATUS_LABEL } from '../../evidence/index.js';

interface I18n {
  label: (value: string) => string;
  setLang: (lang: 'zh' | 'en') => void;
}
let i18n: I18n;

beforeAll(async () => {
  // The module reads the saved language at load and sets <html lang> on a switch: plain stand-ins for the two browser globals.
  const saved = new Map<string, string>();
  Object.assign(globalThis, {
    localStorage: { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => saved.set(k, v) },
    document: { documentElement: { lang: 'zh-CN' } },
  });
  // @ts-expect-error: a browser ES module without types
  i18n = (await import('../../console/web/js/i18n.js')) as I18n;
});

describe('console status labels', () => {
  it('translates every MLPS status in English mode; 未测评 is "Not assessed (manual review)"', () => {
    i18n.setLang('en');
    const english = STATUSES.map((status) => i18n.label(status));
    expect(english.filter((text) => !/^[\x20-\x7e]+$/.test(text))).toEqual([]);
    expect(i18n.label('未测评')).toBe('Not assessed (manual review)');
    expect(new Set(english).size).toBe(STATUSES.length);
  });

  it('shows the report\'s own wording in Chinese mode', () => {
    i18n.setLang('zh');
    expect(STATUSES.map((status) => i18n.label(status))).toEqual(STATUSES.map((status) => STATUS_LABEL[status]));
  });
});

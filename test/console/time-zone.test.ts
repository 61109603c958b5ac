/**
 * The console's `timeZone` reaches the browser in the session answer, and the web app's formatters
 * (console/web/js/i18n.js) show and read times in it, whatever the zone the browser runs in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../store/index.js';
import { login, seedUser, testApp } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-console-tz-'));
const store = new EmbeddedStore({ path: join(dir, 'tz.db') });
beforeAll(() => seedUser(store, 'tz-reader', 'security_officer'));
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the configured time zone reaches the browser', () => {
  it('answers Asia/Shanghai by default, and the configured zone on login and on /api/session', async () => {
    const plain = await testApp(store);
    try {
      const login0 = await plain.inject({ method: 'POST', url: '/api/session', payload: { username: 'tz-reader', password: 'correct horse battery staple' } });
      expect(login0.json()).toMatchObject({ timeZone: 'Asia/Shanghai' });
    } finally {
      await plain.close();
    }
    const app = await testApp(store, { timeZone: 'America/New_York' });
    try {
      const response = await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'tz-reader', password: 'correct horse battery staple' } });
      expect(response.json()).toMatchObject({ timeZone: 'America/New_York', user: { username: 'tz-reader' } });
      const client = await login(app, 'tz-reader');
      expect((await client.get('/api/session')).json()).toMatchObject({ timeZone: 'America/New_York' });
    } finally {
      await app.close();
    }
  });
});

interface I18n {
  setLang: (lang: 'zh' | 'en') => void;
  setTimeZone: (zone: unknown) => void;
  getTimeZone: () => string;
  formatTime: (iso: string) => string;
  localDay: (ms: number) => string;
  localToIso: (local: string) => string | undefined;
  periodLabel: () => string;
}
let i18n: I18n;

describe('the web app formats and reads times in that zone', () => {
  beforeAll(async () => {
    const saved = new Map<string, string>();
    Object.assign(globalThis, {
      localStorage: { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => saved.set(k, v) },
      document: { documentElement: { lang: 'zh-CN' } },
    });
    // @ts-expect-error: a browser ES module without types
    i18n = (await import('../../console/web/js/i18n.js')) as I18n;
    i18n.setLang('zh');
  });

  // 2026-11-30 16:30 UTC: already 1 December in Shanghai, still 30 November in New York (11:30, EST).
  const instant = '2026-11-30T16:30:00.000Z';

  it('shows Asia/Shanghai until told, then the configured zone', () => {
    expect(i18n.getTimeZone()).toBe('Asia/Shanghai');
    expect(i18n.formatTime(instant)).toBe('2026/12/01 00:30:00');
    expect(i18n.localDay(Date.parse(instant))).toBe('2026-12-01');
    expect(i18n.localToIso('2026-12-01T00:30')).toBe(instant);
    expect(i18n.periodLabel()).toBe('期间（北京时间）');

    i18n.setTimeZone('America/New_York');
    expect(i18n.formatTime(instant)).toBe('2026/11/30 11:30:00');
    expect(i18n.localDay(Date.parse(instant))).toBe('2026-11-30');
    expect(i18n.localToIso('2026-11-30T11:30')).toBe(instant);
    // Daylight saving: 1 July 08:00 in New York is EDT (−04:00).
    expect(i18n.localToIso('2026-07-01T08:00')).toBe('2026-07-01T12:00:00.000Z');
    expect(i18n.periodLabel()).toBe('期间（时区 America/New_York）');
  });

  it('keeps the last zone when given one the browser does not know, or nothing', () => {
    i18n.setTimeZone('Europe/Berlin');
    for (const bad of ['Mars/Olympus', '', undefined, 42, 'x'.repeat(10_000)]) i18n.setTimeZone(bad);
    expect(i18n.getTimeZone()).toBe('Europe/Berlin');
    expect(i18n.formatTime(instant)).toBe('2026/11/30 17:30:00');
    expect(i18n.localToIso('not a time')).toBeUndefined();
  });
});

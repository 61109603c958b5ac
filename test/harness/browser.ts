import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureDebianPackage } from '../../core/index.js';

/** Debian's own chromium: no browser download, installed with apt-get when missing. */
export const CHROMIUM = '/usr/bin/chromium';
export const VIEWPORT = { width: 1366, height: 768 };
export const SCREENSHOT_DIR = join(process.cwd(), 'test-artifacts', 'browser');

export async function launchChromium(): Promise<Browser> {
  await ensureDebianPackage({ debianPackage: 'chromium', file: CHROMIUM });
  // Tests run as root, where chromium refuses its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A full-window screenshot at 1366×768, kept as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

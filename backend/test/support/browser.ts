/**
 * Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) driven by playwright-core. `npm test`
 * installs it when it can (scripts/system-tools.ts); where it is missing the browser tests fail
 * with one line saying how to install it, never skip.
 */
import { chromium, type Browser } from 'playwright-core';
import { requireSystemTool } from '../../../scripts/system-tools';

/** Each launch gets a fresh temporary profile from playwright, removed when the browser closes. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: requireSystemTool('chromium'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Debian's Chromium driven by playwright-core. Where it is not installed the browser tests are
 * skipped with a notice, except under CI (CI=true), where that is a failure: .ci/run installs it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumMissing = !existsSync(CHROMIUM_PATH);

if (chromiumMissing && process.env.CI === 'true') {
  throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}; the browser tests need it (apt-get install chromium, as .ci/run does)`);
}
if (chromiumMissing) console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);

/** Each launch gets a fresh temporary profile from playwright, removed when the browser closes. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

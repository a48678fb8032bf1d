/**
 * Screenshots of the demo SPA for the documentation (docs/img/*.png), taken in headless Chromium
 * against an in-process reference server (memory store):
 *
 *   node --import tsx test/e2e/docs-screenshots.ts [outDir]
 *
 * Not a test (the browser tests are spa.test.ts); run it when the SPA's look changes.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer } from '../../src/server/server.js';
import {
  ALICE,
  buildSpa,
  DEMO,
  launchBrowser,
  openSpa,
  signedIn,
  submitSignIn,
  type Transport,
} from './support.js';

const OUT = resolve(process.argv[2] ?? join(import.meta.dirname, '../../docs/img'));

type Shot = { width: number; height?: number; dark?: boolean };

async function open(browser: Browser, url: string, shot: Shot, userAgent?: string): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: shot.width, height: shot.height ?? 800 },
    colorScheme: shot.dark ? 'dark' : 'light',
    deviceScaleFactor: 1,
    ...(userAgent !== undefined && { userAgent }),
  });
  return openSpa(await context.newPage(), url);
}

async function signIn(page: Page, mode: Transport, account = DEMO): Promise<void> {
  await submitSignIn(page, account, mode);
  await signedIn(page, 30_000);
  await page
    .locator('#me-status')
    .filter({ hasText: /^200 OK/ })
    .waitFor();
  // No focus ring or hover left on a button in the picture.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(0, 0);
}

async function save(page: Page, name: string): Promise<void> {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  process.stdout.write(`${path}\n`);
}

const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const DESKTOP_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const FIREFOX_UA = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const [spaDir, browser] = await Promise.all([buildSpa(), launchBrowser()]);
  const server = await startServer({ port: 0, logLevel: false, spaDir, accessTtl: 900 });
  try {
    const desktop = { width: 1200 };
    const login = await open(browser, server.url, desktop);
    await save(login, 'login');

    const header = await open(browser, server.url, desktop, DESKTOP_UA);
    await signIn(header, 'header');
    await save(header, 'header-mode');

    // A second device (cookie mode, a phone) and a third: the device list shows all of them.
    const phone = await open(browser, server.url, { width: 390, height: 844 }, PHONE_UA);
    await signIn(phone, 'cookie');
    const laptop = await open(browser, server.url, desktop, FIREFOX_UA);
    await signIn(laptop, 'header');
    await header.getByRole('button', { name: 'Reload list' }).click();
    await header.locator('#sessions-table tbody tr').nth(2).waitFor();
    await header.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await header.mouse.move(0, 0);
    await save(header, 'devices');
    await save(phone, 'mobile-cookie-mode');

    const wrong = await open(browser, server.url, desktop);
    await submitSignIn(wrong, { ...ALICE, password: 'not-her-password' });
    await wrong.getByRole('alert').filter({ hasText: /Wrong/ }).waitFor();
    await save(wrong, 'login-error');

    const dark = await open(browser, server.url, { width: 1200, dark: true }, DESKTOP_UA);
    await signIn(dark, 'cookie', ALICE);
    await save(dark, 'dark-mode');
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();

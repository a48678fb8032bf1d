/**
 * Browser-test plumbing: the SPA built once into a temp directory (the build's own script:
 * scripts/copy-spa-assets.mjs), headless Chromium through playwright-core, and screenshots in
 * test-artifacts/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Demo accounts of the reference server. */
export const DEMO = { email: 'demo@example.com', password: 'correct horse battery staple' };
export const ALICE = { email: 'alice@example.com', password: 'alice-password' };

export type Account = typeof DEMO;
export type Transport = 'header' | 'cookie';

const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

let built: Promise<string> | undefined;

/** Compiles the SPA into a fresh temp directory (once per test file) and resolves that directory. */
export function buildSpa(): Promise<string> {
  built ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'jwt-sessions-spa-'));
    await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/copy-spa-assets.mjs'), out], {
      cwd: ROOT,
    });
    return out;
  })();
  return built;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Loads the SPA at `url` in `page` and waits until it has checked for an existing session. */
export async function openSpa(page: Page, url: string): Promise<Page> {
  await page.goto(url);
  await page.locator('#status').filter({ hasNotText: 'Loading' }).waitFor();
  return page;
}

/** Fills the sign-in form and submits it; `transport` picks the radio (left as is when omitted). */
export async function submitSignIn(page: Page, account: Account, transport?: Transport): Promise<void> {
  await page.getByLabel('E-mail').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  if (transport !== undefined)
    await page.getByRole('radio', { name: transport === 'header' ? /Header/ : /Cookie/ }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Resolves once the session view is shown (signed in). */
export function signedIn(page: Page, timeout = 10_000): Promise<void> {
  return page.locator('#session-view:not([hidden])').waitFor({ timeout });
}

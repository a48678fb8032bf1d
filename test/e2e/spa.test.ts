/**
 * The demo SPA (built on the public browser client) in real headless Chromium against the
 * reference server (in-process, memory store): both transports, expiry and automatic refresh,
 * several tabs refreshing at once, revocation and sign-out propagating to other tabs and devices,
 * and the sign-in screen saying why a session ended. The client's own race tests: client.test.ts.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionState } from '../../src/client/index.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { describeWithService, serviceAvailable } from '../support/services.js';
import {
  ALICE,
  buildSpa,
  CHROMIUM,
  DEMO,
  launchBrowser,
  openSpa,
  screenshot,
  signedIn,
  submitSignIn,
  type Transport,
} from './support.js';

const NS = 'user:u_demo';

// Chromium is a real component the suite needs: a failure under CI=true, a loud skip elsewhere.
const chromiumAvailable = await serviceAvailable('Chromium (browser tests)', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);
});
const describeBrowser = describeWithService(chromiumAvailable);

let browser: Browser;
let spaDir: string;
const servers: RunningServer[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!chromiumAvailable) return;
  [spaDir, browser] = await Promise.all([buildSpa(), launchBrowser()]);
});

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => {})));
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function server(
  options: { accessTtl?: number; reuseGrace?: number; port?: number; secret?: string } = {},
): Promise<RunningServer> {
  const running = await startServer({ port: 0, logLevel: false, spaDir, ...options });
  servers.push(running);
  return running;
}

async function context(): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(ctx);
  return ctx;
}

async function open(ctx: BrowserContext, url: string): Promise<Page> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  (page as Page & { errors: string[] }).errors = errors;
  return openSpa(page, url);
}

async function signIn(page: Page, mode: Transport, account = DEMO): Promise<void> {
  await submitSignIn(page, account, mode);
  await signedIn(page);
}

function signedOut(page: Page, timeout = 10_000): Promise<void> {
  return page.locator('#login-view:not([hidden])').waitFor({ timeout });
}

type SignedIn = Extract<SessionState, { status: 'signed-in' }>;

/** The client's state in `page` when signed in, else null. */
async function state(page: Page): Promise<SignedIn | null> {
  const s = await page.evaluate(
    () => (window as unknown as { demo: { client: { state: SessionState } } }).demo.client.state,
  );
  return s.status === 'signed-in' ? s : null;
}

/** The bearer token each request of `page` carried, newest last. */
function bearerTokens(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    const value = request.headers().authorization;
    if (value?.startsWith('Bearer ')) seen.push(value.slice(7));
  });
  return seen;
}

async function callMe(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Call /api/me' }).click();
  const status = page.locator('#me-status');
  await expect.poll(() => status.textContent(), { timeout: 10_000 }).not.toMatch(/^Calling/);
  return (await status.textContent()) ?? '';
}

function countRefreshes(ctx: BrowserContext): { count: number } {
  const counter = { count: 0 };
  ctx.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/auth/refresh') counter.count++;
  });
  return counter;
}

function pageErrors(page: Page): string[] {
  return (page as Page & { errors: string[] }).errors;
}

describeBrowser('sign in', () => {
  it('header mode: tokens in memory, Authorization header, claims and session list', async () => {
    const srv = await server();
    const page = await open(await context(), srv.url);
    const sent = bearerTokens(page);
    await signIn(page, 'header');
    // Focus moves to the session heading for keyboard and screen-reader users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('session-title');
    const s = (await state(page))!;
    expect(s.claims).toMatchObject({ email: DEMO.email, sid: s.sessionId });
    await expect.poll(() => page.locator('#me-status').textContent()).toMatch(/^200 OK/);
    const claims = JSON.parse((await page.locator('#me-output').textContent()) ?? '{}');
    expect(claims).toMatchObject({ email: DEMO.email, sid: s.sessionId });
    expect(sent.at(-1)).toMatch(/^eyJ/);
    await expect.poll(() => page.locator('#sessions-table tbody tr.current').count()).toBe(1);
    expect(await page.locator('#who').textContent()).toContain(DEMO.email);
    // Really out of sight, not only marked hidden (a CSS display rule once overrode [hidden]).
    expect(await page.locator('#login-view').isVisible()).toBe(false);
    // No token cookie in header mode, and no token at rest: storage holds the sign-in choices only.
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('jwt_access');
    const stored = await page.evaluate(() => ({ ...localStorage, ...sessionStorage }));
    // Preferences only (the transport, and whether sessions are bound with DPoP): no token.
    expect(stored).toEqual({ 'jwt-sessions-demo:transport': 'header', 'jwt-sessions-demo:dpop': '0' });
    await screenshot(page, 'header-mode');
    expect(pageErrors(page)).toEqual([]);
  });

  it('cookie mode: HttpOnly cookies, CSRF header, survives a reload, sign out clears the cookies', async () => {
    const srv = await server();
    const ctx = await context();
    const page = await open(ctx, srv.url);
    await signIn(page, 'cookie');
    const s = (await state(page))!;
    expect(s.claims).toMatchObject({ email: DEMO.email });
    const cookies = await ctx.cookies();
    const access = cookies.find((c) => c.name === 'jwt_access');
    const refresh = cookies.find((c) => c.name === 'jwt_refresh');
    expect(access).toMatchObject({ httpOnly: true, path: '/' });
    expect(refresh).toMatchObject({ httpOnly: true, path: '/auth' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('jwt_');
    await expect.poll(() => page.locator('#me-status').textContent()).toMatch(/^200 OK/);
    expect(await callMe(page)).toMatch(/^200 OK/);

    // A refresh needs the CSRF token; the client sends it.
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/auth/refresh'));
    await page.getByRole('button', { name: 'Refresh now' }).click();
    const response = await refreshed;
    expect(response.status()).toBe(200);
    expect(response.request().headers()['x-csrf-token']).toBeTruthy();
    expect(await callMe(page)).toMatch(/^200 OK/);

    await page.reload();
    await signedIn(page);
    expect((await state(page))!.sessionId).toBe(s.sessionId);
    expect(await callMe(page)).toMatch(/^200 OK/);
    await screenshot(page, 'cookie-mode');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signedOut(page);
    expect(await page.locator('#ended').textContent()).toBe('You signed out.');
    const left = (await ctx.cookies()).filter((c) => c.name.startsWith('jwt_') && c.value !== '');
    expect(left).toEqual([]);
    expect(await srv.sessions.listSessions(NS)).toHaveLength(0);
    // The transport is remembered for the next sign-in, across a reload.
    await page.reload();
    await signedOut(page);
    expect(await page.getByRole('radio', { name: /Cookie/ }).isChecked()).toBe(true);
    expect(await page.locator('#ended').isHidden()).toBe(true);
    expect(pageErrors(page)).toEqual([]);
  });

  it('wrong password: an alert, no session', async () => {
    const srv = await server();
    const page = await open(await context(), srv.url);
    await submitSignIn(page, { ...ALICE, password: 'not-her-password' });
    await expect
      .poll(() => page.locator('#login-error').textContent())
      .toContain('Wrong e-mail address or password');
    expect(await state(page)).toBeNull();
    expect(await page.locator('#session-view').isVisible()).toBe(false);
    expect(await srv.sessions.listSessions('user:u_alice')).toHaveLength(0);
  });

  it('a phone-sized screen: signed in, nothing wider than the screen', async () => {
    const srv = await server();
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
    contexts.push(ctx);
    const page = await open(ctx, srv.url);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await signIn(page, 'cookie');
    await expect.poll(() => page.locator('#me-status').textContent()).toMatch(/^200 OK/);
    await expect.poll(() => page.locator('#sessions-table tbody tr').count()).toBe(1);
    expect(await overflow()).toBeLessThanOrEqual(0);
    // The per-device action stays reachable without scrolling sideways.
    const action = await page.locator('#sessions-table tbody tr button').boundingBox();
    expect(action!.x + action!.width).toBeLessThanOrEqual(360);
    await screenshot(page, 'phone');
    expect(pageErrors(page)).toEqual([]);
  });
});

describeBrowser('expiry and automatic refresh (ACCESS_TTL=3)', () => {
  it('refreshes before expiry; the previous access token is dead at once', async () => {
    const srv = await server({ accessTtl: 3 });
    const ctx = await context();
    const refreshes = countRefreshes(ctx);
    const page = await open(ctx, srv.url);
    const sent = bearerTokens(page);
    await signIn(page, 'header');
    const first = (await state(page))!;
    expect(first.accessExpiresAt - Date.now()).toBeLessThanOrEqual(3000);
    await expect.poll(() => page.locator('#me-status').textContent()).toMatch(/^200 OK/);
    const firstToken = sent.at(-1)!;
    // The countdown runs.
    await expect.poll(() => page.locator('#countdown').textContent()).toMatch(/^0:0[0-3]$/);

    await page.waitForTimeout(Math.max(0, first.accessExpiresAt - Date.now()) + 1500);
    const later = (await state(page))!;
    expect(later.sessionId).toBe(first.sessionId);
    expect(later.accessExpiresAt).toBeGreaterThan(first.accessExpiresAt);
    expect(refreshes.count).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#log').textContent()).toContain('Refreshed the tokens');
    expect(await callMe(page)).toMatch(/^200 OK/);
    expect(sent.at(-1)).not.toBe(firstToken);
    // The old access token is dead at once (strict mode).
    const old = await fetch(`${srv.url}/api/me`, { headers: { authorization: `Bearer ${firstToken}` } });
    expect(old.status).toBe(401);
    expect(pageErrors(page)).toEqual([]);
  }, 40_000);
});

describeBrowser('several tabs (REUSE_GRACE=0: a duplicate refresh would revoke the session)', () => {
  for (const mode of ['header', 'cookie'] as const) {
    it(`${mode} mode: tabs share one session and refresh single-flight`, async () => {
      const srv = await server({ accessTtl: 3, reuseGrace: 0 });
      const ctx = await context();
      const refreshes = countRefreshes(ctx);
      const tab1 = await open(ctx, srv.url);
      await signIn(tab1, mode);
      const tab2 = await open(ctx, srv.url);
      const tab3 = await open(ctx, srv.url);
      await signedIn(tab2);
      await signedIn(tab3);
      const sid = (await state(tab1))!.sessionId;
      expect((await state(tab2))!.sessionId).toBe(sid);
      expect((await state(tab3))!.sessionId).toBe(sid);

      // Three tabs, each timing its own refresh for the same moment, for several cycles.
      const start = Date.now();
      await tab1.waitForTimeout(7500);
      // Tokens live 2-3 s (whole-second expiry); the client refreshes at half-life: at most one
      // refresh a second for all tabs together, where one per tab would be three times as many.
      const cycles = Math.ceil((Date.now() - start) / 1000) + 1;
      for (const tab of [tab1, tab2, tab3]) {
        expect(await tab.locator('#session-view').isHidden()).toBe(false);
        expect((await state(tab))!.sessionId).toBe(sid);
      }
      // One refresh per cycle for all tabs together, not one per tab.
      expect(refreshes.count).toBeGreaterThanOrEqual(2);
      expect(refreshes.count).toBeLessThanOrEqual(cycles + 1);

      // All tabs press "Refresh now" at the same moment.
      await Promise.all(
        [tab1, tab2, tab3].map((tab) => tab.getByRole('button', { name: 'Refresh now' }).click()),
      );
      await tab1.waitForTimeout(800);
      for (const tab of [tab1, tab2, tab3]) expect(await callMe(tab)).toMatch(/^200 OK/);
      const sessions = await srv.sessions.listSessions(NS);
      expect(sessions.map((s) => s.id)).toEqual([sid]);
      await screenshot(tab2, `tabs-${mode}`);
      for (const tab of [tab1, tab2, tab3]) expect(pageErrors(tab)).toEqual([]);
    }, 45_000);
  }

  it('signing out in one tab signs out the others at once', async () => {
    const srv = await server();
    const ctx = await context();
    const tab1 = await open(ctx, srv.url);
    await signIn(tab1, 'header');
    const tab2 = await open(ctx, srv.url);
    await signedIn(tab2);
    await tab1.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signedOut(tab1);
    await signedOut(tab2, 2000);
    expect(await tab2.locator('#ended').textContent()).toBe('You signed out.');
    expect(await srv.sessions.listSessions(NS)).toHaveLength(0);
  });
});

describeBrowser('revocation across devices: the sign-in screen says why', () => {
  it('revoking a session from one device signs that device out, with the reason shown', async () => {
    const srv = await server();
    const deviceA = await open(await context(), srv.url);
    const deviceB = await open(await context(), srv.url);
    await signIn(deviceA, 'header');
    await signIn(deviceB, 'cookie');
    const sidB = (await state(deviceB))!.sessionId;
    await deviceA.getByRole('button', { name: 'Reload list' }).click();
    await expect.poll(() => deviceA.locator('#sessions-table tbody tr').count()).toBe(2);
    await screenshot(deviceA, 'two-devices');
    await deviceA.locator(`#sessions-table tr[data-session-id="${sidB}"] button`).click();
    await expect.poll(() => deviceA.locator('#sessions-table tbody tr').count()).toBe(1);
    // Device B learns it at its next request (the list is polled every 5 s).
    await signedOut(deviceB, 12_000);
    const ended = deviceB.getByRole('alert').filter({ hasText: 'session' });
    expect(await ended.textContent()).toBe(
      'Your session was ended: revoked from another device, signed out everywhere, or expired. (session_not_found)',
    );
    expect(await deviceB.locator('#log').textContent()).toMatch(/Session ended: session_not_found/);
    // The transport choice survives: cookie, as device B used.
    expect(await deviceB.getByRole('radio', { name: /Cookie/ }).isChecked()).toBe(true);
    await screenshot(deviceB, 'session-ended');
    expect(await callMe(deviceA)).toMatch(/^200 OK/);
    expect((await srv.sessions.listSessions(NS)).map((s) => s.id)).toEqual([
      (await state(deviceA))!.sessionId,
    ]);
  }, 30_000);

  it('sign out everywhere asks first, then ends every session of the user, and only that user', async () => {
    const srv = await server();
    const deviceA = await open(await context(), srv.url);
    const deviceB = await open(await context(), srv.url);
    const alice = await open(await context(), srv.url);
    await signIn(deviceA, 'cookie');
    await signIn(deviceB, 'header');
    await signIn(alice, 'header', ALICE);
    expect(await srv.sessions.listSessions(NS)).toHaveLength(2);
    // First a question; Cancel ends nothing.
    await deviceA.getByRole('button', { name: 'Sign out everywhere' }).click();
    const question = deviceA.getByRole('group', { name: /End every session/ });
    expect(await question.isVisible()).toBe(true);
    expect(await deviceA.evaluate(() => document.activeElement?.id)).toBe('logout-all-cancel');
    await screenshot(deviceA, 'confirm-sign-out-everywhere');
    await deviceA.getByRole('button', { name: 'Cancel' }).click();
    expect(await question.isHidden()).toBe(true);
    expect(await srv.sessions.listSessions(NS)).toHaveLength(2);
    // Then for real.
    await deviceA.getByRole('button', { name: 'Sign out everywhere' }).click();
    await deviceA.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
    await signedOut(deviceA);
    expect(await deviceA.locator('#ended').textContent()).toBe(
      'You signed out everywhere: 2 sessions ended.',
    );
    await signedOut(deviceB, 12_000);
    expect(await deviceB.locator('#ended').textContent()).toContain('(session_not_found)');
    expect(await srv.sessions.listSessions(NS)).toHaveLength(0);
    expect(await srv.sessions.listSessions('user:u_alice')).toHaveLength(1);
    expect(await callMe(alice)).toMatch(/^200 OK/);
  }, 30_000);

  it('a server restart: a failed call is shown as an error, then the reason on the sign-in screen', async () => {
    const srv = await server();
    const page = await open(await context(), srv.url);
    await signIn(page, 'header');
    await expect.poll(() => page.locator('#me-status').textContent()).toMatch(/^200 OK/);
    await srv.close();
    expect(await callMe(page)).toMatch(/^Error network_error/);
    expect(await page.locator('#me-status').getAttribute('class')).toContain('error');
    await screenshot(page, 'call-failed');
    // The same port, new random keys: the tab's tokens mean nothing to the new server.
    await server({ port: srv.port });
    await page.getByRole('button', { name: 'Call /api/me' }).click();
    await signedOut(page);
    // New keys have new key ids: kid_unknown (signature_invalid were the key id kept).
    expect(await page.locator('#ended').textContent()).toMatch(
      /^The server no longer accepts your session \(it restarted with new keys\)\. \((kid_unknown|signature_invalid)\)$/,
    );
  }, 30_000);
});

/**
 * The browser client (jwt-sessions/client, and its axios add-on) in real headless Chromium
 * against the reference server: several pages of one browser context are the tabs of one user.
 * A counting proxy in front of the server (proxy.ts) says how many requests reached it, holds a
 * refresh in flight, or stops the server for a while. With REUSE_GRACE=0 any duplicate refresh
 * would revoke the session, so a race shows as a failure.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { SessionEvent, SessionState } from '../../src/client/index.js';
import { pageHarness, type Setup } from './page-harness.js';
import { DEMO, type Transport } from './support.js';

type Via = 'fetch' | 'axios';

interface TabApi {
  client: {
    state: SessionState;
    ready: Promise<SessionState>;
    login(body: unknown): Promise<SessionState>;
    refresh(): Promise<SessionState>;
    revokeSession(id: string): Promise<number>;
  };
  states: SessionState[];
  events: SessionEvent[];
  call(method?: string, path?: string): Promise<number>;
}
declare const t: TabApi;

// browser and script are set in beforeAll: read them through `harness`.
const harness = await pageHarness(join(import.meta.dirname, 'client-page.ts'));
const { describeBrowser, cleanups } = harness;

async function setup(
  transport: Transport,
  via: Via,
  options: { reuseGrace?: number; accessTtl?: number; slidingRenewAfter?: number; auto?: boolean } = {},
): Promise<Setup> {
  return harness.start(
    {
      accessTtl: options.accessTtl ?? 60,
      reuseGrace: options.reuseGrace ?? 10,
      ...(options.slidingRenewAfter !== undefined && { slidingRenewAfter: options.slidingRenewAfter }),
    },
    `transport=${transport}&via=${via}${options.auto ? '' : '&auto=0'}`,
  );
}

const state = (page: Page) => page.evaluate(() => t.client.state);
const sessionIdOf = async (page: Page) => {
  const s = await state(page);
  if (s.status !== 'signed-in') throw new Error(`not signed in: ${JSON.stringify(s)}`);
  return s.sessionId;
};
const login = (page: Page) =>
  page.evaluate((account) => t.client.login({ login: account.email, password: account.password }), DEMO);
/** The sign-outs a tab went through (not the initial "no session yet" of a first tab). */
const signedOuts = (page: Page) =>
  page.evaluate(() => t.states.filter((s) => s.status === 'signed-out' && s.reason !== 'no_session'));
/** `count` calls at once in every page; resolves their statuses. */
const burst = (pages: Page[], count: number) =>
  Promise.all(
    pages.map((page) => page.evaluate((n) => Promise.all(Array.from({ length: n }, () => t.call())), count)),
  ).then((all) => all.flat());

async function signedInTabs(s: Setup, count: number): Promise<Page[]> {
  const first = await s.tab();
  await login(first);
  const tabs = [first];
  for (let i = 1; i < count; i++) tabs.push(await s.tab());
  const sid = await sessionIdOf(first);
  for (const tab of tabs) expect(await sessionIdOf(tab)).toBe(sid);
  return tabs;
}

/** Two signed-in tabs (REUSE_GRACE=0); the first one's refresh is held at the proxy, in flight. */
async function refreshInFlight(transport: Transport, via: Via) {
  const s = await setup(transport, via, { reuseGrace: 0 });
  const [tab1, tab2] = (await signedInTabs(s, 2)) as [Page, Page];
  const sid = await sessionIdOf(tab1);
  s.proxy.hold('/auth/refresh');
  await tab1.evaluate(() => {
    void t.client.refresh();
  });
  await expect.poll(() => s.proxy.heldCount()).toBe(1);
  return { s, tab1, tab2, sid };
}

for (const via of ['fetch', 'axios'] as const) {
  describeBrowser(
    `browser client through ${via === 'fetch' ? 'client.fetch' : 'the axios interceptors'}`,
    () => {
      for (const transport of ['header', 'cookie'] as const) {
        for (const grace of [0, 10]) {
          it(`${transport}, REUSE_GRACE=${grace}: 5 tabs × 20 calls on an expired access token → 100 successes, 1 refresh`, async () => {
            const s = await setup(transport, via, { accessTtl: 5, reuseGrace: grace });
            const tabs = await signedInTabs(s, 5);
            const sid = await sessionIdOf(tabs[0]!);
            const expiry = ((await state(tabs[0]!)) as { accessExpiresAt: number }).accessExpiresAt;
            await tabs[0]!.waitForTimeout(Math.max(0, expiry - Date.now()) + 300);
            const before = s.proxy.count('GET', '/api/me');
            const statuses = await burst(tabs, 20);
            expect(statuses).toEqual(Array(100).fill(200));
            expect(s.proxy.count('POST', '/auth/refresh')).toBe(1);
            // The client knew the token had expired: no call went out with it.
            expect(s.proxy.count('GET', '/api/me') - before).toBe(100);
            expect(await s.srv.sessions.getSession(sid)).not.toBeNull();
            for (const tab of tabs) {
              expect(await sessionIdOf(tab)).toBe(sid);
              expect(await signedOuts(tab)).toEqual([]);
            }
          }, 30_000);
        }

        it(`${transport}: a tab reloaded while another tab's refresh is in flight (REUSE_GRACE=0)`, async () => {
          const { s, tab1, tab2, sid } = await refreshInFlight(transport, via);
          const reloaded = tab2.reload();
          await tab2.waitForTimeout(400);
          s.proxy.release();
          await reloaded;
          await tab2.waitForFunction(() => 't' in window);
          await tab2.evaluate(() => t.client.ready);
          await expect.poll(() => state(tab1)).toMatchObject({ status: 'signed-in', sessionId: sid });
          await expect
            .poll(async () => ((await state(tab2)) as { accessExpiresAt?: number }).accessExpiresAt)
            .toBe(((await state(tab1)) as { accessExpiresAt: number }).accessExpiresAt);
          expect(await burst([tab1, tab2], 3)).toEqual(Array(6).fill(200));
          expect(s.proxy.count('POST', '/auth/refresh')).toBe(1);
          expect(await s.srv.sessions.getSession(sid)).not.toBeNull();
        });

        it(`${transport}: a tab opened after a rotation uses the new generation (REUSE_GRACE=0)`, async () => {
          const s = await setup(transport, via, { reuseGrace: 0 });
          const [tab1] = (await signedInTabs(s, 1)) as [Page];
          const sid = await sessionIdOf(tab1);
          await tab1.evaluate(() => t.client.refresh());
          const tab2 = await s.tab();
          expect(await sessionIdOf(tab2)).toBe(sid);
          // The new tab refreshes with the current refresh token: a rotated-out one would end the session.
          await tab2.evaluate(() => t.client.refresh());
          expect(s.proxy.count('POST', '/auth/refresh')).toBe(2);
          await expect.poll(async () => (await state(tab1)).status).toBe('signed-in');
          expect(await burst([tab1, tab2], 2)).toEqual(Array(4).fill(200));
          expect(await s.srv.sessions.getSession(sid)).not.toBeNull();
        });

        it(`${transport}: the last tab closed and a new one opened: ${transport === 'cookie' ? 'resumed' : 'signed out cleanly'}`, async () => {
          const s = await setup(transport, via, { reuseGrace: 0 });
          const [tab1] = (await signedInTabs(s, 1)) as [Page];
          const sid = await sessionIdOf(tab1);
          await tab1.close();
          const before = s.proxy.total();
          const tab2 = await s.tab();
          if (transport === 'cookie') {
            expect(await sessionIdOf(tab2)).toBe(sid);
            expect(await tab2.evaluate(() => t.call())).toBe(200);
          } else {
            expect(await state(tab2)).toEqual({ status: 'signed-out', reason: 'no_session' });
            expect(s.proxy.total()).toBe(before); // nothing was asked of the server
          }
          // Either way the server's session stays until it expires or is revoked.
          expect(await s.srv.sessions.getSession(sid)).not.toBeNull();
        });

        it(`${transport}: a session revoked from another browser → every tab signed out once with the code, no loops`, async () => {
          const s = await setup(transport, via);
          const tabs = await signedInTabs(s, 3);
          const sid = await sessionIdOf(tabs[0]!);
          const otherBrowser = await harness.browser.newContext();
          cleanups.push(() => otherBrowser.close());
          const other = await s.tab({ ctx: otherBrowser });
          await login(other);
          expect(await other.evaluate((id) => t.client.revokeSession(id), sid)).toBe(1);
          const before = { total: s.proxy.total(), me: s.proxy.count('GET', '/api/me') };
          expect(await burst(tabs, 1)).toEqual([401, 401, 401]);
          for (const tab of tabs) {
            await expect
              .poll(() => signedOuts(tab))
              .toEqual([{ status: 'signed-out', reason: 'session_not_found' }]);
          }
          await tabs[0]!.waitForTimeout(1500);
          // One request per call, nothing else: no refresh, no retry, no loop.
          expect(s.proxy.count('GET', '/api/me') - before.me).toBe(3);
          expect(s.proxy.total() - before.total).toBe(3);
          for (const tab of tabs) expect(await signedOuts(tab)).toHaveLength(1);
          expect(await other.evaluate(() => t.call())).toBe(200);
        });

        it(`${transport}: the server stopped for 5 s during a refresh → offline, then signed in again, session intact (REUSE_GRACE=0)`, async () => {
          const { s, tab1, tab2, sid } = await refreshInFlight(transport, via);
          await s.proxy.stop();
          await expect.poll(async () => (await state(tab1)).status).toBe('offline');
          await tab1.waitForTimeout(5000);
          await s.proxy.start();
          await expect.poll(async () => (await state(tab1)).status, { timeout: 15_000 }).toBe('signed-in');
          expect(await sessionIdOf(tab1)).toBe(sid);
          const history = await tab1.evaluate(() => t.states.map((x) => x.status));
          expect(history).toContain('offline');
          expect(history.slice(1)).not.toContain('signed-out'); // [0]: before the sign-in
          const offline = await tab1.evaluate(() =>
            t.events.filter((e) => e.type === 'offline').map((e) => (e as { retryIn: number }).retryIn),
          );
          expect(offline.slice(0, 3)).toEqual([1000, 2000, 4000]); // backoff, not a storm
          expect(s.proxy.count('POST', '/auth/refresh')).toBe(1); // the cut one never reached it
          expect(await burst([tab1, tab2], 2)).toEqual(Array(4).fill(200));
          expect(await signedOuts(tab2)).toEqual([]);
          expect(await s.srv.sessions.getSession(sid)).not.toBeNull();
        }, 30_000);
      }

      it('header: a renewed access token (sliding expiration) is picked up and shared, without a refresh', async () => {
        const s = await setup('header', via, { accessTtl: 8, slidingRenewAfter: 0.5 });
        const [tab1, tab2] = (await signedInTabs(s, 2)) as [Page, Page];
        const tokens: string[] = [];
        tab2.on('request', (request) => {
          const value = request.headers().authorization;
          if (request.url().endsWith('/api/me') && value) tokens.push(value);
        });
        expect(await tab2.evaluate(() => t.call())).toBe(200);
        const first = (await state(tab1)) as { accessExpiresAt: number };
        // Past half of the access token's life (8 s, whole seconds): a renewal is due.
        await tab1.waitForTimeout(Math.max(0, first.accessExpiresAt - 4000 - Date.now()) + 300);
        expect(await tab1.evaluate(() => t.call())).toBe(200);
        expect(await tab1.evaluate(() => t.events.some((e) => e.type === 'renewed'))).toBe(true);
        const renewed = (await state(tab1)) as { accessExpiresAt: number };
        expect(renewed.accessExpiresAt).toBeGreaterThan(first.accessExpiresAt);
        await expect
          .poll(async () => ((await state(tab2)) as { accessExpiresAt: number }).accessExpiresAt)
          .toBe(renewed.accessExpiresAt);
        await tab1.waitForTimeout(Math.max(0, first.accessExpiresAt - Date.now()) + 300);
        expect(await tab2.evaluate(() => t.call())).toBe(200);
        expect(tokens).toHaveLength(2);
        expect(tokens[1]).not.toBe(tokens[0]);
        expect(s.proxy.count('POST', '/auth/refresh')).toBe(0);
      });

      for (const transport of ['header', 'cookie'] as const) {
        it(`${transport}: ${transport === 'cookie' ? 'X-CSRF-Token on unsafe methods only, no Authorization' : 'Authorization on every method, no CSRF token'}`, async () => {
          const s = await setup(transport, via);
          const [tab] = await signedInTabs(s, 1);
          const sent: Array<{ method: string; csrf: boolean; bearer: boolean }> = [];
          tab!.on('request', (request) => {
            if (!request.url().endsWith('/api/echo')) return;
            const headers = request.headers();
            sent.push({
              method: request.method(),
              csrf: 'x-csrf-token' in headers,
              bearer: headers.authorization?.startsWith('Bearer ') ?? false,
            });
          });
          const methods = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'];
          for (const method of methods) await tab!.evaluate((m) => t.call(m, '/api/echo'), method);
          expect(sent).toEqual(
            methods.map((method) => ({
              method,
              csrf: transport === 'cookie' && !['GET', 'HEAD', 'OPTIONS'].includes(method),
              bearer: transport === 'header',
            })),
          );
        });
      }
    },
  );
}

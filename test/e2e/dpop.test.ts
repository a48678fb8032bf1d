/**
 * DPoP in real headless Chromium (IndexedDB, WebCrypto, tabs = pages of one browser context)
 * against the reference server: the browser's key cannot be exported and is one key for all tabs;
 * with DPOP=required a bound session works across tabs and refreshes, while its tokens copied out
 * of the page are refused from Node without the key, with another key, or with a replayed proof.
 * The pages load from the counting proxy (proxy.ts), which forwards the Host header, so the
 * server's `htu` origin is the page's.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { SessionClient } from '../../src/client/index.js';
import { startServer } from '../../src/server/server.js';
import { createDpopProof } from '../../src/tokens/dpop-proof.js';
import { pageHarness, type Setup } from './page-harness.js';
import { buildSpa, DEMO, openSpa, signedIn, submitSignIn, type Transport } from './support.js';

interface TabApi {
  client: SessionClient;
  call(method?: string, path?: string): Promise<number>;
  storedKeys(): Promise<Array<{ extractable: boolean; usages: string[]; exported: string }>>;
  raceKeys(name: string, count: number): Promise<string[]>;
}
declare const t: TabApi;

// browser and script are set in beforeAll: read them through `harness`.
const harness = await pageHarness(join(import.meta.dirname, 'dpop-page.ts'));
const { describeBrowser, cleanups, pageErrors } = harness;

/** The reference server (DPOP mode `dpop`, DPOP_NONCE), the counting proxy, a browser context. */
function setup(transport: Transport, dpop: 'off' | 'required', dpopNonce = false): Promise<Setup> {
  return harness.start({ accessTtl: 60, dpop, dpopNonce }, `transport=${transport}`);
}

const thumbprintOf = (page: Page) => page.evaluate(() => t.client.dpopThumbprint());
const state = (page: Page) => page.evaluate(() => t.client.state);

/** The headers of the requests a page sends to `path`, as the page sent them. */
function recordRequests(page: Page, path: string): Array<Record<string, string>> {
  const seen: Array<Record<string, string>> = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === path) seen.push(request.headers());
  });
  return seen;
}

/** A request from Node (the attacker's machine); resolves the status and the error code. */
async function replay(url: string, method: string, headers: Record<string, string>) {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers } });
  const body = (await response.json().catch(() => ({}))) as { code?: string };
  return { status: response.status, code: body.code, challenge: response.headers.get('www-authenticate') };
}

/** A P-256 key that is not the browser's. */
const otherKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

describeBrowser('DPoP browser client in Chromium', () => {
  it('the private key cannot be exported; two tabs opened at once end up with one key, kept across a reload', async () => {
    const s = await setup('header', 'off');
    const [tab1, tab2] = await Promise.all([s.tab(), s.tab()]);
    const thumbprint = await thumbprintOf(tab1);
    expect(thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await thumbprintOf(tab2)).toBe(thumbprint);
    expect(await tab1.evaluate(() => t.storedKeys())).toEqual([
      { extractable: false, usages: ['sign'], exported: 'refused: InvalidAccessError' },
    ]);
    await tab2.reload();
    await tab2.waitForFunction(() => 't' in window);
    expect(await thumbprintOf(tab2)).toBe(thumbprint);
    expect(await tab2.evaluate(() => t.storedKeys())).toHaveLength(1);
    // A new key loaded 4 times at once in each of the two tabs: one key, the same everywhere.
    const raced = (
      await Promise.all([tab1, tab2].map((tab) => tab.evaluate(() => t.raceKeys('race', 4))))
    ).flat();
    expect(raced).toHaveLength(8);
    expect(new Set(raced).size).toBe(1);
    expect(raced[0]).not.toBe(thumbprint);
    expect(await tab1.evaluate(() => t.storedKeys())).toHaveLength(2);
    // Another browser profile (context) has its own key.
    const other = await harness.browser.newContext();
    cleanups.push(() => other.close());
    const stranger = await other.newPage();
    await stranger.goto(`${s.proxy.url}/client.html?transport=header`);
    await stranger.waitForFunction(() => 't' in window);
    expect(await thumbprintOf(stranger)).not.toBe(thumbprint);
  });

  it('header, DPOP=required: a bound session works across tabs and refreshes; its tokens copied out are refused without the key', async () => {
    const s = await setup('header', 'required');
    const tab1 = await s.tab();
    const calls = recordRequests(tab1, '/api/me');
    const thumbprint = await thumbprintOf(tab1);
    await tab1.evaluate((a) => t.client.login({ login: a.email, password: a.password }), DEMO);
    expect(await state(tab1)).toMatchObject({ status: 'signed-in', jkt: thumbprint });
    const rows = await tab1.evaluate(() => t.client.listSessions());
    expect(rows.find((row) => row.current)).toMatchObject({ jkt: thumbprint });

    const tab2 = await s.tab();
    const refreshes = recordRequests(tab2, '/auth/refresh');
    expect(await state(tab2)).toMatchObject({ status: 'signed-in', jkt: thumbprint });
    expect(await Promise.all([tab1.evaluate(() => t.call()), tab2.evaluate(() => t.call())])).toEqual([
      200, 200,
    ]);
    await tab2.evaluate(() => t.client.refresh());
    expect(s.proxy.count('POST', '/auth/refresh')).toBe(1);
    expect(await tab1.evaluate(() => Promise.all([t.call(), t.call(), t.call()]))).toEqual([200, 200, 200]);
    expect(refreshes[0]?.dpop).toBeTruthy();

    // What a script in the page could copy: the access token and a proof the page already used.
    const copied = calls.at(-1)!;
    const token = copied.authorization!.replace(/^DPoP /, '');
    expect(copied.authorization).toBe(`DPoP ${token}`);
    const url = `${s.proxy.url}/api/me`;
    const noProof = await replay(url, 'GET', { authorization: `DPoP ${token}` });
    expect(noProof).toMatchObject({ status: 401, code: 'dpop_proof_missing' });
    expect(noProof.challenge).toMatch(/^DPoP /);
    expect(await replay(url, 'GET', { authorization: `Bearer ${token}` })).toMatchObject({
      status: 401,
      code: 'dpop_bound_token',
    });
    const foreign = createDpopProof({
      privateKey: otherKey(),
      alg: 'ES256',
      method: 'GET',
      url,
      accessToken: token,
    });
    expect(await replay(url, 'GET', { authorization: `DPoP ${token}`, dpop: foreign })).toMatchObject({
      status: 401,
      code: 'dpop_key_mismatch',
    });
    expect(await replay(url, 'GET', { authorization: `DPoP ${token}`, dpop: copied.dpop! })).toMatchObject({
      status: 401,
      code: 'dpop_replayed',
    });

    // A refresh token copied while the page's refresh is in flight: refused without the key.
    s.proxy.hold('/auth/refresh');
    const pending = tab2.evaluate(() => t.client.refresh());
    await expect.poll(() => s.proxy.heldCount()).toBe(1);
    const stolen = refreshes.at(-1)!['x-refresh-token']!;
    const direct = `${s.srv.url}/auth/refresh`;
    expect(await replay(direct, 'POST', { 'x-refresh-token': stolen })).toMatchObject({
      status: 401,
      code: 'dpop_proof_missing',
    });
    const foreignRefresh = createDpopProof({
      privateKey: otherKey(),
      alg: 'ES256',
      method: 'POST',
      url: direct,
    });
    expect(await replay(direct, 'POST', { 'x-refresh-token': stolen, dpop: foreignRefresh })).toMatchObject({
      status: 401,
      code: 'dpop_key_mismatch',
    });
    s.proxy.release();
    expect(await pending).toMatchObject({ status: 'signed-in', jkt: thumbprint });
    // The page itself keeps working, in both tabs.
    expect(await Promise.all([tab1.evaluate(() => t.call()), tab2.evaluate(() => t.call())])).toEqual([
      200, 200,
    ]);
  }, 30_000);

  it('cookie, DPOP=required: bound login, calls after a reload; the cookies copied out are refused without the key', async () => {
    const s = await setup('cookie', 'required');
    const tab1 = await s.tab();
    const thumbprint = await thumbprintOf(tab1);
    await tab1.evaluate((a) => t.client.login({ login: a.email, password: a.password }), DEMO);
    expect(await state(tab1)).toMatchObject({ status: 'signed-in', jkt: thumbprint });
    expect(await tab1.evaluate(() => Promise.all([t.call(), t.call()]))).toEqual([200, 200]);
    // A reload resumes (GET /auth/session with a proof) and refreshes with the same key.
    await tab1.reload();
    await tab1.waitForFunction(() => 't' in window);
    await tab1.evaluate(() => t.client.ready);
    expect(await state(tab1)).toMatchObject({ status: 'signed-in', jkt: thumbprint });
    await tab1.evaluate(() => t.client.refresh());
    expect(await tab1.evaluate(() => t.call())).toBe(200);

    // HttpOnly cookies are out of a script's reach, but malware or a proxy could copy them.
    const cookies = await s.ctx.cookies(s.proxy.url);
    const jar = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    expect(cookies.length).toBeGreaterThan(0);
    const url = `${s.proxy.url}/api/me`;
    expect(await replay(url, 'GET', { cookie: jar })).toMatchObject({
      status: 401,
      code: 'dpop_proof_missing',
    });
    const foreign = createDpopProof({ privateKey: otherKey(), alg: 'ES256', method: 'GET', url });
    expect(await replay(url, 'GET', { cookie: jar, dpop: foreign })).toMatchObject({
      status: 401,
      code: 'dpop_key_mismatch',
    });
    expect(await tab1.evaluate(() => t.call())).toBe(200);
    // An unsafe request (CSRF token and a proof): signing out works.
    expect(await tab1.evaluate(() => t.client.logout())).toBe(1);
    expect(await state(tab1)).toEqual({ status: 'signed-out', reason: 'logout' });
  }, 30_000);

  it('header, DPOP=required with DPOP_NONCE=on: the first proof is retried once with the server nonce; tabs and refreshes keep working', async () => {
    const s = await setup('header', 'required', true);
    const tab1 = await s.tab();
    const logins = recordRequests(tab1, '/auth/login');
    await tab1.evaluate((a) => t.client.login({ login: a.email, password: a.password }), DEMO);
    expect(await state(tab1)).toMatchObject({ status: 'signed-in', jkt: await thumbprintOf(tab1) });
    expect(s.proxy.count('POST', '/auth/login')).toBe(2);
    expect(logins[1]!.dpop).not.toBe(logins[0]!.dpop);
    // A new tab has no nonce yet: its first request is refused once for it and retried once.
    const tab2 = await s.tab();
    const before = s.proxy.count('GET', '/api/me');
    expect(await tab2.evaluate(() => t.call())).toBe(200);
    expect(s.proxy.count('GET', '/api/me') - before).toBe(2);
    expect(await tab2.evaluate(() => t.client.refresh())).toMatchObject({ status: 'signed-in' });
    expect(await Promise.all([tab1.evaluate(() => t.call()), tab2.evaluate(() => t.call())])).toEqual([
      200, 200,
    ]);
    expect(s.proxy.count('POST', '/auth/refresh')).toBe(1);
  }, 30_000);

  for (const dpop of ['required', 'off'] as const) {
    it(`demo SPA, DPOP=${dpop}: "Bound to this browser" at sign-in; the page shows the session's jkt and its own key's`, async () => {
      const srv = await startServer({
        port: 0,
        logLevel: false,
        spaDir: await buildSpa(),
        dpop,
      });
      cleanups.push(() => srv.close());
      const ctx = await harness.browser.newContext();
      cleanups.push(() => ctx.close());
      const page = await ctx.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await openSpa(page, srv.url);
      await page.getByLabel(/Bound to this browser/).check();
      await submitSignIn(page, DEMO, 'header');
      await signedIn(page);
      const pageKey = page.locator('#page-jkt');
      await expect.poll(() => pageKey.textContent()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const sessionKey = await page.locator('#session-jkt').textContent();
      if (dpop === 'required') expect(sessionKey).toBe(await pageKey.textContent());
      else expect(sessionKey).toMatch(/^not bound/);
      await page.getByRole('button', { name: /Call/ }).click();
      await expect.poll(() => page.locator('#me-status').textContent()).toMatch(/^200 OK/);
      expect(await page.locator('#me-sent').textContent()).toContain(
        dpop === 'required' ? 'DPoP proof' : 'Bearer',
      );
    }, 30_000);
  }
});

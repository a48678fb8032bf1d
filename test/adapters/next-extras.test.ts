/**
 * What the shared scenarios do not cover on Next.js: `proxy` (Next 16's Node.js-runtime
 * middleware) as a gate in front of a route, framework-level odd requests, and a server action.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNext } from './apps-next.js';
import { createFixture, type Fixture, type RunningApp } from './harness.js';
import { ensureNextBuild, NEXT_BUILD_TIMEOUT_MS, NEXT_FIXTURE_DIR } from './next-server.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

let fixture: Fixture;
let app: RunningApp;

beforeAll(async () => {
  await ensureNextBuild();
  fixture = createFixture();
  app = await startNext(fixture);
}, NEXT_BUILD_TIMEOUT_MS);
afterAll(() => app?.close());

async function login(transport: 'header' | 'cookie' = 'header') {
  const reply = await fetch(`${app.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...DEMO, transport }),
  });
  expect(reply.status).toBe(200);
  return { body: await reply.json(), cookies: reply.headers.getSetCookie() };
}

describe('proxy (middleware) as a gate', () => {
  it('refuses a request without a token with the JSON error, no-store, before the route runs', async () => {
    const reply = await fetch(`${app.url}/api/gated`);
    expect(reply.status).toBe(401);
    expect(await reply.json()).toEqual({ error: expect.any(String), code: 'token_missing' });
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('lets a valid token through to the route', async () => {
    const { body } = await login();
    const reply = await fetch(`${app.url}/api/gated`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ gated: true });
  });

  it('cookie transport: POST needs the CSRF token at the gate', async () => {
    const { body, cookies } = await login('cookie');
    const cookie = cookies.map((line) => line.slice(0, line.indexOf(';'))).join('; ');
    const refused = await fetch(`${app.url}/api/gated`, { method: 'POST', headers: { cookie } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).code).toBe('csrf_invalid');
    const passed = await fetch(`${app.url}/api/gated`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': body.csrf },
    });
    expect(passed.status).toBe(200);
  });

  it('sliding renewal: the renewed token rides on the response the route produced', async () => {
    const { body } = await login();
    fixture.advance(35);
    const reply = await fetch(`${app.url}/api/gated`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ gated: true });
    const renewed = reply.headers.get('authorization');
    expect(renewed).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(renewed).not.toBe(`Bearer ${body.access_token}`);
  });
});

describe('odd requests Next itself sees first', () => {
  it.each([
    ['bad percent-encoding in the id', '/auth/sessions/%E0%A4%A'],
    ['bad percent-encoding in the route', '/auth/%ZZ'],
    ['a 5000-character id', `/auth/sessions/${'a'.repeat(5000)}`],
  ])('%s: a JSON error, no-store, nothing echoed', async (_label, path) => {
    const { body } = await login();
    const reply = await fetch(`${app.url}${path}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    const text = await reply.text();
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(JSON.parse(text)).toEqual({ error: expect.any(String), code: expect.any(String) });
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(text).not.toContain('%E0');
    expect(text).not.toContain('aaaa');
  });
});

describe('a server action guarded by withSessionAction', () => {
  /** Calls app/action's server action the way Next's client does (Next-Action header). */
  async function callAction(headers: Record<string, string>) {
    const manifest = JSON.parse(
      readFileSync(join(NEXT_FIXTURE_DIR, '.next', 'server', 'server-reference-manifest.json'), 'utf8'),
    ) as { node: Record<string, unknown> };
    const [actionId] = Object.keys(manifest.node);
    const reply = await fetch(`${app.url}/action`, {
      method: 'POST',
      headers: {
        'next-action': actionId!,
        'content-type': 'text/plain;charset=UTF-8',
        origin: app.url,
        ...headers,
      },
      body: '[]',
    });
    expect(reply.status).toBe(200);
    return reply.text();
  }

  it('header transport: the action sees the verified session', async () => {
    const { body } = await login();
    expect(await callAction({ authorization: `Bearer ${body.access_token}` })).toContain(
      '"user":"user-demo"',
    );
  });

  it('no token: refused with the typed error', async () => {
    expect(await callAction({})).toContain('"refused":"token_missing"');
  });

  it('cookie transport: refused without the CSRF token, allowed with it', async () => {
    const { body, cookies } = await login('cookie');
    const cookie = cookies.map((line) => line.slice(0, line.indexOf(';'))).join('; ');
    expect(await callAction({ cookie })).toContain('"refused":"csrf_invalid"');
    expect(await callAction({ cookie, 'x-csrf-token': body.csrf })).toContain('"user":"user-demo"');
  });
});

/**
 * The Hono adapter on the Fetch API alone — no Node server: `app.fetch(new Request(...))`, as on
 * Workers, Deno or Bun. Login → protected call → refresh → logout, in both transports.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { honoSessions, type JwtSessionsEnv } from '../../src/adapters/hono.js';
import { createFixture } from './harness.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

function buildApp(getIp?: () => string) {
  const fixture = createFixture();
  const auth = honoSessions(fixture.sessions, { ...fixture.httpOptions, ...(getIp && { getIp }) });
  const app = new Hono<JwtSessionsEnv>();
  app.route('/auth', auth.routes(fixture.routeOptions));
  app.get('/api/me', auth.requireAccess(), (c) => c.json(c.get('jwtSession').claims));
  app.post('/api/echo', auth.requireAccess(), (c) => c.json({ ok: true }));
  const call = (method: string, path: string, headers: Record<string, string> = {}, json?: unknown) =>
    app.fetch(
      new Request(`https://api.example${path}`, {
        method,
        headers: json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(json !== undefined && { body: JSON.stringify(json) }),
      }),
    );
  return { fixture, call };
}

describe('Hono adapter on the bare Fetch API', () => {
  it('header transport: login → me → refresh → logout', async () => {
    const { call } = buildApp();
    const login = await call('POST', '/auth/login', {}, DEMO);
    expect(login.status).toBe(200);
    const tokens = await login.json();
    expect(login.headers.get('authorization')).toBe(`Bearer ${tokens.access_token}`);
    const me = await call('GET', '/api/me', { authorization: `Bearer ${tokens.access_token}` });
    expect(await me.json()).toMatchObject({ user_id: 'user-demo', sid: tokens.session_id });
    const refreshed = await (
      await call('POST', '/auth/refresh', { 'x-refresh-token': tokens.refresh_token })
    ).json();
    expect(refreshed.session_id).toBe(tokens.session_id);
    const authorization = `Bearer ${refreshed.access_token}`;
    expect(await (await call('POST', '/auth/logout', { authorization })).json()).toEqual({ revoked: 1 });
    const after = await call('GET', '/api/me', { authorization });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('cookie transport: two Set-Cookie headers, CSRF on unsafe methods', async () => {
    const { call } = buildApp();
    const login = await call('POST', '/auth/login', {}, { ...DEMO, transport: 'cookie' });
    const setCookies = login.headers.getSetCookie();
    expect(setCookies.map((c) => c.slice(0, c.indexOf('=')))).toEqual(['jwt_access', 'jwt_refresh']);
    const { csrf } = await login.json();
    const cookie = setCookies.map((c) => c.slice(0, c.indexOf(';'))).join('; ');
    expect((await call('POST', '/api/echo', { cookie })).status).toBe(403);
    expect((await call('POST', '/api/echo', { cookie, 'x-csrf-token': csrf })).status).toBe(200);
    const logout = await call('POST', '/auth/logout', { cookie, 'x-csrf-token': csrf });
    expect(logout.headers.getSetCookie()).toHaveLength(2);
  });

  it('client address: none without a Node socket, or what getIp says', async () => {
    const bare = buildApp();
    const one = await (await bare.call('POST', '/auth/login', {}, DEMO)).json();
    expect((await bare.fixture.sessions.getSession(one.session_id))?.ip).toBeNull();
    const resolved = buildApp(() => '203.0.113.7');
    const two = await (await resolved.call('POST', '/auth/login', {}, DEMO)).json();
    expect((await resolved.fixture.sessions.getSession(two.session_id))?.ip).toBe('203.0.113.7');
  });
});

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

describe('Hono withSession: a guarded route as one handler', () => {
  async function setup() {
    const fixture = createFixture();
    const auth = honoSessions(fixture.sessions, fixture.httpOptions);
    const app = new Hono<JwtSessionsEnv>();
    app.route('/auth', auth.routes(fixture.routeOptions));
    app.onError((error, c) =>
      error.message === 'boom' ? c.json({ caught: true }, 500) : auth.errorResponse(error, c),
    );
    // A raw Response (not c.json): the renewal headers must still reach it, as with the middleware.
    app.get(
      '/raw',
      auth.withSession((c, session) => new Response(`${session.sessionId}|${c.get('jwtSession').sessionId}`)),
    );
    app.get(
      '/async',
      auth.withSession(async (c, session) => c.json({ sid: session.sessionId })),
    );
    app.get(
      '/boom',
      auth.withSession(() => {
        throw new Error('boom');
      }),
    );
    app.get(
      '/stateless',
      auth.withSession((c) => c.json({ ok: true }), { mode: 'stateless' }),
    );
    const login = await app.fetch(
      new Request('https://api.example/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(DEMO),
      }),
    );
    const tokens = (await login.json()) as { access_token: string; session_id: string };
    const get = (path: string, token = tokens.access_token) =>
      app.fetch(new Request(`https://api.example${path}`, { headers: { authorization: `Bearer ${token}` } }));
    return { fixture, tokens, get };
  }

  it('answers synchronously when the session is at hand: no promise for Hono to await', async () => {
    const { tokens, get } = await setup();
    const stateless = get('/stateless');
    expect(stateless).toBeInstanceOf(Response);
    expect((stateless as Response).status).toBe(200);
    // Strict on this fixture's store reads the session asynchronously: then a promise, same answer.
    expect(await (await get('/raw')).text()).toBe(`${tokens.session_id}|${tokens.session_id}`);
    expect(await (await get('/async')).json()).toEqual({ sid: tokens.session_id });
  });

  it('refuses as the middleware does, and the handler never runs', async () => {
    const { tokens, get } = await setup();
    const forged = `${tokens.access_token.slice(0, -2)}AA`;
    for (const path of ['/raw', '/async', '/boom']) {
      const reply = await get(path, forged);
      expect(reply.status).toBe(401);
      expect(await reply.json()).toMatchObject({ code: 'signature_invalid' });
      expect(reply.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
  });

  it('a sliding renewal reaches a raw Response; a throwing handler reaches app.onError', async () => {
    const { fixture, tokens, get } = await setup();
    fixture.advance(35);
    const reply = await get('/raw');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('authorization')).toMatch(/^Bearer /);
    expect(reply.headers.get('authorization')).not.toBe(`Bearer ${tokens.access_token}`);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const boom = await get('/boom');
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ caught: true });
  });

  it('takes the same options as the middleware, checked when the route is built', async () => {
    const { fixture, tokens, get } = await setup();
    await fixture.sessions.revokeSession(tokens.session_id);
    expect((await get('/async')).status).toBe(401);
    expect((await get('/stateless')).status).toBe(200);
    const auth = honoSessions(fixture.sessions);
    expect(() => auth.withSession((c) => c.json({}), { mode: 'sometimes' as never })).toThrow(/mode/);
  });
});

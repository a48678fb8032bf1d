/**
 * The HTTP contract of SPEC §5, route by route, against a real server on a real store. Run once per
 * STORE_URL (stores.test.ts), so every store answers the same HTTP.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/server.js';
import {
  ALICE,
  call,
  claimsOf,
  DEMO,
  DEMO_NAMESPACE,
  isIso,
  loginCookie,
  loginHeader,
  type StoreTarget,
  serverOn,
} from './support.js';

const TOKEN_FIELDS = [
  'access_token',
  'refresh_token',
  'csrf',
  'access_expires_at',
  'refresh_expires_at',
  'session_id',
  'token_type',
];

export function serverContract(target: StoreTarget): void {
  let server: RunningServer;
  let url: string;

  beforeAll(async () => {
    server = await serverOn(target.url);
    url = server.url;
  });
  afterAll(async () => {
    if (server) {
      await server.sessions.revokeAll();
      await server.close();
    }
    await target.cleanup();
  });
  // Each test starts with no session of either demo user, so counts are exact.
  beforeEach(async () => {
    await server.sessions.revokeNamespace(DEMO_NAMESPACE);
    await server.sessions.revokeNamespace('user:u_alice');
  });

  it('[H6] POST /auth/login (header transport): tokens, expiry times, session id and the Authorization header', async () => {
    const reply = await call(url, 'POST', '/auth/login', { body: DEMO });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual([...TOKEN_FIELDS].sort());
    const body = reply.body as Record<string, string>;
    expect(reply.headers.get('authorization')).toBe(`Bearer ${body.access_token}`);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(isIso(body.access_expires_at)).toBe(true);
    expect(isIso(body.refresh_expires_at)).toBe(true);
    const access = claimsOf(body.access_token!);
    expect(access.sid).toBe(body.session_id);
    expect(Date.parse(body.access_expires_at!)).toBe((access.exp as number) * 1000);
    expect(Date.parse(body.refresh_expires_at!)).toBe((claimsOf(body.refresh_token!).exp as number) * 1000);
    expect(reply.cookies.size).toBe(0);
  });

  it('POST /auth/login (cookie transport): HttpOnly access and refresh cookies, no tokens in the body', async () => {
    const reply = await call(url, 'POST', '/auth/login', { body: { ...DEMO, transport: 'cookie' } });
    expect(reply.status).toBe(200);
    expect(reply.body.access_token).toBeUndefined();
    expect(reply.body.refresh_token).toBeUndefined();
    expect(Object.keys(reply.body).sort()).toEqual(
      ['csrf', 'access_expires_at', 'refresh_expires_at', 'session_id', 'token_type'].sort(),
    );
    expect(reply.headers.get('authorization')).toBeNull();
    const access = reply.cookies.get('jwt_access');
    const refresh = reply.cookies.get('jwt_refresh');
    expect(access?.line).toMatch(/; HttpOnly/);
    expect(refresh?.line).toMatch(/; HttpOnly/);
    expect(refresh?.line).toMatch(/; Path=\/auth/);
    expect(claimsOf(access!.value).sid).toBe(reply.body.session_id);
    expect(claimsOf(refresh!.value).sid).toBe(reply.body.session_id);
  });

  it('POST /auth/login with a wrong password or an unknown login: 401 invalid_credentials, no session', async () => {
    for (const body of [
      { ...DEMO, password: 'wrong' },
      { login: 'nobody@example.com', password: DEMO.password },
    ]) {
      const reply = await call(url, 'POST', '/auth/login', { body });
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('invalid_credentials');
      expect(reply.body.access_token).toBeUndefined();
      expect(reply.cookies.size).toBe(0);
    }
    expect(await server.sessions.listSessions(DEMO_NAMESPACE)).toEqual([]);
  });

  it('POST /auth/refresh with X-Refresh-Token: a rotated pair; the old access token stops working', async () => {
    const first = await loginHeader(server);
    const reply = await call(url, 'POST', '/auth/refresh', {
      headers: { 'x-refresh-token': first.refresh_token },
      body: {},
    });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual([...TOKEN_FIELDS].sort());
    expect(reply.body.session_id).toBe(first.session_id);
    expect(reply.body.refresh_token).not.toBe(first.refresh_token);
    expect(claimsOf(reply.body.refresh_token as string).jti).not.toBe(claimsOf(first.refresh_token).jti);
    expect(reply.headers.get('authorization')).toBe(`Bearer ${reply.body.access_token}`);
    expect((await call(url, 'GET', '/api/me', { token: first.access_token })).status).toBe(401);
    expect((await call(url, 'GET', '/api/me', { token: reply.body.access_token as string })).status).toBe(
      200,
    );
  });

  it('POST /auth/refresh with the refresh token in the body', async () => {
    const first = await loginHeader(server);
    const reply = await call(url, 'POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(reply.status).toBe(200);
    expect(reply.body.session_id).toBe(first.session_id);
    expect(reply.body.refresh_token).not.toBe(first.refresh_token);
  });

  it('[H2] POST /auth/refresh with the refresh cookie needs X-CSRF-Token (403 without), then rotates the cookies', async () => {
    const session = await loginCookie(server);
    const refused = await call(url, 'POST', '/auth/refresh', { cookies: session.cookies, body: {} });
    expect(refused.status).toBe(403);
    const reply = await call(url, 'POST', '/auth/refresh', {
      cookies: session.cookies,
      headers: { 'x-csrf-token': session.csrf },
      body: {},
    });
    expect(reply.status).toBe(200);
    expect(reply.body.session_id).toBe(session.session_id);
    expect(reply.body.refresh_token).toBeUndefined();
    const rotated = reply.cookies.get('jwt_refresh')!.value;
    expect(rotated).not.toBe(session.cookies.jwt_refresh);
    expect(claimsOf(rotated).sid).toBe(session.session_id);
    expect(reply.cookies.get('jwt_access')!.line).toMatch(/HttpOnly/);
  });

  it('POST /auth/refresh with no token: 401; with a token that is not a JWT: 401, never 500', async () => {
    expect((await call(url, 'POST', '/auth/refresh', { body: {} })).status).toBe(401);
    const garbage = await call(url, 'POST', '/auth/refresh', { headers: { 'x-refresh-token': 'a.b.c' } });
    expect(garbage.status).toBe(401);
    expect(typeof garbage.body.code).toBe('string');
  });

  it('[R4] POST /auth/logout with no body ends this session only: {revoked: 1}', async () => {
    const mine = await loginHeader(server);
    const other = await loginHeader(server);
    const reply = await call(url, 'POST', '/auth/logout', { token: mine.access_token, body: {} });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ revoked: 1 });
    expect((await call(url, 'GET', '/api/me', { token: mine.access_token })).status).toBe(401);
    const refresh = await call(url, 'POST', '/auth/refresh', { body: { refresh_token: mine.refresh_token } });
    expect(refresh.status).toBe(401);
    expect((await call(url, 'GET', '/api/me', { token: other.access_token })).status).toBe(200);
  });

  it('POST /auth/logout with a refresh token ends that session; the caller stays signed in', async () => {
    const mine = await loginHeader(server);
    const other = await loginHeader(server);
    const reply = await call(url, 'POST', '/auth/logout', {
      token: mine.access_token,
      body: { refresh_token: other.refresh_token },
    });
    expect(reply.body).toEqual({ revoked: 1 });
    expect((await call(url, 'GET', '/api/me', { token: other.access_token })).status).toBe(401);
    expect((await call(url, 'GET', '/api/me', { token: mine.access_token })).status).toBe(200);
  });

  it('POST /auth/logout "all" ends every session of the user and no one else\'s: {revoked: n}', async () => {
    const sessions = [await loginHeader(server), await loginHeader(server), await loginHeader(server)];
    const cookie = await loginCookie(server);
    const alice = await loginHeader(server, ALICE);
    const reply = await call(url, 'POST', '/auth/logout', {
      token: sessions[0]!.access_token,
      body: { refresh_token: 'all' },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ revoked: 4 });
    for (const s of sessions)
      expect((await call(url, 'GET', '/api/me', { token: s.access_token })).status).toBe(401);
    expect((await call(url, 'GET', '/api/me', { cookies: cookie.cookies })).status).toBe(401);
    expect((await call(url, 'GET', '/api/me', { token: alice.access_token })).status).toBe(200);
  });

  it('[H6] POST /auth/logout over cookies needs the CSRF token and expires the cookies with the same attributes', async () => {
    const login = await call(url, 'POST', '/auth/login', { body: { ...DEMO, transport: 'cookie' } });
    const cookies = Object.fromEntries([...login.cookies].map(([name, { value }]) => [name, value]));
    expect((await call(url, 'POST', '/auth/logout', { cookies, body: {} })).status).toBe(403);
    const reply = await call(url, 'POST', '/auth/logout', {
      cookies,
      headers: { 'x-csrf-token': login.body.csrf as string },
      body: {},
    });
    expect(reply.body).toEqual({ revoked: 1 });
    // Path, HttpOnly, Secure, SameSite as set at login; only the lifetime differs.
    const attributes = (line: string) =>
      line
        .split('; ')
        .slice(1)
        .filter((a) => !/^(Max-Age|Expires)=/i.test(a))
        .sort();
    for (const name of ['jwt_access', 'jwt_refresh']) {
      const cleared = reply.cookies.get(name)!;
      expect(cleared.value).toBe('');
      expect(cleared.line).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
      expect(attributes(cleared.line)).toEqual(attributes(login.cookies.get(name)!.line));
    }
  });

  it('POST /auth/logout without an access token: 401', async () => {
    const reply = await call(url, 'POST', '/auth/logout', { body: {} });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it("GET /auth/sessions: the user's live sessions with ISO times, ip, user agent and the current flag", async () => {
    const phone = await loginHeader(server, DEMO, { 'user-agent': 'Phone/2.0' });
    const laptop = await loginHeader(server, DEMO, { 'user-agent': 'Laptop/3.1' });
    await loginHeader(server, ALICE);
    const reply = await call(url, 'GET', '/auth/sessions', { token: laptop.access_token });
    expect(reply.status).toBe(200);
    const list = reply.body.sessions as Record<string, unknown>[];
    expect(list.map((s) => s.id).sort()).toEqual([phone.session_id, laptop.session_id].sort());
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual(
        ['id', 'created_at', 'last_used_at', 'expires_at', 'ip', 'user_agent', 'jkt', 'current'].sort(),
      );
      for (const field of ['created_at', 'last_used_at', 'expires_at']) expect(isIso(s[field])).toBe(true);
      expect(s.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
      expect(s.current).toBe(s.id === laptop.session_id);
    }
    expect(list.find((s) => s.id === phone.session_id)!.user_agent).toBe('Phone/2.0');
    expect(list.find((s) => s.id === laptop.session_id)!.user_agent).toBe('Laptop/3.1');
    expect((await call(url, 'GET', '/auth/sessions')).status).toBe(401);
  });

  it("DELETE /auth/sessions/:id ends one of the user's own sessions: {revoked: 1}", async () => {
    const mine = await loginHeader(server);
    const other = await loginHeader(server);
    const reply = await call(url, 'DELETE', `/auth/sessions/${other.session_id}`, {
      token: mine.access_token,
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ revoked: 1 });
    expect((await call(url, 'GET', '/api/me', { token: other.access_token })).status).toBe(401);
    const list = await call(url, 'GET', '/auth/sessions', { token: mine.access_token });
    expect((list.body.sessions as { id: string }[]).map((s) => s.id)).toEqual([mine.session_id]);
  });

  it("DELETE /auth/sessions/:id of another user's session or an unknown id: 404, nothing ended", async () => {
    const mine = await loginHeader(server);
    const alice = await loginHeader(server, ALICE);
    for (const id of [alice.session_id, 'no-such-session', '%2E%2E']) {
      const reply = await call(url, 'DELETE', `/auth/sessions/${id}`, { token: mine.access_token });
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('not_found');
    }
    expect((await call(url, 'GET', '/api/me', { token: alice.access_token })).status).toBe(200);
  });

  it('[R6] POST /auth/logout racing POST /auth/refresh of the same session: 200 {revoked: 1}, the session ends', async () => {
    for (let round = 0; round < 10; round++) {
      const session = await loginHeader(server);
      const [refreshed, logout] = await Promise.all([
        call(url, 'POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } }),
        call(url, 'POST', '/auth/logout', { token: session.access_token, body: {} }),
      ]);
      expect(logout.status, JSON.stringify(logout.body)).toBe(200);
      expect(logout.body).toEqual({ revoked: 1 });
      const tokens = refreshed.status === 200 ? (refreshed.body as Record<string, string>) : session;
      expect((await call(url, 'GET', '/api/me', { token: tokens.access_token })).status).toBe(401);
      const again = await call(url, 'POST', '/auth/refresh', {
        body: { refresh_token: tokens.refresh_token },
      });
      expect(again.status).toBe(401);
    }
  });

  it('[R6] DELETE /auth/sessions/:id racing another revoke of it: one 200 {revoked: 1}, the rest 404', async () => {
    for (let round = 0; round < 5; round++) {
      const mine = await loginHeader(server);
      const other = await loginHeader(server);
      const replies = await Promise.all(
        [0, 1, 2].map(() =>
          call(url, 'DELETE', `/auth/sessions/${other.session_id}`, { token: mine.access_token }),
        ),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 404, 404]);
      expect(replies.find((r) => r.status === 200)!.body).toEqual({ revoked: 1 });
      for (const r of replies.filter((x) => x.status === 404)) expect(r.body.code).toBe('not_found');
    }
  });

  it('[C1][C2] MAX_SESSIONS: 12 concurrent logins of one user leave exactly 3; GET /auth/sessions pages them', async () => {
    const capped = await serverOn(target.url, { maxSessions: 3 });
    try {
      const logins = await Promise.all(Array.from({ length: 12 }, () => loginHeader(capped)));
      const survivor = logins.find((l) => l !== undefined)!;
      const listed: string[] = [];
      let cursor: string | null = null;
      let token = survivor.access_token;
      // Some of the 12 sessions were ended by the cap: list with one that is still live.
      for (const login of logins) {
        if ((await call(capped.url, 'GET', '/api/me', { token: login.access_token })).status === 200) {
          token = login.access_token;
          break;
        }
      }
      do {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
        const page = await call(capped.url, 'GET', `/auth/sessions${query}`, { token });
        expect(page.status).toBe(200);
        listed.push(...(page.body.sessions as { id: string }[]).map((s) => s.id));
        cursor = page.body.next_cursor as string | null;
      } while (cursor !== null);
      expect(listed).toHaveLength(3);
      expect(new Set(listed).size).toBe(3);
      const bad = await call(capped.url, 'GET', '/auth/sessions?cursor=garbage', { token });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('bad_request');
      expect((await call(capped.url, 'GET', '/auth/sessions?limit=0', { token })).status).toBe(400);
    } finally {
      await capped.sessions.revokeNamespace(DEMO_NAMESPACE);
      await capped.close();
    }
  });

  it('GET /api/me: the verified claims (user payload, sid, jti, iat, exp); 401 without a token', async () => {
    const session = await loginHeader(server);
    const reply = await call(url, 'GET', '/api/me', { token: session.access_token });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      sub: 'u_demo',
      email: 'demo@example.com',
      name: 'Demo User',
      sid: session.session_id,
    });
    expect(reply.body).toEqual(claimsOf(session.access_token));
    for (const claim of ['jti', 'iat', 'exp']) expect(reply.body[claim]).toBeDefined();
    const cookie = await loginCookie(server);
    const viaCookie = await call(url, 'GET', '/api/me', { cookies: cookie.cookies });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.body.sid).toBe(cookie.session_id);
    const anonymous = await call(url, 'GET', '/api/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
}

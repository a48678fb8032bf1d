/**
 * ONE scenario list, run against every adapter (express.test.ts, fastify.test.ts, hono.test.ts):
 * a real server on 127.0.0.1, requests with fetch. What is asserted is the HTTP contract (SPEC §4,
 * §5, SECURITY.md "HTTP"), so every adapter must answer byte-for-byte the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  ALLOWED_ORIGIN,
  BROKEN_LOGINS,
  createFixture,
  type Fixture,
  type RunningApp,
  type StartApp,
} from './harness.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
const ALICE = { login: 'alice@example.com', password: 'alice-password' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field.
  body: any;
  text: string;
  cookies: string[];
  ms: number;
}

interface CookieLogin {
  cookie: string;
  csrf: string;
  sessionId: string;
  access: string;
  refresh: string;
  setCookies: string[];
}

function cookieValue(setCookies: string[], name: string): string {
  const line = setCookies.find((c) => c.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no ${name} cookie`);
  return line.slice(name.length + 1, line.indexOf(';'));
}

interface RequestOptions {
  headers?: Record<string, string> | Headers;
  json?: unknown;
  body?: BodyInit;
  duplex?: 'half';
}

async function send(base: string, method: string, path: string, init: RequestOptions = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const started = performance.now();
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined && { body }),
    ...(init.duplex && { duplex: init.duplex }),
  } as RequestInit);
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return {
    status: response.status,
    headers: response.headers,
    body: parsed,
    text,
    cookies: response.headers.getSetCookie(),
    ms,
  };
}

function expectError(reply: Reply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body).toEqual({ error: expect.any(String), code });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.text).not.toMatch(/\bat .*\(|node_modules|\.ts:\d/); // never a stack
}

function expectUnauthorized(reply: Reply, code: string): void {
  expectError(reply, 401, code);
  const challenge = reply.headers.get('www-authenticate');
  if (code === 'token_missing' || code === 'invalid_credentials') expect(challenge).toBe('Bearer');
  else expect(challenge).toBe('Bearer error="invalid_token"');
}

/** Body fields of a header-transport login or refresh: the tokens, their expiries, csrf, session id. */
const HEADER_BODY_KEYS = [
  'access_expires_at',
  'access_token',
  'csrf',
  'refresh_expires_at',
  'refresh_token',
  'session_id',
  'token_type',
];
/** Cookie transport: the same body without the tokens, which travel only in HttpOnly cookies. */
const COOKIE_BODY_KEYS = ['access_expires_at', 'csrf', 'refresh_expires_at', 'session_id', 'token_type'];

/** A header-transport token reply: the exact body fields, the access token echoed as Bearer, no-store. */
function expectHeaderTokens(reply: Reply): void {
  expect(Object.keys(reply.body).sort()).toEqual(HEADER_BODY_KEYS);
  expect(reply.headers.get('authorization')).toBe(`Bearer ${reply.body.access_token}`);
  expect(reply.headers.get('cache-control')).toBe('no-store');
}

export function defineScenarios(adapter: string, start: StartApp): void {
  describe(`${adapter} adapter — HTTP contract`, () => {
    let fixture: Fixture;
    let app: RunningApp;

    beforeAll(async () => {
      fixture = createFixture();
      app = await start(fixture);
    });
    afterAll(async () => {
      await app?.close();
    });

    const call = (method: string, path: string, init?: RequestOptions) => send(app.url, method, path, init);
    /** GET /api/me with `access` as the Bearer token. */
    const callMe = (access: string) =>
      call('GET', '/api/me', { headers: { authorization: `Bearer ${access}` } });

    async function loginHeader(user = DEMO) {
      const reply = await call('POST', '/auth/login', { json: user });
      expect(reply.status).toBe(200);
      return reply.body as {
        access_token: string;
        refresh_token: string;
        csrf: string;
        session_id: string;
      };
    }

    /** A cookie-authenticated call: refused (403 csrf_invalid) without the CSRF header, then sent with it. */
    async function callNeedingCsrf(method: string, path: string, login: CookieLogin): Promise<Reply> {
      expectError(await call(method, path, { headers: { cookie: login.cookie } }), 403, 'csrf_invalid');
      return call(method, path, { headers: { cookie: login.cookie, 'x-csrf-token': login.csrf } });
    }

    async function loginCookie(user = DEMO): Promise<CookieLogin> {
      const reply = await call('POST', '/auth/login', { json: { ...user, transport: 'cookie' } });
      expect(reply.status).toBe(200);
      const access = cookieValue(reply.cookies, 'jwt_access');
      const refresh = cookieValue(reply.cookies, 'jwt_refresh');
      return {
        cookie: `jwt_access=${access}; jwt_refresh=${refresh}`,
        csrf: reply.body.csrf,
        sessionId: reply.body.session_id,
        access,
        refresh,
        setCookies: reply.cookies,
      };
    }

    describe('login', () => {
      it('[H6] header transport: exact body shape, Authorization response header, no-store', async () => {
        const reply = await call('POST', '/auth/login', {
          json: DEMO,
          headers: { 'user-agent': 'scenario/1' },
        });
        expect(reply.status).toBe(200);
        expectHeaderTokens(reply);
        expect(reply.body.access_expires_at).toMatch(ISO);
        expect(reply.body.refresh_expires_at).toMatch(ISO);
        expect(reply.cookies).toEqual([]);
      });

      it('[H6] cookie transport: HttpOnly cookies, a body without the tokens, no-store', async () => {
        const reply = await call('POST', '/auth/login', { json: { ...DEMO, transport: 'cookie' } });
        expect(reply.status).toBe(200);
        expect(Object.keys(reply.body).sort()).toEqual(COOKIE_BODY_KEYS);
        expect(reply.headers.get('authorization')).toBeNull();
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(reply.cookies).toHaveLength(2);
        for (const name of ['jwt_access', 'jwt_refresh']) {
          const line = reply.cookies.find((c) => c.startsWith(`${name}=`))!;
          expect(line).toMatch(/; Path=\/; Max-Age=\d+; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Lax$/);
          const maxAge = Number(/Max-Age=(\d+)/.exec(line)![1]);
          expect(maxAge).toBeGreaterThan(3590);
          expect(maxAge).toBeLessThanOrEqual(3600);
        }
      });

      it('bad credentials: 401 invalid_credentials', async () => {
        expectUnauthorized(
          await call('POST', '/auth/login', { json: { ...DEMO, password: 'wrong' } }),
          'invalid_credentials',
        );
        expectUnauthorized(
          await call('POST', '/auth/login', { json: { login: 'nobody', password: 'x' } }),
          'invalid_credentials',
        );
      });

      it('bad input: 400 bad_request', async () => {
        expectError(await call('POST', '/auth/login', { json: { login: DEMO.login } }), 400, 'bad_request');
        expectError(
          await call('POST', '/auth/login', { json: { login: 1, password: 2 } }),
          400,
          'bad_request',
        );
        expectError(
          await call('POST', '/auth/login', { json: { ...DEMO, transport: 'carrier-pigeon' } }),
          400,
          'bad_request',
        );
        expectError(await call('POST', '/auth/login', { json: [DEMO] }), 400, 'bad_request');
        expectError(await call('POST', '/auth/login', {}), 400, 'bad_request');
      });

      it('records device metadata (ip, user agent)', async () => {
        const reply = await call('POST', '/auth/login', {
          json: ALICE,
          headers: { 'user-agent': 'DeviceTest/2.0' },
        });
        const info = await fixture.sessions.getSession(reply.body.session_id);
        expect(info?.userAgent).toBe('DeviceTest/2.0');
        expect(info?.ip).toMatch(/127\.0\.0\.1/);
      });
    });

    describe('request bodies', () => {
      it('[H5] simple content types on JSON routes: 415', async () => {
        const form = 'login=demo%40example.com&password=x';
        for (const [type, body] of [
          ['text/plain', JSON.stringify(DEMO)],
          ['application/x-www-form-urlencoded', form],
          ['multipart/form-data; boundary=x', '--x--'],
          ['application/json; charset=latin1', JSON.stringify(DEMO)],
        ] as const) {
          expectError(
            await call('POST', '/auth/login', { headers: { 'content-type': type }, body }),
            415,
            'unsupported_media_type',
          );
        }
      });

      it('[H5] a body without a content type: 415', async () => {
        const reply = await call('POST', '/auth/login', {
          body: new Uint8Array(Buffer.from(JSON.stringify(DEMO))),
        });
        expectError(reply, 415, 'unsupported_media_type');
      });

      it('over 16 KiB: 413, by Content-Length and while streaming', async () => {
        const big = JSON.stringify({ ...DEMO, pad: 'x'.repeat(17 * 1024) });
        expectError(
          await call('POST', '/auth/login', { headers: { 'content-type': 'application/json' }, body: big }),
          413,
          'payload_too_large',
        );
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(1024).fill(0x20));
            controller.close();
          },
        });
        const reply = await call('POST', '/auth/login', {
          headers: { 'content-type': 'application/json' },
          body: stream,
          duplex: 'half',
        });
        expectError(reply, 413, 'payload_too_large');
      });

      it('invalid JSON or UTF-8: 400 invalid_json', async () => {
        const headers = { 'content-type': 'application/json' };
        expectError(await call('POST', '/auth/login', { headers, body: '{"login":' }), 400, 'invalid_json');
        expectError(
          await call('POST', '/auth/login', { headers, body: new Uint8Array([0x7b, 0xff, 0x7d]) }),
          400,
          'invalid_json',
        );
      });
    });

    describe('access tokens: header and cookie transport', () => {
      it('header: Bearer (any case) authorizes', async () => {
        const { access_token } = await loginHeader();
        for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
          const reply = await call('GET', '/api/me', {
            headers: { authorization: `${scheme} ${access_token}` },
          });
          expect(reply.status).toBe(200);
          expect(reply.body.transport).toBe('header');
          expect(reply.body.claims).toMatchObject({
            user_id: 'user-demo',
            sid: expect.any(String),
            jti: expect.any(String),
          });
        }
      });

      it('cookie: GET needs no CSRF token', async () => {
        const { cookie } = await loginCookie();
        const reply = await call('GET', '/api/me', { headers: { cookie } });
        expect(reply.status).toBe(200);
        expect(reply.body.transport).toBe('cookie');
      });

      it('no token: 401 token_missing with a bare Bearer challenge', async () => {
        expectUnauthorized(await call('GET', '/api/me'), 'token_missing');
      });

      it('garbage and tampered tokens: 401 invalid_token', async () => {
        const { access_token } = await loginHeader();
        expectUnauthorized(
          await call('GET', '/api/me', { headers: { authorization: 'Bearer abc.def.ghi' } }),
          'token_malformed',
        );
        // 'BA', not 'BB': the last of 43 signature characters carries two zero bits, so B there is
        // non-canonical base64url (token_malformed), the case when the real signature ends in AA.
        const tampered = `${access_token.slice(0, -2)}${access_token.endsWith('AA') ? 'BA' : 'AA'}`;
        expectUnauthorized(await callMe(tampered), 'signature_invalid');
      });

      it('a refresh token is not an access token', async () => {
        const { refresh_token } = await loginHeader();
        expectUnauthorized(await callMe(refresh_token), 'token_type_mismatch');
      });

      it('Basic and Digest authorization are ignored as if absent', async () => {
        const { cookie } = await loginCookie();
        const basic = `Basic ${Buffer.from('demo:pw').toString('base64')}`;
        const withCookie = await call('GET', '/api/me', { headers: { authorization: basic, cookie } });
        expect(withCookie.status).toBe(200);
        expect(withCookie.body.transport).toBe('cookie');
        expectUnauthorized(
          await call('GET', '/api/me', { headers: { authorization: basic } }),
          'token_missing',
        );
        const digest = 'Digest username="demo", realm="x", nonce="y", uri="/", response="z"';
        expect((await call('GET', '/api/me', { headers: { authorization: digest, cookie } })).status).toBe(
          200,
        );
      });

      it('a malformed Authorization header does not fall back to the cookie', async () => {
        const { cookie, access } = await loginCookie();
        for (const authorization of [
          'Bearer',
          `Bearer ${access} ${access}`,
          `Bearer ${access},x`,
          `Token ${access}`,
          access,
        ]) {
          expectUnauthorized(
            await call('GET', '/api/me', { headers: { authorization, cookie } }),
            'token_malformed',
          );
        }
      });

      it('two Authorization headers are malformed, not "the first one"', async () => {
        const { access_token } = await loginHeader();
        const headers = new Headers();
        headers.append('authorization', `Bearer ${access_token}`);
        headers.append('authorization', `Bearer ${access_token}`);
        expectUnauthorized(await call('GET', '/api/me', { headers }), 'token_malformed');
      });

      it('[H1] tokens in the URL query are ignored', async () => {
        const { access_token } = await loginHeader();
        for (const name of ['access_token', 'token', 'jwt', 'authorization']) {
          expectUnauthorized(await call('GET', `/api/me?${name}=${access_token}`), 'token_missing');
        }
      });

      it('[H7] 100 KB of spaces after Bearer (or of separators in Cookie) is answered at once', async () => {
        const reply = await call('GET', '/api/me', {
          headers: { authorization: `Bearer ${' '.repeat(100_000)}x` },
        });
        expect(reply.status).toBe(401);
        expect(reply.ms).toBeLessThan(1000);
        const cookieFlood = await call('GET', '/api/me', { headers: { cookie: `a=${';'.repeat(100_000)}` } });
        expect(cookieFlood.status).toBe(401);
        expect(cookieFlood.ms).toBeLessThan(1000);
      });

      it('[H4] two cookies with the same name are refused as ambiguous (cookie tossing)', async () => {
        const one = await loginCookie();
        const two = await loginCookie(ALICE);
        const reply = await call('GET', '/api/me', {
          headers: { cookie: `jwt_access=${two.access}; jwt_access=${one.access}` },
        });
        expectError(reply, 400, 'bad_request');
        expect(reply.body.error).toMatch(/ambiguous/);
        const same = await call('GET', '/api/me', {
          headers: { cookie: `jwt_access=${one.access}; jwt_access=${one.access}` },
        });
        expectError(same, 400, 'bad_request');
      });

      it('transport: header-only ignores cookies, cookie-only ignores headers', async () => {
        const { cookie } = await loginCookie();
        const { access_token } = await loginHeader();
        expectUnauthorized(await call('GET', '/api/header-only', { headers: { cookie } }), 'token_missing');
        expect(
          (await call('GET', '/api/header-only', { headers: { authorization: `Bearer ${access_token}` } }))
            .status,
        ).toBe(200);
        expectUnauthorized(
          await call('GET', '/api/cookie-only', { headers: { authorization: `Bearer ${access_token}` } }),
          'token_missing',
        );
        expect((await call('GET', '/api/cookie-only', { headers: { cookie } })).status).toBe(200);
      });

      it('strict rejects a revoked session; stateless does not look', async () => {
        const { access_token } = await loginHeader();
        const authorization = `Bearer ${access_token}`;
        expect((await call('POST', '/auth/logout', { headers: { authorization } })).status).toBe(200);
        expectUnauthorized(await call('GET', '/api/me', { headers: { authorization } }), 'session_not_found');
        expect((await call('GET', '/api/stateless', { headers: { authorization } })).status).toBe(200);
      });
    });

    describe('CSRF (cookie transport, unsafe methods)', () => {
      it('[H2] the session’s own token passes; header transport needs none', async () => {
        const login = await loginCookie();
        const ok = await call('POST', '/api/echo', {
          headers: { cookie: login.cookie, 'x-csrf-token': login.csrf },
        });
        expect(ok.status).toBe(200);
        expect(ok.body).toEqual({ ok: true, transport: 'cookie' });
        const { access_token } = await loginHeader();
        expect(
          (await call('POST', '/api/echo', { headers: { authorization: `Bearer ${access_token}` } })).status,
        ).toBe(200);
      });

      it('[H2] missing, foreign, wrong-length or cookie-only tokens: 403 csrf_invalid', async () => {
        const login = await loginCookie();
        const other = await loginCookie(ALICE);
        const cases: Array<Record<string, string>> = [
          { cookie: login.cookie },
          { cookie: login.cookie, 'x-csrf-token': other.csrf },
          { cookie: login.cookie, 'x-csrf-token': login.csrf.slice(0, -1) },
          { cookie: login.cookie, 'x-csrf-token': `${login.csrf}A` },
          { cookie: login.cookie, 'x-csrf-token': '' },
          { cookie: `${login.cookie}; X-CSRF-Token=${login.csrf}; csrf=${login.csrf}` },
        ];
        for (const headers of cases)
          expectError(await call('POST', '/api/echo', { headers }), 403, 'csrf_invalid');
      });

      it('[H2] masked tokens: a fresh mask each time, all of them valid', async () => {
        const login = await loginCookie();
        const tokens = [login.csrf];
        for (let i = 0; i < 4; i++) {
          const again = await call('GET', '/auth/csrf', { headers: { cookie: login.cookie } });
          expect(again.status).toBe(200);
          expect(again.headers.get('cache-control')).toBe('no-store');
          tokens.push(again.body.csrf);
        }
        expect(new Set(tokens).size).toBe(tokens.length);
        expect(new Set(tokens.map((t) => t.length)).size).toBe(1);
        for (const csrf of tokens) {
          expect(
            (await call('POST', '/api/echo', { headers: { cookie: login.cookie, 'x-csrf-token': csrf } }))
              .status,
          ).toBe(200);
        }
      });

      it('GET /auth/session: the session state and a fresh CSRF token, for a browser client after a reload', async () => {
        const login = await loginCookie();
        const reply = await call('GET', '/auth/session', { headers: { cookie: login.cookie } });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(Object.keys(reply.body).sort()).toEqual(
          [...COOKIE_BODY_KEYS.filter((key) => key !== 'token_type'), 'claims', 'jkt'].sort(),
        );
        expect(reply.body).toMatchObject({ session_id: login.sessionId, claims: { sid: login.sessionId } });
        expect(reply.body.access_expires_at).toMatch(ISO);
        expect(reply.body.csrf).not.toBe(login.csrf);
        expect((await callNeedingCsrf('POST', '/api/echo', { ...login, csrf: reply.body.csrf })).status).toBe(
          200,
        );
        // The access token expired: only the refresh cookie answers; no claims, nothing rotated.
        fixture.advance(61);
        const late = await call('GET', '/auth/session', { headers: { cookie: login.cookie } });
        expect(late.status).toBe(200);
        expect(late.body).toMatchObject({
          session_id: login.sessionId,
          claims: null,
          access_expires_at: null,
        });
        const refreshed = await call('POST', '/auth/refresh', {
          headers: { cookie: login.cookie, 'x-csrf-token': late.body.csrf },
        });
        expect(refreshed.status).toBe(200);
        fixture.advance(11); // past the reuse grace window
        // A rotated-out refresh cookie read here is refused, and is not taken for a replay.
        expectUnauthorized(
          await call('GET', '/auth/session', { headers: { cookie: login.cookie } }),
          'refresh_reused',
        );
        expect(await fixture.sessions.getSession(login.sessionId)).not.toBeNull();
        expectUnauthorized(await call('GET', '/auth/session'), 'token_missing');
      });

      it('[H3] Fetch Metadata / Origin allowlist: cross-site refused with 403 origin_refused', async () => {
        const login = await loginCookie();
        const base = { cookie: login.cookie, 'x-csrf-token': login.csrf };
        expectError(
          await call('POST', '/api/echo', { headers: { ...base, 'sec-fetch-site': 'cross-site' } }),
          403,
          'origin_refused',
        );
        expectError(
          await call('POST', '/api/echo', {
            headers: { ...base, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
          }),
          403,
          'origin_refused',
        );
        expectError(
          await call('POST', '/api/echo', { headers: { ...base, 'sec-fetch-site': 'same-site' } }),
          403,
          'origin_refused',
        );
        expectError(
          await call('POST', '/api/echo', { headers: { ...base, origin: 'https://evil.example' } }),
          403,
          'origin_refused',
        );
        expectError(
          await call('POST', '/api/echo', { headers: { ...base, origin: 'null' } }),
          403,
          'origin_refused',
        );
        const allowedExtras: Record<string, string>[] = [
          { 'sec-fetch-site': 'same-origin' },
          { 'sec-fetch-site': 'cross-site', origin: ALLOWED_ORIGIN },
          { origin: ALLOWED_ORIGIN },
          // An old browser's same-origin request: no Fetch Metadata, Origin = the server's own.
          { origin: app.url },
          {},
        ];
        for (const extra of allowedExtras) {
          expect((await call('POST', '/api/echo', { headers: { ...base, ...extra } })).status).toBe(200);
        }
        // Safe methods and header transport are not subject to it.
        expect(
          (
            await call('GET', '/api/me', {
              headers: { cookie: login.cookie, 'sec-fetch-site': 'cross-site' },
            })
          ).status,
        ).toBe(200);
      });
    });

    describe('sliding expiration', () => {
      it('header transport: a renewed token in Authorization, exposed to CORS, no-store; both tokens work', async () => {
        const { access_token } = await loginHeader();
        fixture.advance(35); // past half of the 60 s access lifetime
        const reply = await callMe(access_token);
        expect(reply.status).toBe(200);
        const renewed = reply.headers.get('authorization');
        expect(renewed).toMatch(/^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        expect(renewed).not.toBe(`Bearer ${access_token}`);
        expect(reply.headers.get('access-control-expose-headers')).toMatch(/\bAuthorization\b/);
        expect(reply.headers.get('cache-control')).toBe('no-store');
        // The renewed token works, and a request in flight with the previous one does not fail.
        expect((await call('GET', '/api/me', { headers: { authorization: renewed! } })).status).toBe(200);
        expect((await callMe(access_token)).status).toBe(200);
      });

      it('cookie transport: a renewed access cookie', async () => {
        const login = await loginCookie();
        fixture.advance(35);
        const reply = await call('GET', '/api/me', { headers: { cookie: login.cookie } });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('authorization')).toBeNull();
        const renewed = cookieValue(reply.cookies, 'jwt_access');
        expect(renewed).not.toBe(login.access);
        expect(reply.cookies[0]).toMatch(/HttpOnly; Secure; SameSite=Lax$/);
        expect((await call('GET', '/api/me', { headers: { cookie: `jwt_access=${renewed}` } })).status).toBe(
          200,
        );
      });

      it('a fresh token gets no renewal header', async () => {
        const { access_token } = await loginHeader();
        const reply = await callMe(access_token);
        expect(reply.headers.get('authorization')).toBeNull();
      });
    });

    describe('POST /auth/refresh', () => {
      it('X-Refresh-Token (bare or Bearer) or body: same shape as login, rotated, old access dead', async () => {
        for (const send of [
          (t: string) => ({ headers: { 'x-refresh-token': t } }),
          (t: string) => ({ headers: { 'x-refresh-token': `Bearer ${t}` } }),
          (t: string) => ({ json: { refresh_token: t } }),
        ]) {
          const first = await loginHeader();
          const reply = await call('POST', '/auth/refresh', send(first.refresh_token));
          expect(reply.status, reply.text).toBe(200);
          expectHeaderTokens(reply);
          expect(reply.body.session_id).toBe(first.session_id);
          expect(reply.body.refresh_token).not.toBe(first.refresh_token);
          expectUnauthorized(await callMe(first.access_token), 'access_revoked');
          expect(
            (
              await call('GET', '/api/me', {
                headers: { authorization: `Bearer ${reply.body.access_token}` },
              })
            ).status,
          ).toBe(200);
        }
      });

      it('reuse of a rotated-out refresh token after the grace window revokes the session', async () => {
        const first = await loginHeader();
        const second = await call('POST', '/auth/refresh', {
          headers: { 'x-refresh-token': first.refresh_token },
        });
        expect(second.status).toBe(200);
        fixture.advance(11);
        expectUnauthorized(
          await call('POST', '/auth/refresh', { headers: { 'x-refresh-token': first.refresh_token } }),
          'refresh_reused',
        );
        expectUnauthorized(await callMe(second.body.access_token), 'session_not_found');
      });

      it('[H2] cookie: needs the CSRF token; answers with cookies and a body without tokens', async () => {
        const login = await loginCookie();
        const reply = await callNeedingCsrf('POST', '/auth/refresh', login);
        expect(reply.status, reply.text).toBe(200);
        expect(Object.keys(reply.body).sort()).toEqual(COOKIE_BODY_KEYS);
        expect(cookieValue(reply.cookies, 'jwt_refresh')).not.toBe(login.refresh);
        expect(cookieValue(reply.cookies, 'jwt_access')).not.toBe(login.access);
      });

      it('a malformed X-Refresh-Token does not fall back to the cookie; none at all is 401', async () => {
        const login = await loginCookie();
        expectUnauthorized(
          await call('POST', '/auth/refresh', {
            headers: { cookie: login.cookie, 'x-csrf-token': login.csrf, 'x-refresh-token': 'a b c' },
          }),
          'token_malformed',
        );
        expectUnauthorized(
          await call('POST', '/auth/refresh', { json: { refresh_token: 'not a token' } }),
          'token_malformed',
        );
        expectError(await call('POST', '/auth/refresh', { json: { refresh_token: 42 } }), 400, 'bad_request');
      });

      it('an access token is never a refresh token', async () => {
        const first = await loginHeader();
        expectUnauthorized(
          await call('POST', '/auth/refresh', { headers: { 'x-refresh-token': first.access_token } }),
          'token_type_mismatch',
        );
      });
    });

    describe('POST /auth/logout', () => {
      it('this session: {revoked: 1}; the token stops working', async () => {
        const { access_token } = await loginHeader();
        const authorization = `Bearer ${access_token}`;
        const reply = await call('POST', '/auth/logout', { headers: { authorization } });
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ revoked: 1 });
        expectUnauthorized(await call('GET', '/api/me', { headers: { authorization } }), 'session_not_found');
      });

      it('"all": every session of the user, none of another user', async () => {
        await fixture.sessions.revokeNamespace('user-alice');
        await fixture.sessions.revokeNamespace('user-demo');
        const a = await loginHeader(ALICE);
        await loginHeader(ALICE);
        await loginHeader(ALICE);
        const demo = await loginHeader(DEMO);
        const reply = await call('POST', '/auth/logout', {
          headers: { authorization: `Bearer ${a.access_token}` },
          json: { refresh_token: 'all' },
        });
        expect(reply.body).toEqual({ revoked: 3 });
        expect((await callMe(demo.access_token)).status).toBe(200);
      });

      it('another of my sessions by its refresh token; another user’s: 404', async () => {
        const mine = await loginHeader(ALICE);
        const other = await loginHeader(ALICE);
        const stranger = await loginHeader(DEMO);
        const authorization = `Bearer ${mine.access_token}`;
        const foreign = await call('POST', '/auth/logout', {
          headers: { authorization },
          json: { refresh_token: stranger.refresh_token },
        });
        expectError(foreign, 404, 'not_found');
        const reply = await call('POST', '/auth/logout', {
          headers: { authorization },
          json: { refresh_token: other.refresh_token },
        });
        expect(reply.body).toEqual({ revoked: 1 });
        expect(reply.cookies).toEqual([]);
        expect((await call('GET', '/api/me', { headers: { authorization } })).status).toBe(200);
        expect((await callMe(stranger.access_token)).status).toBe(200);
        // That session is gone now: ending it again is 404, never 200 {revoked: 0}.
        expectError(
          await call('POST', '/auth/logout', {
            headers: { authorization },
            json: { refresh_token: other.refresh_token },
          }),
          404,
          'not_found',
        );
      });

      it('[H6] cookie transport: CSRF required; the cookies expire with the attributes they were set with', async () => {
        const login = await loginCookie();
        const reply = await callNeedingCsrf('POST', '/auth/logout', login);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ revoked: 1 });
        expect(reply.cookies).toEqual([
          'jwt_access=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
          'jwt_refresh=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
        ]);
        const setAttributes = (line: string) =>
          line.replace(/^[^=]+=[^;]*; /, '').replace(/Max-Age=\d+; Expires=[^;]+; /, '');
        expect(login.setCookies.map(setAttributes)).toEqual(reply.cookies.map(setAttributes));
        expectUnauthorized(
          await call('GET', '/api/me', { headers: { cookie: login.cookie } }),
          'session_not_found',
        );
      });

      it('[R6] racing a refresh of the same session (header): 200 {revoked: 1} and the session ends', async () => {
        for (let round = 0; round < 10; round++) {
          const login = await loginHeader();
          const [refreshed, logout] = await Promise.all([
            call('POST', '/auth/refresh', { headers: { 'x-refresh-token': login.refresh_token } }),
            call('POST', '/auth/logout', { headers: { authorization: `Bearer ${login.access_token}` } }),
          ]);
          expect(logout.status, logout.text).toBe(200);
          expect(logout.body).toEqual({ revoked: 1 });
          expect(await fixture.sessions.getSession(login.session_id)).toBeNull();
          if (refreshed.status === 200) {
            expectUnauthorized(await callMe(refreshed.body.access_token), 'session_not_found');
          }
        }
      });

      it('[R6] racing a refresh of the same session (cookies + CSRF): 200 {revoked: 1} and the session ends', async () => {
        for (let round = 0; round < 5; round++) {
          const login = await loginCookie();
          const headers = { cookie: login.cookie, 'x-csrf-token': login.csrf };
          const [refreshed, logout] = await Promise.all([
            call('POST', '/auth/refresh', { headers }),
            call('POST', '/auth/logout', { headers }),
          ]);
          expect(logout.status, logout.text).toBe(200);
          expect(logout.body).toEqual({ revoked: 1 });
          expect(refreshed.status === 200 || refreshed.status === 401).toBe(true);
          expect(await fixture.sessions.getSession(login.sessionId)).toBeNull();
        }
      });

      it('a token its session no longer knows (an older generation) cannot log out; a second logout: 401', async () => {
        const login = await loginHeader();
        const first = await call('POST', '/auth/refresh', {
          headers: { 'x-refresh-token': login.refresh_token },
        });
        await call('POST', '/auth/refresh', { headers: { 'x-refresh-token': first.body.refresh_token } });
        expectUnauthorized(
          await call('POST', '/auth/logout', { headers: { authorization: `Bearer ${login.access_token}` } }),
          'access_revoked',
        );
        expect(await fixture.sessions.getSession(login.session_id)).not.toBeNull();
        const current = await loginHeader();
        const authorization = `Bearer ${current.access_token}`;
        expect((await call('POST', '/auth/logout', { headers: { authorization } })).status).toBe(200);
        expectUnauthorized(
          await call('POST', '/auth/logout', { headers: { authorization } }),
          'session_not_found',
        );
      });

      it('needs a valid access token', async () => {
        expectUnauthorized(await call('POST', '/auth/logout'), 'token_missing');
      });
    });

    describe('sessions listing and revocation', () => {
      it('GET /auth/sessions: exact shape, ISO times, device metadata, current flag', async () => {
        await fixture.sessions.revokeNamespace('user-alice');
        const a = await loginHeader(ALICE);
        await call('POST', '/auth/login', { json: ALICE, headers: { 'user-agent': 'Phone/1' } });
        const reply = await call('GET', '/auth/sessions', {
          headers: { authorization: `Bearer ${a.access_token}` },
        });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(Object.keys(reply.body)).toEqual(['sessions', 'next_cursor']);
        expect(reply.body.next_cursor).toBeNull();
        expect(reply.body.sessions).toHaveLength(2);
        for (const s of reply.body.sessions) {
          expect(Object.keys(s).sort()).toEqual([
            'created_at',
            'current',
            'expires_at',
            'id',
            'ip',
            'jkt',
            'last_used_at',
            'user_agent',
          ]);
          expect(s.created_at).toMatch(ISO);
          expect(s.last_used_at).toMatch(ISO);
          expect(s.expires_at).toMatch(ISO);
          expect(s.ip).toMatch(/127\.0\.0\.1/);
        }
        expect(
          reply.body.sessions.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id),
        ).toEqual([a.session_id]);
        expect(reply.body.sessions.map((s: { user_agent: string }) => s.user_agent)).toContain('Phone/1');
      });

      it('DELETE /auth/sessions/:id: own session {revoked: 1}; another user’s or unknown: 404', async () => {
        const mine = await loginHeader(ALICE);
        const other = await loginHeader(ALICE);
        const stranger = await loginHeader(DEMO);
        const authorization = `Bearer ${mine.access_token}`;
        expectError(
          await call('DELETE', `/auth/sessions/${stranger.session_id}`, { headers: { authorization } }),
          404,
          'not_found',
        );
        expectError(
          await call('DELETE', '/auth/sessions/no-such-session', { headers: { authorization } }),
          404,
          'not_found',
        );
        expectError(
          await call('DELETE', '/auth/sessions/not%20a%20session%3B', { headers: { authorization } }),
          404,
          'not_found',
        );
        const reply = await call('DELETE', `/auth/sessions/${other.session_id}`, {
          headers: { authorization },
        });
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ revoked: 1 });
        expectUnauthorized(await callMe(other.access_token), 'session_not_found');
        expect((await callMe(stranger.access_token)).status).toBe(200);
      });

      it('[C2] GET /auth/sessions?limit=&cursor=: pages in a stable order; a bad limit or cursor is 400', async () => {
        await fixture.sessions.revokeNamespace('user-alice');
        const logins = [];
        for (let i = 0; i < 5; i++) logins.push(await loginHeader(ALICE));
        const authorization = `Bearer ${logins[0]!.access_token}`;
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const query: string =
            cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
          const page = await call('GET', `/auth/sessions${query}`, { headers: { authorization } });
          expect(page.status).toBe(200);
          expect(page.body.sessions.length).toBeLessThanOrEqual(2);
          seen.push(...page.body.sessions.map((s: { id: string }) => s.id));
          cursor = page.body.next_cursor;
        } while (cursor !== null);
        // Every session exactly once (logins in the same millisecond are ordered by id).
        expect(seen).toHaveLength(5);
        expect([...seen].sort()).toEqual(logins.map((l) => l.session_id).sort());
        for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?cursor=not-a-cursor', '?cursor=']) {
          expectError(
            await call('GET', `/auth/sessions${query}`, { headers: { authorization } }),
            400,
            'bad_request',
          );
        }
      });

      it('[R6] DELETE /auth/sessions/:id racing other revokes of it: one 200 {revoked: 1}, the rest 404', async () => {
        for (let round = 0; round < 5; round++) {
          const mine = await loginHeader(ALICE);
          const other = await loginHeader(ALICE);
          const authorization = `Bearer ${mine.access_token}`;
          const replies = await Promise.all(
            [0, 1, 2].map(() =>
              call('DELETE', `/auth/sessions/${other.session_id}`, { headers: { authorization } }),
            ),
          );
          expect(replies.map((r) => r.status).sort()).toEqual([200, 404, 404]);
          expect(replies.find((r) => r.status === 200)!.body).toEqual({ revoked: 1 });
          for (const r of replies.filter((x) => x.status === 404)) expectError(r, 404, 'not_found');
        }
      });

      it('[H2] DELETE with cookie transport needs the CSRF token', async () => {
        const login = await loginCookie(ALICE);
        const other = await loginHeader(ALICE);
        const reply = await callNeedingCsrf('DELETE', `/auth/sessions/${other.session_id}`, login);
        expect(reply.body).toEqual({ revoked: 1 });
      });
    });

    describe('refresh-token and refresh-by-access middleware', () => {
      it('[H2] requireRefresh: X-Refresh-Token or cookie + CSRF', async () => {
        const h = await loginHeader();
        const byHeader = await call('POST', '/api/refresh-check', {
          headers: { 'x-refresh-token': h.refresh_token },
        });
        expect(byHeader.body).toEqual({ session_id: h.session_id, transport: 'header' });
        const c = await loginCookie();
        expectError(
          await call('POST', '/api/refresh-check', { headers: { cookie: c.cookie } }),
          403,
          'csrf_invalid',
        );
        const byCookie = await call('POST', '/api/refresh-check', {
          headers: { cookie: c.cookie, 'x-csrf-token': c.csrf },
        });
        expect(byCookie.body).toEqual({ session_id: c.sessionId, transport: 'cookie' });
      });

      it('requireRefreshByAccess: an expired access token refreshes its session', async () => {
        const h = await loginHeader();
        fixture.advance(61);
        const authorization = `Bearer ${h.access_token}`;
        expectUnauthorized(await call('GET', '/api/me', { headers: { authorization } }), 'token_expired');
        const reply = await call('POST', '/api/refresh-by-access', { headers: { authorization } });
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body.session_id).toBe(h.session_id);
        expect((await callMe(reply.body.access_token)).status).toBe(200);
        const forged = `${h.access_token.slice(0, -3)}abc`;
        expectUnauthorized(
          await call('POST', '/api/refresh-by-access', { headers: { authorization: `Bearer ${forged}` } }),
          'signature_invalid',
        );
      });

      it('[H2] POST /auth/refresh by access cookie (no refresh token sent) needs CSRF', async () => {
        const c = await loginCookie();
        const cookie = `jwt_access=${c.access}`;
        expectError(await call('POST', '/auth/refresh', { headers: { cookie } }), 403, 'csrf_invalid');
        const reply = await call('POST', '/auth/refresh', { headers: { cookie, 'x-csrf-token': c.csrf } });
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body.session_id).toBe(c.sessionId);
      });
    });

    describe('CORS (ready-made routes)', () => {
      it('preflight from an allowed origin: 204 with methods, headers, credentials, Vary', async () => {
        const reply = await call('OPTIONS', '/auth/login', {
          headers: {
            origin: ALLOWED_ORIGIN,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
        expect(reply.status).toBe(204);
        expect(reply.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        expect(reply.headers.get('access-control-allow-credentials')).toBe('true');
        expect(reply.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
        const allowed = reply.headers.get('access-control-allow-headers')!.toLowerCase();
        for (const h of ['authorization', 'content-type', 'x-csrf-token', 'x-refresh-token'])
          expect(allowed).toContain(h);
        expect(reply.headers.get('vary')).toMatch(/Origin/);
        const byId = await call('OPTIONS', '/auth/sessions/abc', {
          headers: { origin: 'https://spa.trusted.test' },
        });
        expect(byId.status).toBe(204);
        expect(byId.headers.get('access-control-allow-origin')).toBe('https://spa.trusted.test');
        expect(byId.headers.get('access-control-allow-methods')).toBe('DELETE, OPTIONS');
      });

      it('preflight from another origin: no CORS headers', async () => {
        const reply = await call('OPTIONS', '/auth/login', { headers: { origin: 'https://evil.example' } });
        expect(reply.status).toBe(204);
        expect(reply.headers.get('access-control-allow-origin')).toBeNull();
        expect(reply.headers.get('vary')).toMatch(/Origin/);
      });

      it('responses to an allowed origin expose Authorization', async () => {
        const reply = await call('POST', '/auth/login', { json: DEMO, headers: { origin: ALLOWED_ORIGIN } });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        expect(reply.headers.get('access-control-expose-headers')).toMatch(/\bAuthorization\b/);
        expect(reply.headers.get('access-control-allow-credentials')).toBe('true');
        const error = await call('POST', '/auth/login', {
          json: { ...DEMO, password: 'x' },
          headers: { origin: ALLOWED_ORIGIN },
        });
        expect(error.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        const foreign = await call('POST', '/auth/login', {
          json: DEMO,
          headers: { origin: 'https://evil.example' },
        });
        expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      });
    });

    describe('errors', () => {
      it('store outage: 503 store_unavailable, Retry-After, never a token accepted', async () => {
        const { access_token, refresh_token } = await loginHeader();
        fixture.store.down = true;
        try {
          const me = await callMe(access_token);
          expectError(me, 503, 'store_unavailable');
          expect(me.headers.get('retry-after')).toBe('1');
          expectError(await call('POST', '/auth/login', { json: DEMO }), 503, 'store_unavailable');
          expectError(
            await call('POST', '/auth/refresh', { headers: { 'x-refresh-token': refresh_token } }),
            503,
            'store_unavailable',
          );
          expectError(
            await call('GET', '/auth/sessions', { headers: { authorization: `Bearer ${access_token}` } }),
            503,
            'store_unavailable',
          );
        } finally {
          fixture.store.down = false;
        }
        expect((await callMe(access_token)).status).toBe(200);
      });

      it('unknown route under the prefix: 404 JSON', async () => {
        expectError(await call('GET', '/auth/nope'), 404, 'not_found');
        expectError(await call('GET', '/auth/login'), 404, 'not_found');
      });

      it('[H6] error responses are never cached', async () => {
        const reply = await call('GET', '/api/me');
        expect(reply.headers.get('cache-control')).toBe('no-store');
      });

      it('public routes are untouched', async () => {
        const reply = await call('GET', '/public', { headers: { authorization: 'Bearer garbage!' } });
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ ok: true });
      });

      it('an exception in the app’s authenticate: 500 internal_error, generic body, reported to onError', async () => {
        for (const login of [BROKEN_LOGINS.throws, BROKEN_LOGINS.reservedClaim]) {
          const before = fixture.reported.length;
          const reply = await call('POST', '/auth/login', { json: { login, password: 'x' } });
          expect(reply.status).toBe(500);
          expect(reply.body).toEqual({ error: 'internal server error', code: 'internal_error' });
          expect(reply.text).not.toContain('hunter2');
          expect(reply.headers.get('cache-control')).toBe('no-store');
          expect(fixture.reported.length).toBe(before + 1);
        }
        expect(fixture.reported.at(-1)).toBeInstanceOf(ConfigurationError);
      });

      it('typed errors thrown by the app’s own handlers get the JSON shape; others go on to the app', async () => {
        expectError(await call('GET', '/api/throws-typed'), 404, 'not_found');
        expect((await call('GET', '/api/throws-plain')).status).toBe(500);
      });
    });
  });

  describe(`${adapter} adapter — custom names, cookie prefixes, another prefix`, () => {
    let fixture: Fixture;
    let app: RunningApp;
    const PREFIX = '/v1/session';
    const FN_ORIGIN = 'https://spa.fn.test';

    beforeAll(async () => {
      fixture = createFixture({
        prefix: PREFIX,
        http: {
          accessCookie: { name: '__Host-access' },
          refreshCookie: { name: '__Secure-refresh', path: PREFIX, sameSite: 'Strict' },
          refreshHeader: 'X-Refresh',
          csrfHeader: 'X-XSRF-Token',
          slidingHeader: 'X-Access-Token',
        },
        routes: { refreshByAccess: false, cors: { origins: (origin) => origin.endsWith('.fn.test') } },
      });
      app = await start(fixture);
    });
    afterAll(async () => {
      await app?.close();
    });

    const call = (method: string, path: string, init?: RequestOptions) => send(app.url, method, path, init);

    async function loginCookie() {
      const reply = await call('POST', `${PREFIX}/login`, { json: { ...DEMO, transport: 'cookie' } });
      expect(reply.status, reply.text).toBe(200);
      const access = cookieValue(reply.cookies, '__Host-access');
      const refresh = cookieValue(reply.cookies, '__Secure-refresh');
      return { reply, access, refresh, csrf: reply.body.csrf as string };
    }

    it('login sets a __Host- access cookie and a __Secure- refresh cookie scoped to the prefix', async () => {
      const { reply } = await loginCookie();
      expect(reply.cookies).toHaveLength(2);
      expect(reply.cookies.find((c) => c.startsWith('__Host-access='))).toMatch(
        /^__Host-access=[\w.-]+; Path=\/; Max-Age=\d+; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Lax$/,
      );
      expect(reply.cookies.find((c) => c.startsWith('__Secure-refresh='))).toMatch(
        /^__Secure-refresh=[\w.-]+; Path=\/v1\/session; Max-Age=\d+; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Strict$/,
      );
    });

    it('[H2] guarded routes read the renamed cookie and take CSRF tokens in the renamed header only', async () => {
      const { access, csrf } = await loginCookie();
      const cookie = `__Host-access=${access}`;
      expect((await call('GET', '/api/me', { headers: { cookie } })).body.transport).toBe('cookie');
      expect((await call('POST', '/api/echo', { headers: { cookie, 'x-xsrf-token': csrf } })).status).toBe(
        200,
      );
      expectError(
        await call('POST', '/api/echo', { headers: { cookie, 'x-csrf-token': csrf } }),
        403,
        'csrf_invalid',
      );
      // The default names mean nothing here.
      expectUnauthorized(
        await call('GET', '/api/me', { headers: { cookie: `jwt_access=${access}` } }),
        'token_missing',
      );
    });

    it('[H4] the renamed cookie sent twice is ambiguous', async () => {
      const { access } = await loginCookie();
      const reply = await call('GET', '/api/me', {
        headers: { cookie: `__Host-access=${access}; __Host-access=${access}` },
      });
      expectError(reply, 400, 'bad_request');
    });

    it('[H6] refresh and logout under the prefix; logout expires each cookie with its own attributes', async () => {
      const first = await loginCookie();
      const cookie = `__Host-access=${first.access}; __Secure-refresh=${first.refresh}`;
      const refreshed = await call('POST', `${PREFIX}/refresh`, {
        headers: { cookie, 'x-xsrf-token': first.csrf },
      });
      expect(refreshed.status, refreshed.text).toBe(200);
      expect(refreshed.headers.get('cache-control')).toBe('no-store');
      const access = cookieValue(refreshed.cookies, '__Host-access');
      const refresh = cookieValue(refreshed.cookies, '__Secure-refresh');
      expect(refresh).not.toBe(first.refresh);
      const logout = await call('POST', `${PREFIX}/logout`, {
        headers: {
          cookie: `__Host-access=${access}; __Secure-refresh=${refresh}`,
          'x-xsrf-token': refreshed.body.csrf,
        },
      });
      expect(logout.body).toEqual({ revoked: 1 });
      expect(logout.cookies).toEqual([
        '__Host-access=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
        '__Secure-refresh=; Path=/v1/session; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict',
      ]);
    });

    it('the renamed refresh header, bare or Bearer; without a refresh token (refresh by access off): 401', async () => {
      const login = await call('POST', `${PREFIX}/login`, { json: DEMO });
      let refreshToken: string = login.body.refresh_token;
      for (const wrap of [(t: string) => t, (t: string) => `Bearer ${t}`]) {
        const reply = await call('POST', `${PREFIX}/refresh`, {
          headers: { 'x-refresh': wrap(refreshToken) },
        });
        expect(reply.status, reply.text).toBe(200);
        refreshToken = reply.body.refresh_token;
      }
      expectUnauthorized(
        await call('POST', `${PREFIX}/refresh`, {
          headers: { 'x-refresh-token': refreshToken, authorization: `Bearer ${login.body.access_token}` },
        }),
        'token_missing',
      );
    });

    it('sliding expiration in a custom header: the bare token, exposed to CORS', async () => {
      const login = await call('POST', `${PREFIX}/login`, { json: DEMO });
      fixture.advance(35);
      const reply = await call('GET', '/api/me', {
        headers: { authorization: `Bearer ${login.body.access_token}` },
      });
      expect(reply.status).toBe(200);
      const renewed = reply.headers.get('x-access-token');
      expect(renewed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(renewed).not.toBe(login.body.access_token);
      expect(reply.headers.get('authorization')).toBeNull();
      expect(reply.headers.get('access-control-expose-headers')).toMatch(/\bX-Access-Token\b/);
      expect((await call('GET', '/api/me', { headers: { authorization: `Bearer ${renewed}` } })).status).toBe(
        200,
      );
    });

    it('CORS with allowed origins as a function: exposes Authorization and the sliding header', async () => {
      const preflight = await call('OPTIONS', `${PREFIX}/refresh`, { headers: { origin: FN_ORIGIN } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(FN_ORIGIN);
      const reply = await call('POST', `${PREFIX}/login`, { json: DEMO, headers: { origin: FN_ORIGIN } });
      expect(reply.headers.get('access-control-allow-origin')).toBe(FN_ORIGIN);
      expect(reply.headers.get('access-control-expose-headers')).toBe('Authorization, X-Access-Token');
      const other = await call('OPTIONS', `${PREFIX}/refresh`, {
        headers: { origin: 'https://fn.test.evil' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
}

/**
 * The bad-input corpus through the HTTP layer of every adapter (Express, Fastify, Hono, Koa…), on the
 * adapter test app (test/adapters/apps.ts): each input is answered 4xx with a JSON `{error, code}`
 * body (never a 500, never a stack), in bounded time, and leaves the store exactly as it was.
 * Requests go out on raw sockets so the bytes are exactly the corpus' (latin-1 header values,
 * repeated headers, invalid UTF-8 bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessions } from '../../src/session/engine.js';
import { startExpress, startFastify, startHono } from '../adapters/apps.js';
import { startKoa } from '../adapters/apps-koa.js';
import { startNestExpress, startNestFastify } from '../adapters/apps-nest.js';
import { startNext } from '../adapters/apps-next.js';
import {
  ALLOWED_ORIGIN,
  createFixture,
  type Fixture,
  type RunningApp,
  type StartApp,
} from '../adapters/harness.js';
import { ensureNextBuild, NEXT_BUILD_TIMEOUT_MS } from '../adapters/next-server.js';
import {
  accessConfusion,
  authorizationCorpus,
  bodyCorpus,
  buildTokenCorpus,
  type CorpusContext,
  cookieCorpus,
  refreshConfusion,
  type TokenCase,
} from './corpus.js';
import {
  engineKey,
  expectParserRefusal,
  expectRefusedReply,
  type RawReply,
  rawRequest,
  snapshot,
  watchUnhandledRejections,
} from './support.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
const ACCESS_TTL = 60;
const REFRESH_TTL = 3600;
/** The HTTP layer may refuse a token before the engine sees it: for its characters or its size. */
const HTTP_FORMAT_CODES = ['token_malformed', 'token_too_large', 'bad_request'];

const ADAPTERS: [string, StartApp][] = [
  ['Express', startExpress],
  ['Fastify', startFastify],
  ['Hono', startHono],
  ['Koa', startKoa],
  ['Next.js', startNext],
  ['NestJS (Express)', startNestExpress],
  ['NestJS (Fastify)', startNestFastify],
];

// The Next.js app is a real `next build` (cached between runs).
beforeAll(ensureNextBuild, NEXT_BUILD_TIMEOUT_MS);

/**
 * Header values cannot carry CR/LF (that would be a different request), and surrounding spaces are
 * optional whitespace HTTP strips: such cases go in bodies only.
 */
const headerSafe = (c: TokenCase) => !/[\r\n]/.test(c.token) && c.token === c.token.trim();

for (const [adapter, start] of ADAPTERS) {
  describe(`${adapter}: bad input over HTTP`, () => {
    let fixture: Fixture;
    let app: RunningApp;
    let ctx: CorpusContext;
    let cookie: { access: string; refresh: string; csrf: string };
    const rejections = watchUnhandledRejections();
    const state = () => snapshot(fixture.store, ['user-demo', 'user-alice']);

    const send = (
      method: string,
      path: string,
      headers: [string, string][] = [],
      body?: string | Uint8Array,
    ) => rawRequest(app.url, method, path, headers, body);
    const json = (value: unknown): [[string, string][], string] => [
      [['content-type', 'application/json']],
      JSON.stringify(value),
    ];

    /** Sends one refused input and checks the contract and that the store did not move. */
    async function refused(
      label: string,
      request: () => Promise<RawReply>,
      codes?: readonly string[],
      invalidHttp = false,
    ) {
      const before = await state();
      const reply = await request();
      if (invalidHttp) expectParserRefusal(reply, `${adapter} ${label}`);
      else expectRefusedReply(reply, `${adapter} ${label}`, codes);
      expect(await state(), `${adapter} ${label}: store changed`).toBe(before);
      return reply;
    }

    beforeAll(async () => {
      const base = createFixture();
      const key = engineKey();
      const sessions = createSessions({
        keys: { signing: { alg: 'ES256', key: key.privateKey, kid: key.kid } },
        store: base.store,
        accessTtl: ACCESS_TTL,
        refreshTtl: REFRESH_TTL,
      });
      fixture = { ...base, sessions };
      app = await start(fixture);
      const [headers, body] = json(DEMO);
      const login = await send('POST', '/auth/login', headers, body);
      expect(login.status).toBe(200);
      const cookieLogin = await send('POST', '/auth/login', ...json({ ...DEMO, transport: 'cookie' }));
      const value = (name: string) => {
        const line = cookieLogin.headers.get('set-cookie')!.find((c) => c.startsWith(`${name}=`))!;
        return line.slice(name.length + 1, line.indexOf(';'));
      };
      cookie = { access: value('jwt_access'), refresh: value('jwt_refresh'), csrf: cookieLogin.body.csrf };
      ctx = {
        key,
        access: login.body.access_token,
        refresh: login.body.refresh_token,
        sessionId: login.body.session_id,
        now: Math.floor(Date.now() / 1000),
        accessTtl: ACCESS_TTL,
        refreshTtl: REFRESH_TTL,
      };
    });
    afterAll(async () => {
      await app?.close();
      expect(rejections.stop()).toEqual([]);
    });

    it('[T1][T2][T3][T4][T5][T6][T7][T9][T10] every corpus token as a Bearer access token: 401 with its code', async () => {
      const cases = [...buildTokenCorpus(ctx), ...accessConfusion(ctx)].filter(headerSafe);
      expect(cases.length).toBeGreaterThan(90);
      for (const c of cases) {
        await refused(
          `[${c.rule}] ${c.name} (Bearer)`,
          () => send('GET', '/api/me', [['authorization', `Bearer ${c.token}`]]),
          [...c.codes, ...HTTP_FORMAT_CODES],
        );
      }
      // and the genuine token still works: the refusals were about the inputs
      expect((await send('GET', '/api/me', [['authorization', `Bearer ${ctx.access}`]])).status).toBe(200);
    });

    it('[T1][T2][T5][T6][T7][T9] every corpus token as an access cookie, a refresh header, a refresh body', async () => {
      for (const c of [...buildTokenCorpus(ctx), ...refreshConfusion(ctx)]) {
        const label = `[${c.rule}] ${c.name}`;
        await refused(`${label} (refresh body)`, () =>
          send('POST', '/auth/refresh', ...json({ refresh_token: c.token })),
        );
        if (!headerSafe(c)) continue;
        await refused(`${label} (X-Refresh-Token)`, () =>
          send('POST', '/auth/refresh', [['x-refresh-token', c.token]]),
        );
      }
      for (const c of buildTokenCorpus(ctx).filter(headerSafe)) {
        const label = `[${c.rule}] ${c.name}`;
        await refused(`${label} (access cookie)`, () =>
          send('GET', '/api/me', [['cookie', `jwt_access=${c.token}`]]),
        );
        await refused(`${label} (logout)`, () =>
          send('POST', '/auth/logout', [['authorization', `Bearer ${c.token}`]]),
        );
        // The T9 cases carry the engine's own signature over the live session: an expired but
        // genuine access token may refresh its session by design (refreshByAccess is on here).
        if (c.rule !== 'T9') {
          await refused(`${label} (refresh by access)`, () =>
            send('POST', '/api/refresh-by-access', [['authorization', `Bearer ${c.token}`]]),
          );
        }
      }
    });

    it('[H7][T1] hostile Authorization headers: refused (or ignored) at once, whatever their length', async () => {
      for (const c of authorizationCorpus(ctx.access)) {
        await refused(
          `[${c.rule}] ${c.name}`,
          () => send('GET', '/api/me', [['authorization', c.value]]),
          undefined,
          c.invalidHttp,
        );
      }
      // two Authorization header lines are ambiguous, never "the first one"
      await refused('[H7] two Authorization headers', () =>
        send('GET', '/api/me', [
          ['authorization', `Bearer ${ctx.access}`],
          ['authorization', 'Bearer x.y.z'],
        ]),
      );
    });

    it('[H4][T1] hostile Cookie headers: cookie tossing, oversize, malformed values', async () => {
      for (const c of cookieCorpus(cookie.access, cookie.refresh)) {
        const codes = c.rule === 'H4' ? ['bad_request'] : undefined;
        if (!c.refreshOnly) {
          await refused(`[${c.rule}] ${c.name}`, () => send('GET', '/api/me', [['cookie', c.value]]), codes);
        }
        await refused(
          `[${c.rule}] ${c.name} (refresh)`,
          () =>
            send('POST', '/auth/refresh', [
              ['cookie', c.value],
              ['x-csrf-token', cookie.csrf],
            ]),
          c.refreshOnly ? codes : undefined,
        );
      }
      // the same cookie name in two Cookie header lines is tossing too
      await refused(
        '[H4] jwt_access in two Cookie headers',
        () =>
          send('GET', '/api/me', [
            ['cookie', `jwt_access=${cookie.access}`],
            ['cookie', 'jwt_access=forged.token.value'],
          ]),
        ['bad_request'],
      );
      expect((await send('GET', '/api/me', [['cookie', `jwt_access=${cookie.access}`]])).status).toBe(200);
    });

    it('[T3][T10][H5] hostile JSON bodies on login and refresh: 4xx, nobody logged in, no pollution', async () => {
      for (const c of bodyCorpus(DEMO.login, DEMO.password)) {
        const headers: [string, string][] = c.contentType === null ? [] : [['content-type', c.contentType]];
        const expected = c.rule === 'H5' ? ['unsupported_media_type'] : undefined;
        await refused(
          `[${c.rule}] ${c.name} (login)`,
          () => send('POST', '/auth/login', headers, c.body),
          expected,
        );
        await refused(
          `[${c.rule}] ${c.name} (refresh)`,
          () => send('POST', '/auth/refresh', headers, c.body),
          expected,
        );
      }
      expect(Object.prototype).not.toHaveProperty('admin');
      expect(Object.prototype).not.toHaveProperty('login');
    });

    it('[H1] a valid token in the query string is ignored', async () => {
      for (const name of ['access_token', 'token', 'jwt', 'authorization']) {
        await refused(`[H1] ?${name}=`, () => send('GET', `/api/me?${name}=${ctx.access}`), [
          'token_missing',
        ]);
        await refused(`[H1] refresh ?${name}=`, () => send('POST', `/auth/refresh?${name}=${ctx.refresh}`), [
          'token_missing',
        ]);
      }
    });

    it('[H2] CSRF on unsafe cookie requests: missing, foreign, wrong-length, cookie-only → 403', async () => {
      const auth: [string, string] = ['cookie', `jwt_access=${cookie.access}; jwt_refresh=${cookie.refresh}`];
      const foreign = (await send('POST', '/auth/login', ...json({ ...DEMO, transport: 'cookie' }))).body
        .csrf;
      const variants: [string, [string, string][]][] = [
        ['missing', [auth]],
        ['foreign session', [auth, ['x-csrf-token', foreign]]],
        ['wrong length', [auth, ['x-csrf-token', cookie.csrf.slice(1)]]],
        ['empty', [auth, ['x-csrf-token', '']]],
        ['cookie-only', [['cookie', `${auth[1]}; csrf_token=${cookie.csrf}`]]],
        ['1 MB', [auth, ['x-csrf-token', 'A'.repeat(1_000_000)]]],
      ];
      for (const [name, headers] of variants) {
        for (const [method, path] of [
          ['POST', '/api/echo'],
          ['POST', '/auth/refresh'],
          ['POST', '/auth/logout'],
        ] as const) {
          const reply = await refused(`[H2] ${name} ${method} ${path}`, () => send(method, path, headers));
          expect(reply.status, `${name} ${path}`).toBe(403);
        }
      }
      // the genuine token passes (the store changes: not a refusal)
      expect((await send('POST', '/api/echo', [auth, ['x-csrf-token', cookie.csrf]])).status).toBe(200);
    });

    it('[H3] cross-site cookie requests are refused by the Origin / Sec-Fetch-Site check', async () => {
      const auth: [string, string] = ['cookie', `jwt_access=${cookie.access}`];
      for (const extra of [
        ['sec-fetch-site', 'cross-site'],
        ['origin', 'https://evil.example'],
        ['origin', 'null'],
      ] as [string, string][]) {
        const reply = await refused(`[H3] ${extra.join(': ')}`, () =>
          send('POST', '/api/echo', [auth, ['x-csrf-token', cookie.csrf], extra]),
        );
        expect(reply.status).toBe(403);
      }
      expect(
        (await send('POST', '/api/echo', [auth, ['x-csrf-token', cookie.csrf], ['origin', ALLOWED_ORIGIN]]))
          .status,
      ).toBe(200);
    });

    it('[H6] token responses and refusals are no-store; logout expires both cookies with their attributes', async () => {
      const login = await send('POST', '/auth/login', ...json({ ...DEMO, transport: 'cookie' }));
      expect(login.headers.get('cache-control')?.[0]).toMatch(/no-store/);
      const refusal = await send('GET', '/api/me', [['authorization', 'Bearer x.y.z']]);
      expect(refusal.headers.get('cache-control')?.[0]).toMatch(/no-store/);
      const set = login.headers.get('set-cookie')!;
      const value = (name: string) => {
        const line = set.find((c) => c.startsWith(`${name}=`))!;
        return line.slice(name.length + 1, line.indexOf(';'));
      };
      const logout = await send('POST', '/auth/logout', [
        ['cookie', `jwt_access=${value('jwt_access')}; jwt_refresh=${value('jwt_refresh')}`],
        ['x-csrf-token', login.body.csrf],
      ]);
      expect(logout.status).toBe(200);
      expect(logout.headers.get('cache-control')?.[0]).toMatch(/no-store/);
      const attributes = (line: string) =>
        line
          .split(';')
          .slice(1)
          .map((a) => a.trim().toLowerCase())
          .filter((a) => !a.startsWith('max-age') && !a.startsWith('expires'))
          .sort();
      for (const name of ['jwt_access', 'jwt_refresh']) {
        const cleared = logout.headers.get('set-cookie')!.find((c) => c.startsWith(`${name}=`))!;
        const original = set.find((c) => c.startsWith(`${name}=`))!;
        expect(cleared, name).toMatch(/max-age=0|expires=thu, 01 jan 1970/i);
        expect(attributes(cleared), name).toEqual(attributes(original));
      }
    });
  });
}

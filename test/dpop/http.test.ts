/**
 * DPoP over HTTP on every adapter (issue 16 parts 3 and 5): the shared test app of
 * test/adapters (harness.ts) with the `dpop` HTTP option, driven with real requests. A bound login,
 * resource calls with `Authorization: DPoP` + proof, and every way a stolen token is refused; the
 * refresh; nonces; `required` mode; the store unchanged after each refusal.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DpopHttpOptions } from '../../src/http/dpop.js';
import { createDpopProof } from '../../src/tokens/index.js';
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
import { NEXT_BUILD_TIMEOUT_MS } from '../adapters/next-server.js';

const PUBLIC_ORIGIN = 'https://app.example';
const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
const KEY_A = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const KEY_B = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field.
  body: Record<string, any>;
}

const ADAPTERS: Array<[string, StartApp]> = [
  ['express', startExpress],
  ['fastify', startFastify],
  ['hono', startHono],
  ['koa', startKoa],
  ['nestjs (express)', startNestExpress],
  ['nestjs (fastify)', startNestFastify],
  ['next', startNext],
];

function harness(dpop: DpopHttpOptions) {
  const state: { fixture?: Fixture; app?: RunningApp } = {};
  beforeAll(async () => {
    state.fixture = createFixture({ http: { dpop } });
    return undefined;
  });
  afterAll(async () => {
    await state.app?.close();
  });
  return state;
}

function client(state: { fixture?: Fixture; app?: RunningApp }, htuOrigin: () => string) {
  const call = async (
    method: string,
    path: string,
    init: { headers?: Record<string, string>; json?: unknown } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${state.app!.url}${path}`, {
      method,
      headers,
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? {} : JSON.parse(text),
    } as Reply;
  };
  const proof = (
    method: string,
    path: string,
    options: { key?: KeyObject; accessToken?: string; nonce?: string; htuPath?: string } = {},
  ) =>
    createDpopProof({
      privateKey: options.key ?? KEY_A,
      alg: 'ES256',
      method,
      url: `${htuOrigin()}${options.htuPath ?? path}`,
      iat: Math.floor(Date.now() / 1000),
      ...(options.accessToken !== undefined && { accessToken: options.accessToken }),
      ...(options.nonce !== undefined && { nonce: options.nonce }),
    });
  return { call, proof };
}

function expectRefused(
  reply: Reply,
  code: string,
  challenge: 'invalid_dpop_proof' | 'invalid_token' | 'use_dpop_nonce',
) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(401);
  expect(reply.body).toEqual({ error: expect.any(String), code });
  expect(reply.headers.get('www-authenticate')).toBe(
    `DPoP error="${challenge}", algs="ES256 EdDSA RS256 PS256"`,
  );
  expect(reply.headers.get('cache-control')).toBe('no-store');
}

for (const [name, start] of ADAPTERS) {
  describe(`${name}: DPoP optional, PUBLIC_ORIGIN configured`, () => {
    const state = harness({ mode: 'optional', origin: PUBLIC_ORIGIN });
    beforeAll(async () => {
      state.app = await start(state.fixture!);
    }, NEXT_BUILD_TIMEOUT_MS);
    const { call, proof } = client(state, () => PUBLIC_ORIGIN);

    async function boundLogin(transport: 'header' | 'cookie' = 'header') {
      const reply = await call('POST', '/auth/login', {
        json: { ...DEMO, transport },
        headers: { dpop: proof('POST', '/auth/login') },
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply;
    }

    const record = async (id: string) => state.fixture!.store.get(id, Date.now());

    it('a login with a proof is bound: token_type DPoP, DPoP authorization header, jkt listed', async () => {
      const login = await boundLogin();
      expect(login.body.token_type).toBe('DPoP');
      expect(login.headers.get('authorization')).toBe(`DPoP ${login.body.access_token}`);
      const at = login.body.access_token as string;
      const list = await call('GET', '/auth/sessions', {
        headers: { authorization: `DPoP ${at}`, dpop: proof('GET', '/auth/sessions', { accessToken: at }) },
      });
      expect(list.status, JSON.stringify(list.body)).toBe(200);
      const mine = list.body.sessions.find((s: { current: boolean }) => s.current);
      expect(mine.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const plain = await call('POST', '/auth/login', { json: DEMO });
      expect(plain.body.token_type).toBe('Bearer');
      expect(plain.headers.get('authorization')).toBe(`Bearer ${plain.body.access_token}`);
    });

    it('a resource call with Authorization: DPoP and a proof (ath) passes', async () => {
      const at = (await boundLogin()).body.access_token as string;
      const me = await call('GET', '/api/me?x=1', {
        headers: { authorization: `DPoP ${at}`, dpop: proof('GET', '/api/me', { accessToken: at }) },
      });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      expect(me.body.claims.cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('a stolen bound token is refused every way, and the session record is unchanged', async () => {
      const login = await boundLogin();
      const at = login.body.access_token as string;
      const before = await record(login.body.session_id);
      const ok = proof('GET', '/api/me', { accessToken: at });
      expectRefused(
        await call('GET', '/api/me', { headers: { authorization: `Bearer ${at}` } }),
        'dpop_bound_token',
        'invalid_token',
      );
      expectRefused(
        await call('GET', '/api/me', { headers: { authorization: `Bearer ${at}`, dpop: ok } }),
        'dpop_bound_token',
        'invalid_token',
      );
      expectRefused(
        await call('GET', '/api/me', { headers: { authorization: `DPoP ${at}` } }),
        'dpop_proof_missing',
        'invalid_dpop_proof',
      );
      expectRefused(
        await call('GET', '/api/me', {
          headers: {
            authorization: `DPoP ${at}`,
            dpop: proof('GET', '/api/me', { accessToken: at, key: KEY_B }),
          },
        }),
        'dpop_key_mismatch',
        'invalid_dpop_proof',
      );
      expectRefused(
        await call('GET', '/api/me', {
          headers: { authorization: `DPoP ${at}`, dpop: proof('POST', '/api/me', { accessToken: at }) },
        }),
        'dpop_proof_invalid',
        'invalid_dpop_proof',
      );
      expectRefused(
        await call('GET', '/api/me', {
          headers: {
            authorization: `DPoP ${at}`,
            dpop: proof('GET', '/api/me', { accessToken: at, htuPath: '/api/other' }),
          },
        }),
        'dpop_proof_invalid',
        'invalid_dpop_proof',
      );
      expect(await record(login.body.session_id)).toEqual(before);
      expect(
        (await call('GET', '/api/me', { headers: { authorization: `DPoP ${at}`, dpop: ok } })).status,
      ).toBe(200);
      expectRefused(
        await call('GET', '/api/me', { headers: { authorization: `DPoP ${at}`, dpop: ok } }),
        'dpop_replayed',
        'invalid_dpop_proof',
      );
    });

    it('refresh of a bound session needs a proof by the same key', async () => {
      const login = await boundLogin();
      const rt = login.body.refresh_token as string;
      const before = await record(login.body.session_id);
      expectRefused(
        await call('POST', '/auth/refresh', { headers: { 'x-refresh-token': rt } }),
        'dpop_proof_missing',
        'invalid_dpop_proof',
      );
      expectRefused(
        await call('POST', '/auth/refresh', {
          headers: { 'x-refresh-token': rt, dpop: proof('POST', '/auth/refresh', { key: KEY_B }) },
        }),
        'dpop_key_mismatch',
        'invalid_dpop_proof',
      );
      expect(await record(login.body.session_id)).toEqual(before);
      const next = await call('POST', '/auth/refresh', {
        headers: { 'x-refresh-token': rt, dpop: proof('POST', '/auth/refresh') },
      });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.token_type).toBe('DPoP');
      // refresh by access (the harness enables it): ath of the presented access token
      const at = next.body.access_token as string;
      expectRefused(
        await call('POST', '/auth/refresh', {
          headers: { authorization: `DPoP ${at}`, dpop: proof('POST', '/auth/refresh') },
        }),
        'dpop_proof_invalid',
        'invalid_dpop_proof',
      );
      const byAccess = await call('POST', '/auth/refresh', {
        headers: { authorization: `DPoP ${at}`, dpop: proof('POST', '/auth/refresh', { accessToken: at }) },
      });
      expect(byAccess.status, JSON.stringify(byAccess.body)).toBe(200);
      expect(byAccess.body.token_type).toBe('DPoP');
    });

    it('cookie transport: a proof without ath, same key', async () => {
      const login = await boundLogin('cookie');
      expect(login.body.token_type).toBe('DPoP');
      const cookie = (login.headers.getSetCookie() ?? []).map((c) => c.split(';', 1)[0]).join('; ');
      const me = await call('GET', '/api/me', { headers: { cookie, dpop: proof('GET', '/api/me') } });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      expect(me.body.transport).toBe('cookie');
      expectRefused(
        await call('GET', '/api/me', { headers: { cookie } }),
        'dpop_proof_missing',
        'invalid_dpop_proof',
      );
    });

    it('CORS: the DPoP request header is allowed, DPoP-Nonce and WWW-Authenticate exposed', async () => {
      const pre = await call('OPTIONS', '/auth/login', {
        headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
      });
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/\bDPoP\b/);
      const login = await call('POST', '/auth/login', { json: DEMO, headers: { origin: ALLOWED_ORIGIN } });
      expect(login.headers.get('access-control-expose-headers')).toMatch(/DPoP-Nonce/);
      expect(login.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
    });
  });

  describe(`${name}: DPoP required with nonces, htu from the Host header`, () => {
    const state = harness({ mode: 'required', nonce: true });
    beforeAll(async () => {
      state.app = await start(state.fixture!);
    }, NEXT_BUILD_TIMEOUT_MS);
    const { call, proof } = client(state, () => state.app!.url);

    it('a login without a proof is refused (dpop_proof_missing); nothing is stored', async () => {
      const reply = await call('POST', '/auth/login', { json: DEMO });
      expectRefused(reply, 'dpop_proof_missing', 'invalid_dpop_proof');
      expect(await state.fixture!.sessions.listSessions('user-demo')).toHaveLength(0);
    });

    it('nonce flow: use_dpop_nonce with a fresh DPoP-Nonce, then the retry passes and gets the next nonce', async () => {
      const first = await call('POST', '/auth/login', {
        json: DEMO,
        headers: { dpop: proof('POST', '/auth/login') },
      });
      expectRefused(first, 'dpop_nonce_required', 'use_dpop_nonce');
      const nonce = first.headers.get('dpop-nonce');
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const login = await call('POST', '/auth/login', {
        json: DEMO,
        headers: { dpop: proof('POST', '/auth/login', { nonce: nonce! }) },
      });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      expect(login.body.token_type).toBe('DPoP');
      expect(login.headers.get('dpop-nonce')).toBe(nonce);
      const at = login.body.access_token as string;
      const me = await call('GET', '/api/me', {
        headers: {
          authorization: `DPoP ${at}`,
          dpop: proof('GET', '/api/me', { accessToken: at, nonce: nonce! }),
        },
      });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      expect(me.headers.get('dpop-nonce')).toBe(nonce);
      expectRefused(
        await call('GET', '/api/me', {
          headers: {
            authorization: `DPoP ${at}`,
            dpop: proof('GET', '/api/me', { accessToken: at, nonce: 'stale' }),
          },
        }),
        'dpop_nonce_required',
        'use_dpop_nonce',
      );
    });
  });
}

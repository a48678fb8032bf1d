/**
 * DPoP binding in the session engine (issue 16 part 3, SPEC §9), rule by rule, on a memory store
 * with a test clock: what binds, what a bound session then needs, and that every refusal leaves
 * the stored session as it was.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DpopError, JwtSessionsError } from '../../src/errors.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { DpopRequest } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { createDpopProof, type DpopAlgorithm } from '../../src/tokens/index.js';

const ORIGIN = 'https://app.example';
const KEY_A = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const KEY_B = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const KEY_ED = generateKeyPairSync('ed25519').privateKey;

function setup(options: { rotateRefresh?: boolean } = {}) {
  let now = 1_750_000_000_000;
  const store = new MemoryStore();
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
    store,
    accessTtl: 600,
    refreshTtl: 3600,
    clock: () => now,
    ...options,
  });
  return {
    sessions,
    store,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
    nowSec: () => Math.floor(now / 1000),
  };
}

type Setup = ReturnType<typeof setup>;

/** A proof of `method path` by `key`, at the engine's clock, as the HTTP layer would hand it on. */
function proofFor(
  env: Setup,
  method: string,
  path: string,
  options: {
    key?: KeyObject;
    alg?: DpopAlgorithm;
    accessToken?: string;
    via?: DpopRequest['via'];
    jti?: string;
    proofMethod?: string;
  } = {},
): DpopRequest {
  const url = `${ORIGIN}${path}`;
  const proof = createDpopProof({
    privateKey: options.key ?? KEY_A,
    alg: options.alg ?? 'ES256',
    method: options.proofMethod ?? method,
    url,
    iat: env.nowSec(),
    ...(options.accessToken !== undefined && { accessToken: options.accessToken }),
    ...(options.jti !== undefined && { jti: options.jti }),
  });
  return { proof, method, url, ...(options.via !== undefined && { via: options.via }) };
}

const noProof = (method: string, path: string): DpopRequest => ({
  proof: undefined,
  method,
  url: `${ORIGIN}${path}`,
});

async function expectDpop(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(JwtSessionsError);
  expect((error as JwtSessionsError).code).toBe(code);
  expect((error as JwtSessionsError).status).toBe(401);
}

async function snapshot(sessions: Sessions, store: MemoryStore, id: string) {
  const record = await store.get(id, 0);
  return { record, info: await sessions.getSession(id) };
}

async function boundLogin(env: Setup, key: KeyObject = KEY_A, alg: DpopAlgorithm = 'ES256') {
  return env.sessions.login({
    namespace: 'u1',
    refreshByAccess: true,
    dpop: proofFor(env, 'POST', '/auth/login', { key, alg }),
  });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('login', () => {
  it('a login with a proof binds the session: jkt stored, cnf.jkt in access tokens, listed', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    expect(pair.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claimsOf(pair.access).cnf).toEqual({ jkt: pair.jkt });
    expect(claimsOf(pair.refresh).cnf).toBeUndefined();
    expect((await env.sessions.getSession(pair.sessionId))?.jkt).toBe(pair.jkt);
    expect((await env.sessions.listSessions('u1'))[0]?.jkt).toBe(pair.jkt);
  });

  it('an EdDSA proof binds too, to its own thumbprint', async () => {
    const env = setup();
    const a = await boundLogin(env);
    const ed = await boundLogin(env, KEY_ED, 'EdDSA');
    expect(ed.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ed.jkt).not.toBe(a.jkt);
  });

  it('a login without a proof (or with no dpop at all) stays unbound', async () => {
    const env = setup();
    const plain = await env.sessions.login({ namespace: 'u1' });
    const absent = await env.sessions.login({ namespace: 'u1', dpop: noProof('POST', '/auth/login') });
    for (const pair of [plain, absent]) {
      expect(pair.jkt).toBeUndefined();
      expect(claimsOf(pair.access).cnf).toBeUndefined();
      expect((await env.sessions.getSession(pair.sessionId))?.jkt).toBeNull();
    }
  });

  it('a refused login proof (wrong htm, ath present, replayed) stores nothing', async () => {
    const env = setup();
    await expectDpop(
      env.sessions.login({
        namespace: 'u1',
        dpop: proofFor(env, 'POST', '/auth/login', { proofMethod: 'GET' }),
      }),
      'dpop_proof_invalid',
    );
    await expectDpop(
      env.sessions.login({
        namespace: 'u1',
        dpop: proofFor(env, 'POST', '/auth/login', { accessToken: 'x.y.z' }),
      }),
      'dpop_proof_invalid',
    );
    const once = proofFor(env, 'POST', '/auth/login');
    await env.sessions.login({ namespace: 'u1', dpop: once });
    await expectDpop(env.sessions.login({ namespace: 'u1', dpop: once }), 'dpop_replayed');
    expect(await env.sessions.listSessions('u1')).toHaveLength(1);
  });

  it('a payload cannot set cnf itself', async () => {
    const env = setup();
    await expect(env.sessions.login({ payload: { cnf: { jkt: 'mine' } } })).rejects.toMatchObject({
      code: 'payload_invalid',
    });
  });
});

describe('verifyAccess of a bound token', () => {
  it('accepts a proof by the key with ath; each proof once', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    const dpop = proofFor(env, 'GET', '/api/me', { accessToken: pair.access, via: 'dpop' });
    const verified = await env.sessions.verifyAccess(pair.access, { dpop });
    expect(verified.claims.cnf).toEqual({ jkt: pair.jkt });
    await expectDpop(env.sessions.verifyAccess(pair.access, { dpop }), 'dpop_replayed');
  });

  it('refuses: no proof, no dpop at all, Bearer scheme, another key, no or wrong ath, wrong htm/htu', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    const before = await snapshot(env.sessions, env.store, pair.sessionId);
    const at = pair.access;
    await expectDpop(env.sessions.verifyAccess(at), 'dpop_proof_missing');
    await expectDpop(
      env.sessions.verifyAccess(at, { dpop: noProof('GET', '/api/me') }),
      'dpop_proof_missing',
    );
    await expectDpop(
      env.sessions.verifyAccess(at, {
        dpop: proofFor(env, 'GET', '/api/me', { accessToken: at, via: 'bearer' }),
      }),
      'dpop_bound_token',
    );
    await expectDpop(
      env.sessions.verifyAccess(at, {
        dpop: proofFor(env, 'GET', '/api/me', { accessToken: at, key: KEY_B }),
      }),
      'dpop_key_mismatch',
    );
    await expectDpop(
      env.sessions.verifyAccess(at, { dpop: proofFor(env, 'GET', '/api/me') }),
      'dpop_proof_invalid',
    );
    await expectDpop(
      env.sessions.verifyAccess(at, {
        dpop: proofFor(env, 'GET', '/api/me', { accessToken: 'other.token.x' }),
      }),
      'dpop_proof_invalid',
    );
    await expectDpop(
      env.sessions.verifyAccess(at, {
        dpop: proofFor(env, 'GET', '/api/me', { accessToken: at, proofMethod: 'POST' }),
      }),
      'dpop_proof_invalid',
    );
    const elsewhere = proofFor(env, 'GET', '/api/other', { accessToken: at });
    await expectDpop(
      env.sessions.verifyAccess(at, { dpop: { ...elsewhere, url: `${ORIGIN}/api/me` } }),
      'dpop_proof_invalid',
    );
    expect(await snapshot(env.sessions, env.store, pair.sessionId)).toEqual(before);
  });

  it('stateless mode checks the proof too (the binding is in the token)', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    await expectDpop(env.sessions.verifyAccess(pair.access, { mode: 'stateless' }), 'dpop_proof_missing');
    const dpop = proofFor(env, 'GET', '/api/me', { accessToken: pair.access });
    expect((await env.sessions.verifyAccess(pair.access, { mode: 'stateless', dpop })).sessionId).toBe(
      pair.sessionId,
    );
  });

  it('cookie transport: the proof carries no ath; one with ath is refused', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    const ok = proofFor(env, 'GET', '/api/me', { via: 'cookie' });
    expect((await env.sessions.verifyAccess(pair.access, { dpop: ok })).sessionId).toBe(pair.sessionId);
    await expectDpop(
      env.sessions.verifyAccess(pair.access, {
        dpop: proofFor(env, 'GET', '/api/me', { via: 'cookie', accessToken: pair.access }),
      }),
      'dpop_proof_invalid',
    );
  });

  it('an unbound token ignores DPoP input and never becomes bound', async () => {
    const env = setup();
    const pair = await env.sessions.login({ namespace: 'u1' });
    const dpop = proofFor(env, 'GET', '/api/me', { accessToken: pair.access, via: 'bearer' });
    expect((await env.sessions.verifyAccess(pair.access, { dpop })).claims.cnf).toBeUndefined();
    const next = await env.sessions.refresh(pair.refresh, { dpop: proofFor(env, 'POST', '/auth/refresh') });
    expect(next.jkt).toBeUndefined();
    expect(claimsOf(next.access).cnf).toBeUndefined();
    expect((await env.sessions.getSession(pair.sessionId))?.jkt).toBeNull();
  });
});

describe('refresh of a bound session', () => {
  it('needs a proof by the same key (no ath); the new tokens stay bound', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    const next = await env.sessions.refresh(pair.refresh, { dpop: proofFor(env, 'POST', '/auth/refresh') });
    expect(next.jkt).toBe(pair.jkt);
    expect(claimsOf(next.access).cnf).toEqual({ jkt: pair.jkt });
  });

  it('refuses a stolen refresh token without the key: no proof, other key, replay; store unchanged', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    const before = await snapshot(env.sessions, env.store, pair.sessionId);
    await expectDpop(env.sessions.refresh(pair.refresh), 'dpop_proof_missing');
    await expectDpop(
      env.sessions.refresh(pair.refresh, { dpop: proofFor(env, 'POST', '/auth/refresh', { key: KEY_B }) }),
      'dpop_key_mismatch',
    );
    const used = proofFor(env, 'POST', '/auth/refresh');
    await env.sessions.refresh(pair.refresh, { dpop: used });
    const after = await snapshot(env.sessions, env.store, pair.sessionId);
    expect(after.record?.version).toBe((before.record?.version ?? 0) + 1);
    await expectDpop(env.sessions.refresh(pair.refresh, { dpop: used }), 'dpop_replayed');
    expect(await snapshot(env.sessions, env.store, pair.sessionId)).toEqual(after);
  });

  it('a rotated-out refresh token without the key does not even trigger reuse revocation', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    await env.sessions.refresh(pair.refresh, { dpop: proofFor(env, 'POST', '/auth/refresh') });
    env.advance(60); // past the reuse grace window
    await expectDpop(env.sessions.refresh(pair.refresh), 'dpop_proof_missing');
    expect(await env.sessions.getSession(pair.sessionId)).not.toBeNull();
  });

  it('refresh by access needs ath of the presented token, by the same key', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    await expectDpop(env.sessions.refreshByAccess(pair.access), 'dpop_proof_missing');
    await expectDpop(
      env.sessions.refreshByAccess(pair.access, { dpop: proofFor(env, 'POST', '/auth/refresh') }),
      'dpop_proof_invalid',
    );
    await expectDpop(
      env.sessions.refreshByAccess(pair.access, {
        dpop: proofFor(env, 'POST', '/auth/refresh', { accessToken: pair.access, key: KEY_B }),
      }),
      'dpop_key_mismatch',
    );
    const next = await env.sessions.refreshByAccess(pair.access, {
      dpop: proofFor(env, 'POST', '/auth/refresh', { accessToken: pair.access }),
    });
    expect(next.jkt).toBe(pair.jkt);
  });
});

describe('binding persists in the store record', () => {
  it('a second engine on the same store sees the binding', async () => {
    const env = setup();
    const pair = await boundLogin(env);
    const other = createSessions({
      keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
      store: env.store,
      clock: () => env.nowSec() * 1000,
    });
    await expect(other.refresh(pair.refresh)).rejects.toBeInstanceOf(DpopError);
    expect((await other.getSession(pair.sessionId))?.jkt).toBe(pair.jkt);
  });
});

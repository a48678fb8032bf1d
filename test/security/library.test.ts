/**
 * The bad-input corpus (corpus.ts) against the library itself: every verifying entry point of the
 * engine refuses every case with a typed error, in bounded time, and the store is byte-for-byte
 * what it was. Plus the engine-level token rules: prototype keys, malleable signatures, random ids.
 */
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../../src/errors.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { TokenPair } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { refreshSecretOf } from '../support/refresh-key.js';
import { craft } from '../tokens/helpers.js';
import {
  accessConfusion,
  buildTokenCorpus,
  type CorpusContext,
  malleate,
  refreshConfusion,
  type TokenCase,
} from './corpus.js';
import {
  BOUND_MS,
  engineKey,
  expectTyped,
  rejection,
  snapshot,
  watchUnhandledRejections,
} from './support.js';

const ACCESS_TTL = 300;
const REFRESH_TTL = 3600;
const key = engineKey();
/** Refusals only a store lookup can make. */
const STATE_CODES = new Set(['session_not_found', 'access_revoked']);

function engine(store = new MemoryStore(), reuseGrace = 10): Sessions {
  return createSessions({
    keys: { signing: { alg: 'ES256', key: key.privateKey, kid: key.kid } },
    store,
    accessTtl: ACCESS_TTL,
    refreshTtl: REFRESH_TTL,
    reuseGrace,
  });
}

describe('bad-input corpus against the engine', () => {
  const store = new MemoryStore();
  const sessions = engine(store);
  let pair: TokenPair;
  let corpus: TokenCase[];
  let refreshCorpus: TokenCase[];
  let accessCorpus: TokenCase[];
  const rejections = watchUnhandledRejections();
  const state = () => snapshot(store, ['victim', 'bystander'], () => store.size);

  beforeAll(async () => {
    pair = await sessions.login({ namespace: 'victim', payload: { role: 'user' } });
    await sessions.login({ namespace: 'bystander' });
    const ctx: CorpusContext = {
      key,
      access: pair.access,
      refresh: pair.refresh,
      sessionId: pair.sessionId,
      now: Math.floor(Date.now() / 1000),
      accessTtl: ACCESS_TTL,
      refreshTtl: REFRESH_TTL,
    };
    corpus = buildTokenCorpus(ctx);
    accessCorpus = [...corpus, ...accessConfusion(ctx)];
    refreshCorpus = refreshConfusion(ctx);
  });
  afterAll(() => {
    expect(rejections.stop()).toEqual([]);
  });

  it('the corpus covers every token rule it claims, and the genuine tokens still work', async () => {
    expect(new Set(corpus.map((c) => c.rule))).toEqual(
      new Set(['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T9', 'T10']),
    );
    expect(corpus.length).toBeGreaterThan(90);
    // The cases are refused for what they are, not because the session was broken.
    await expect(sessions.verifyAccess(pair.access)).resolves.toMatchObject({ sessionId: pair.sessionId });
    await expect(sessions.verifyRefresh(pair.refresh)).resolves.toMatchObject({ sessionId: pair.sessionId });
  });

  it('[T1][T2][T3][T4][T5][T6][T7][T9][T10] verifyAccess: each case gets its typed error, the store is untouched', async () => {
    const before = await state();
    for (const c of accessCorpus) {
      const label = `[${c.rule}] ${c.name}`;
      const { error, ms } = await rejection(() => sessions.verifyAccess(c.token), label);
      expectTyped(error, c.codes, label);
      expect(ms, label).toBeLessThan(BOUND_MS);
      // Stateless verification refuses them too, except the genuinely signed tokens whose only flaw
      // is the session state (stateless mode does not look at it, by definition).
      if (c.codes.some((code) => STATE_CODES.has(code))) continue;
      const stateless = await rejection(
        () => sessions.verifyAccess(c.token, { mode: 'stateless' }),
        `${label} (stateless)`,
      );
      expectTyped(stateless.error, undefined, `${label} (stateless)`);
    }
    expect(await state()).toBe(before);
  });

  it('[T2][T5][T6][T7][T9] refresh, verifyRefresh and refreshByAccess refuse every case without a store change', async () => {
    const before = await state();
    for (const c of [...corpus, ...refreshCorpus]) {
      const label = `[${c.rule}] ${c.name}`;
      for (const [name, call] of [
        ['refresh', () => sessions.refresh(c.token)],
        ['verifyRefresh', () => sessions.verifyRefresh(c.token)],
        ['refreshByAccess', () => sessions.refreshByAccess(c.token)],
      ] as const) {
        const { error, ms } = await rejection(call, `${label} via ${name}`);
        expectTyped(error, undefined, `${label} via ${name}`);
        expect(ms, label).toBeLessThan(BOUND_MS);
      }
    }
    for (const c of refreshCorpus) {
      expectTyped((await rejection(() => sessions.refresh(c.token))).error, c.codes, `[${c.rule}] ${c.name}`);
    }
    expect(await state()).toBe(before);
    await expect(sessions.verifyRefresh(pair.refresh)).resolves.toMatchObject({ sessionId: pair.sessionId });
  });

  it('[T2][T5][T6][T7] revokeByAccess / revokeByRefresh: a forged or malformed token revokes nothing', async () => {
    const before = await state();
    // T9 cases carry the engine's own signature over the real session id: a revoke by such a
    // (genuine, if expired) token is the documented behaviour, so only forgeries are fed here.
    for (const c of corpus.filter((x) => x.rule !== 'T9')) {
      for (const call of [() => sessions.revokeByAccess(c.token), () => sessions.revokeByRefresh(c.token)]) {
        const outcome = await call().then(
          (count) => ({ count }),
          (error: unknown) => ({ error }),
        );
        if ('error' in outcome) expectTyped(outcome.error, undefined, `[${c.rule}] ${c.name}`);
        else expect(outcome.count, `[${c.rule}] ${c.name}`).toBe(0);
      }
    }
    expect(await state()).toBe(before);
  });

  it('[T3] non-string tokens are typed errors, never TypeErrors', async () => {
    for (const value of [undefined, null, 42, {}, [], Buffer.from('a.b.c'), Symbol('x')]) {
      for (const call of [
        () => sessions.verifyAccess(value as never),
        () => sessions.refresh(value as never),
        () => sessions.revokeByRefresh(value as never),
      ]) {
        expectTyped((await rejection(call)).error, undefined, String(typeof value));
      }
    }
  });
});

describe('[T10] prototype keys pollute nothing', () => {
  it('[T10] login refuses __proto__ / constructor / prototype in payloads; Object.prototype stays clean', async () => {
    const store = new MemoryStore();
    const sessions = engine(store);
    const bodies = [
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"prototype":{"admin":true}}',
    ];
    for (const body of bodies) {
      for (const field of ['payload', 'refreshPayload'] as const) {
        const { error } = await rejection(() => sessions.login({ [field]: JSON.parse(body) }), body);
        expect(error, body).toBeInstanceOf(InvalidPayloadError);
      }
    }
    expect(store.size).toBe(0);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('admin');
  });

  it('[T10] a nested __proto__ survives as data only, and a token carrying one verifies without pollution', async () => {
    const store = new MemoryStore();
    const sessions = engine(store);
    const pair = await sessions.login({ payload: JSON.parse('{"nested":{"__proto__":{"admin":true}}}') });
    const verified = await sessions.verifyAccess(pair.access);
    const nested = verified.claims.nested as Record<string, unknown>;
    expect(Object.hasOwn(nested, '__proto__')).toBe(true);
    expect(nested.admin).toBeUndefined();
    expect(Object.getPrototypeOf(verified.claims)).toBe(Object.prototype);
    expect((verified.claims as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    // A token signed with the real key whose top level carries the keys: no pollution either.
    const now = Math.floor(Date.now() / 1000);
    const forged = craft({
      header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid },
      payload: `{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},"sid":"${pair.sessionId}","jti":"x","iat":${now},"exp":${now + 60}}`,
      alg: 'ES256',
      key: key.privateKey,
    });
    const outcome = await sessions.verifyAccess(forged).then(
      (v) => ({ claims: v.claims as Record<string, unknown> }),
      (error: unknown) => ({ error }),
    );
    if ('error' in outcome)
      expectTyped(outcome.error, ['access_revoked', 'token_malformed', 'claim_invalid']);
    else expect(outcome.claims.admin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('admin');
  });
});

describe('[T11] revocation and reuse are keyed on sid/jti, not on the token bytes', () => {
  it('[T11] another token of a rotated-out refresh generation (same sid/jti, other bytes) is detected as reuse', async () => {
    const store = new MemoryStore();
    const sessions = engine(store, 0);
    const pair = await sessions.login({ namespace: 'm' });
    // Refresh tokens are HMAC (no malleable signature): the twin is the same generation re-signed
    // with the refresh key and one more claim, a different string naming the same sid/jti.
    const [h, p] = pair.refresh.split('.');
    const twin = craft({
      header: JSON.parse(Buffer.from(h!, 'base64url').toString()),
      payload: { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), extra: 1 },
      alg: 'HS256',
      key: refreshSecretOf(key.privateKey),
    });
    expect(twin).not.toBe(pair.refresh);
    const first = await sessions.refresh(pair.refresh);
    // Presenting it after rotation is reuse of the same generation: the session is revoked.
    const { error } = await rejection(() => sessions.refresh(twin));
    expectTyped(error, ['refresh_reused']);
    await expect(sessions.verifyAccess(first.access)).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await store.listNamespace('m', Date.now())).toEqual([]);
  });

  it('[T11] after a revoke, the twin of the access token is refused like the original', async () => {
    const sessions = engine();
    const pair = await sessions.login();
    const [h, p, s] = pair.access.split('.');
    const twin = `${h}.${p}.${malleate(s!)}`;
    await sessions.revokeSession(pair.sessionId);
    for (const token of [pair.access, twin]) {
      expectTyped((await rejection(() => sessions.verifyAccess(token))).error, [
        'session_not_found',
        'signature_invalid',
      ]);
    }
  });
});

describe('[T12] random ids', () => {
  it('[T12] sid, jti, refresh generation and CSRF secret carry at least 128 random bits, never repeated', async () => {
    const sessions = engine();
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const pair = await sessions.login();
      const access = JSON.parse(Buffer.from(pair.access.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        string
      >;
      const refresh = JSON.parse(Buffer.from(pair.refresh.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        string
      >;
      for (const id of [access.sid!, access.jti!, refresh.jti!]) {
        expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      // masked CSRF token: 32-byte pad ‖ 32-byte masked secret
      expect(Buffer.from(pair.csrf, 'base64url').length).toBe(64);
    }
    expect(seen.size).toBe(1500);
  });
});

describe('[R1][R4] strict verification cannot be talked out of its checks', () => {
  it('[R1][R4] an unknown verify mode or a non-object options argument is a typed error, never a lax check', async () => {
    const store = new MemoryStore();
    const sessions = engine(store);
    const first = await sessions.login();
    const second = await sessions.refresh(first.refresh);
    // first.access is superseded: only stateless mode (explicitly) may accept it
    for (const options of [
      { mode: 'Strict' },
      { mode: 'lax' },
      { mode: '' },
      { mode: null },
      null,
      'strict',
      42,
    ]) {
      const { error } = await rejection(
        () => sessions.verifyAccess(first.access, options as never),
        `options ${JSON.stringify(options)}`,
      );
      expectTyped(error, ['payload_invalid', 'access_revoked'], JSON.stringify(options));
    }
    await expect(sessions.verifyAccess(first.access)).rejects.toMatchObject({ code: 'access_revoked' });
    await expect(sessions.verifyAccess(first.access, { mode: 'stateless' })).resolves.toBeTruthy();
    await expect(sessions.verifyAccess(second.access, { mode: 'strict' })).resolves.toBeTruthy();
  });
});

describe('[F3] a store record the engine cannot read fails closed with a typed error', () => {
  it('[F3] corrupted session data: verify, refresh, CSRF are typed refusals; listing still works', async () => {
    const store = new MemoryStore();
    const sessions = engine(store);
    const now = Math.floor(Date.now() / 1000);
    for (const data of ['not json', 'null', '[]', '{"g":1}', '{}', '"text"']) {
      const id = `corrupt-${Buffer.from(data).toString('hex')}`;
      await store.create({
        id,
        namespace: 'corrupt',
        version: 1,
        createdAt: Date.now(),
        lastUsedAt: Date.now(),
        expiresAt: Date.now() + 60_000,
        accessRevoked: false,
        data,
      });
      const sign = (typ: string) =>
        typ === 'at+jwt'
          ? craft({
              header: { alg: 'ES256', typ, kid: key.kid },
              payload: { sid: id, jti: 'j', iat: now, exp: now + 60 },
              alg: 'ES256',
              key: key.privateKey,
            })
          : craft({
              header: { alg: 'HS256', typ, kid: sessions.codec.keys.refreshKid },
              payload: { sid: id, jti: 'j', iat: now, exp: now + 60 },
              alg: 'HS256',
              key: refreshSecretOf(key.privateKey),
            });
      for (const [name, call] of [
        ['verifyAccess', () => sessions.verifyAccess(sign('at+jwt'))],
        ['refresh', () => sessions.refresh(sign('rt+jwt'))],
        ['verifyRefresh', () => sessions.verifyRefresh(sign('rt+jwt'))],
        ['csrfToken', () => sessions.csrfToken(id)],
        ['verifyCsrf', () => sessions.verifyCsrf(id, 'x')],
      ] as const) {
        expectTyped(
          (await rejection(call, `${name} ${data}`)).error,
          ['session_not_found', 'csrf_invalid'],
          `${name} ${data}`,
        );
      }
    }
    const listed = await sessions.listSessions('corrupt');
    expect(listed).toHaveLength(6);
    expect(listed.every((info) => info.ip === null)).toBe(true);
  });
});

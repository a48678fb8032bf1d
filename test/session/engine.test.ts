/**
 * Engine scenarios: the behaviours of the jwt_sessions and Rodauth jwt/jwt_refresh test suites,
 * plus what this library adds (rotation, reuse detection, grace window, deadlines, sliding).
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ForbiddenError,
  InvalidPayloadError,
  SessionError,
  StoreUnavailableError,
  TokenExpiredError,
  TokenFormatError,
} from '../../src/errors.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { SessionEvent, SessionsOptions } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { Store } from '../../src/stores/store.js';

const SECRET = 'engine-test-secret-0123456789abcdef0123';
const OLD_SECRET = 'engine-test-old-secret-0123456789abcdef';

function setup(options: Partial<SessionsOptions> = {}) {
  const clock = { now: 1_750_000_000_000 };
  const events: SessionEvent[] = [];
  const store = options.store ?? new MemoryStore();
  const sessions = createSessions<{ user_id: number; role?: string }, { user_id: number }>({
    keys: { signing: { alg: 'HS256', key: SECRET, kid: 'current' } },
    store,
    clock: () => clock.now,
    onEvent: (event) => events.push(event),
    ...options,
  });
  const advance = (seconds: number) => {
    clock.now += seconds * 1000;
  };
  return { sessions, store, clock, events, advance };
}

function decode(sessions: Sessions, token: string) {
  return sessions.codec.decodeUnverified(token);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('login', () => {
  it('returns access, refresh and csrf tokens with typed headers and library claims', async () => {
    const { sessions, clock } = setup();
    const pair = await sessions.login({
      payload: { user_id: 7 },
      refreshPayload: { user_id: 7 },
      namespace: 'user:7',
    });
    const access = decode(sessions, pair.access);
    const refresh = decode(sessions, pair.refresh);
    expect(access.header).toMatchObject({ alg: 'HS256', typ: 'at+jwt', kid: 'current' });
    // Refresh tokens: HS256 under the derived refresh key, never the access key (SPEC §1).
    expect(refresh.header).toEqual({ alg: 'HS256', typ: 'rt+jwt', kid: sessions.codec.keys.refreshKid });
    expect(sessions.codec.keys.refreshKid).not.toBe('current');
    const iat = Math.floor(clock.now / 1000);
    expect(access.payload).toMatchObject({ user_id: 7, sid: pair.sessionId, iat, exp: iat + 3600 });
    expect(refresh.payload).toMatchObject({
      user_id: 7,
      sid: pair.sessionId,
      ns: 'user:7',
      iat,
      exp: iat + 604800,
    });
    expect(access.payload.jti).not.toBe(refresh.payload.jti);
    expect(pair.accessExpiresAt.getTime()).toBe((iat + 3600) * 1000);
    expect(pair.refreshExpiresAt.getTime()).toBe((iat + 604800) * 1000);
    expect(pair.csrf).toMatch(/^[A-Za-z0-9_-]{86}$/);
    // ids are 128-bit random base64url
    expect(pair.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('refuses reserved claim names in payloads, never overwriting them', async () => {
    const { sessions } = setup();
    for (const claim of ['exp', 'iat', 'jti', 'sid', 'iss', 'aud', 'nbf', 'ns']) {
      await expect(sessions.login({ payload: { user_id: 1, [claim]: 'x' } as never })).rejects.toBeInstanceOf(
        InvalidPayloadError,
      );
      await expect(
        sessions.login({ refreshPayload: { user_id: 1, [claim]: 'x' } as never }),
      ).rejects.toBeInstanceOf(InvalidPayloadError);
    }
  });

  it('refuses non-object payloads, prototype keys, bad namespaces, bad lifetimes, storing nothing', async () => {
    const { sessions, store } = setup();
    const bad: unknown[] = [
      { payload: [1, 2] },
      { payload: 'str' },
      { payload: new Date() },
      { payload: JSON.parse('{"__proto__": {"admin": true}}') },
      { payload: { user_id: 1, big: 10n } },
      { namespace: '' },
      { namespace: 'x'.repeat(300) },
      { namespace: 42 },
      { accessTtl: 0 },
      { accessTtl: 1.5 },
      { accessTtl: 3601 },
      { refreshTtl: 604801 },
      { refreshByAccess: 'yes' },
      { device: { ip: 5 } },
      'not-an-object',
    ];
    for (const options of bad) {
      await expect(sessions.login(options as never)).rejects.toBeInstanceOf(InvalidPayloadError);
    }
    expect((store as MemoryStore).size).toBe(0);
  });

  it('refuses a payload too large for the token size cap, storing nothing', async () => {
    const { sessions, store } = setup();
    await expect(sessions.login({ payload: { user_id: 1, role: 'x'.repeat(9000) } })).rejects.toMatchObject({
      code: 'payload_invalid',
    });
    expect((store as MemoryStore).size).toBe(0);
  });

  it('per-session lifetimes shorten the configured ones', async () => {
    const { sessions } = setup();
    const pair = await sessions.login({ accessTtl: 60, refreshTtl: 600 });
    const access = decode(sessions, pair.access).payload;
    const refresh = decode(sessions, pair.refresh).payload;
    expect((access.exp as number) - (access.iat as number)).toBe(60);
    expect((refresh.exp as number) - (refresh.iat as number)).toBe(600);
  });
});

describe('refresh with rotation (default)', () => {
  it('keeps the payload, rotates the refresh token, renews csrf, ends the old access token at once', async () => {
    const { sessions, advance } = setup();
    const pair = await sessions.login({ payload: { user_id: 3, role: 'admin' } });
    advance(5);
    const next = await sessions.refresh(pair.refresh);
    expect(decode(sessions, next.access).payload).toMatchObject({
      user_id: 3,
      role: 'admin',
      sid: pair.sessionId,
    });
    expect(decode(sessions, next.refresh).payload.jti).not.toBe(decode(sessions, pair.refresh).payload.jti);
    expect(next.csrf).not.toBe(pair.csrf);
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('access_revoked');
    await expect(sessions.verifyAccess(next.access)).resolves.toMatchObject({ sessionId: pair.sessionId });
    // the old csrf secret is gone: the previous masked token no longer matches
    expect(await codeOf(sessions.verifyAccess(next.access, { csrf: pair.csrf }))).toBe('csrf_invalid');
  });

  it('accepts a new access payload on refresh', async () => {
    const { sessions } = setup();
    const pair = await sessions.login({ payload: { user_id: 3 } });
    const next = await sessions.refresh(pair.refresh, { payload: { user_id: 3, role: 'staff' } });
    expect(decode(sessions, next.access).payload).toMatchObject({ role: 'staff' });
    await expect(sessions.refresh(next.refresh, { payload: { exp: 1 } as never })).rejects.toBeInstanceOf(
      InvalidPayloadError,
    );
  });

  it('grace window: the immediate predecessor replayed in time gets the current generation again', async () => {
    const { sessions, advance } = setup({ reuseGrace: 10 });
    const pair = await sessions.login({ namespace: 'g' });
    const first = await sessions.refresh(pair.refresh);
    advance(9);
    const replay = await sessions.refresh(pair.refresh);
    expect(replay.refresh).toBe(first.refresh); // HS256 is deterministic: the very same token
    expect(replay.access).toBe(first.access);
    await expect(sessions.verifyAccess(first.access)).resolves.toBeTruthy();
  });

  it('reuse after the grace window revokes the whole session (RFC 9700 family revocation)', async () => {
    const { sessions, advance, events } = setup({ reuseGrace: 10 });
    const pair = await sessions.login({ namespace: 'r' });
    const next = await sessions.refresh(pair.refresh);
    advance(11);
    expect(await codeOf(sessions.refresh(pair.refresh))).toBe('refresh_reused');
    expect(await codeOf(sessions.verifyAccess(next.access))).toBe('session_not_found');
    expect(await codeOf(sessions.refresh(next.refresh))).toBe('session_not_found');
    expect(events.some((e) => e.type === 'reuse_detected')).toBe(true);
  });

  it('an older generation than the predecessor is reuse even inside the window', async () => {
    const { sessions } = setup({ reuseGrace: 10 });
    const g1 = await sessions.login();
    const g2 = await sessions.refresh(g1.refresh);
    await sessions.refresh(g2.refresh);
    expect(await codeOf(sessions.refresh(g1.refresh))).toBe('refresh_reused');
  });

  it('reuse after logout is refused', async () => {
    const { sessions } = setup();
    const pair = await sessions.login();
    expect(await sessions.revokeByRefresh(pair.refresh)).toBe(1);
    expect(await codeOf(sessions.refresh(pair.refresh))).toBe('session_not_found');
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('session_not_found');
  });

  it('an expired refresh token is refused without revoking the session', async () => {
    const { sessions, advance } = setup({ refreshTtl: 100, accessTtl: 50 });
    const pair = await sessions.login({ namespace: 'e' });
    advance(100);
    await expect(sessions.refresh(pair.refresh)).rejects.toBeInstanceOf(TokenExpiredError);
  });

  it('an access token is never accepted as a refresh token, nor the reverse', async () => {
    const { sessions } = setup();
    const pair = await sessions.login();
    expect(await codeOf(sessions.refresh(pair.access))).toBe('token_type_mismatch');
    expect(await codeOf(sessions.verifyAccess(pair.refresh))).toBe('token_type_mismatch');
  });
});

describe('refresh without rotation (jwt_sessions behaviour)', () => {
  it('keeps the refresh token valid and replaces the access token', async () => {
    const { sessions } = setup({ rotateRefresh: false });
    const pair = await sessions.login();
    const a = await sessions.refresh(pair.refresh);
    const b = await sessions.refresh(pair.refresh);
    expect(a.refresh).toBe(pair.refresh);
    expect(b.refresh).toBe(pair.refresh);
    expect(await codeOf(sessions.verifyAccess(a.access))).toBe('access_revoked');
    await expect(sessions.verifyAccess(b.access)).resolves.toBeTruthy();
  });
});

describe('early-refresh hook (jwt_sessions hijack block)', () => {
  it('is called while the access token is still valid and may refuse, changing nothing', async () => {
    const seen: unknown[] = [];
    const { sessions } = setup({
      onEarlyRefresh: (info) => {
        seen.push(info);
        throw new Error('refresh before expiry looks like theft');
      },
    });
    const pair = await sessions.login({ namespace: 'h' });
    expect(await codeOf(sessions.refresh(pair.refresh))).toBe('refresh_refused');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ sessionId: pair.sessionId, namespace: 'h' });
    // nothing changed: the original access token still works, the refresh token is still current
    await expect(sessions.verifyAccess(pair.access)).resolves.toBeTruthy();
    await expect(sessions.verifyRefresh(pair.refresh)).resolves.toMatchObject({ sessionId: pair.sessionId });
  });

  it('is not called once the access token has expired', async () => {
    let calls = 0;
    const { sessions, advance } = setup({ accessTtl: 60, onEarlyRefresh: () => void calls++ });
    const pair = await sessions.login();
    advance(61);
    await sessions.refresh(pair.refresh);
    expect(calls).toBe(0);
  });

  it('a per-call hook overrides the engine hook; a typed error it throws passes through', async () => {
    const { sessions } = setup();
    const pair = await sessions.login();
    const error = new SessionError('refresh_refused', 'custom');
    await expect(
      sessions.refresh(pair.refresh, {
        onEarlyRefresh: () => {
          throw error;
        },
      }),
    ).rejects.toBe(error);
  });
});

describe('refresh by access', () => {
  it('is refused unless the session allows it', async () => {
    const { sessions } = setup();
    const pair = await sessions.login();
    expect(await codeOf(sessions.refreshByAccess(pair.access))).toBe('refresh_by_access_not_allowed');
  });

  it('renews with an expired access token whose signature and other claims verify; refresh token unchanged', async () => {
    const { sessions, advance } = setup({ accessTtl: 60 });
    const pair = await sessions.login({ payload: { user_id: 9 }, refreshByAccess: true });
    advance(120);
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('token_expired');
    const next = await sessions.refreshByAccess(pair.access);
    expect(decode(sessions, next.access).payload).toMatchObject({ user_id: 9, sid: pair.sessionId });
    expect(next.refresh).toBe(pair.refresh);
    await expect(sessions.verifyAccess(next.access)).resolves.toBeTruthy();
  });

  it('refuses a superseded access token (after the grace window), and a forged one', async () => {
    const { sessions, advance } = setup({ reuseGrace: 5 });
    const pair = await sessions.login({ refreshByAccess: true });
    await sessions.refreshByAccess(pair.access);
    advance(6);
    expect(await codeOf(sessions.refreshByAccess(pair.access))).toBe('access_revoked');
    const [h, p] = pair.access.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...decode(sessions, pair.access).payload, user_id: 1 }),
    ).toString('base64url');
    expect(await codeOf(sessions.refreshByAccess(`${h}.${forgedPayload}.${pair.access.split('.')[2]}`))).toBe(
      'signature_invalid',
    );
    expect(await codeOf(sessions.refreshByAccess(`${h}.${p}.`))).toMatch(/signature_invalid|token_malformed/);
  });

  it('concurrent refreshes by the same access token all get one new access token', async () => {
    const { sessions } = setup();
    const pair = await sessions.login({ refreshByAccess: true });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => sessions.refreshByAccess(pair.access)),
    );
    expect(new Set(results.map((r) => decode(sessions, r.access).payload.jti)).size).toBe(1);
  });

  it('refresh by a refresh token ends refresh-by-access of the old access token', async () => {
    const { sessions } = setup();
    const pair = await sessions.login({ refreshByAccess: true });
    await sessions.refresh(pair.refresh);
    expect(await codeOf(sessions.refreshByAccess(pair.access))).toBe('access_revoked');
  });
});

describe('verification', () => {
  it('stateless mode accepts a superseded but unexpired access token; strict does not', async () => {
    const { sessions } = setup();
    const pair = await sessions.login();
    await sessions.refresh(pair.refresh);
    await expect(sessions.verifyAccess(pair.access, { mode: 'stateless' })).resolves.toMatchObject({
      sessionId: pair.sessionId,
    });
    expect(await codeOf(sessions.verifyAccess(pair.access, { mode: 'strict' }))).toBe('access_revoked');
  });

  it('stateless engine-wide mode never touches the store for a plain verify', async () => {
    let gets = 0;
    class CountingStore extends MemoryStore {
      override get(id: string, now: number) {
        gets++;
        return super.get(id, now);
      }
    }
    const counting = new CountingStore();
    const { sessions } = setup({ store: counting, verifyMode: 'stateless' });
    const pair = await sessions.login();
    await sessions.verifyAccess(pair.access);
    expect(gets).toBe(0);
  });

  it('applies per-call claim expectations (jwt_sessions token_claims)', async () => {
    const { sessions } = setup();
    const pair = await sessions.login({ payload: { user_id: 5, role: 'staff' } });
    await expect(sessions.verifyAccess(pair.access, { claims: { role: 'staff' } })).resolves.toBeTruthy();
    await expect(sessions.verifyAccess(pair.access, { claims: { role: 'admin' } })).rejects.toMatchObject({
      code: 'claim_invalid',
    });
  });

  it('issuer and audience are set and enforced when configured', async () => {
    const a = setup({ issuer: 'https://a.example', audience: 'api' });
    const b = setup({ issuer: 'https://b.example', audience: 'api' });
    const pair = await a.sessions.login();
    expect(decode(a.sessions, pair.access).payload).toMatchObject({ iss: 'https://a.example', aud: 'api' });
    await b.store.create((await a.store.get(pair.sessionId, a.clock.now))!);
    expect(await codeOf(b.sessions.verifyAccess(pair.access))).toBe('claim_invalid');
  });

  it('exp is exact with the default leeway 0', async () => {
    const { sessions, advance } = setup({ accessTtl: 60 });
    const pair = await sessions.login();
    advance(59);
    await expect(sessions.verifyAccess(pair.access)).resolves.toBeTruthy();
    advance(1);
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('token_expired');
  });
});

describe('secret rotation (Rodauth jwt_old_secret)', () => {
  it('tokens signed with the previous key keep working after rotation; new ones use the new key', async () => {
    const store = new MemoryStore();
    const before = setup({ store, keys: { signing: { alg: 'HS256', key: OLD_SECRET, kid: 'old' } } });
    const pair = await before.sessions.login();
    const after = setup({
      store,
      keys: {
        signing: { alg: 'HS256', key: SECRET, kid: 'new' },
        previous: [{ alg: 'HS256', key: OLD_SECRET, kid: 'old' }],
      },
    });
    after.clock.now = before.clock.now;
    await expect(after.sessions.verifyAccess(pair.access)).resolves.toBeTruthy();
    const next = await after.sessions.refresh(pair.refresh);
    expect(decode(after.sessions, next.access).header.kid).toBe('new');
    // without the previous key, old tokens are refused
    const dropped = setup({ store, keys: { signing: { alg: 'HS256', key: SECRET, kid: 'new' } } });
    expect(await codeOf(dropped.sessions.verifyAccess(pair.access))).toBe('kid_unknown');
  });
});

describe('CSRF', () => {
  it('masks the secret afresh every time and verifies any mask of it', async () => {
    const { sessions } = setup();
    const pair = await sessions.login();
    const again = await sessions.csrfToken(pair.sessionId);
    expect(again).not.toBe(pair.csrf);
    await sessions.verifyCsrf(pair.sessionId, pair.csrf);
    await sessions.verifyCsrf(pair.sessionId, again);
    await expect(sessions.verifyAccess(pair.access, { csrf: again })).resolves.toBeTruthy();
  });

  it('refuses missing, foreign, wrong-length and garbage tokens with csrf_invalid (403)', async () => {
    const { sessions } = setup();
    const mine = await sessions.login();
    const theirs = await sessions.login();
    for (const token of [null, '', theirs.csrf, mine.csrf.slice(1), `${mine.csrf}A`, '!'.repeat(86), 42]) {
      const error = await sessions.verifyCsrf(mine.sessionId, token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).status).toBe(403);
    }
    expect(await codeOf(sessions.verifyAccess(mine.access, { csrf: null }))).toBe('csrf_invalid');
  });
});

describe('revocation (jwt_sessions flush_*)', () => {
  it('by session id, refresh token, access token (expired allowed) — each returns a count', async () => {
    const { sessions, advance } = setup({ accessTtl: 60 });
    const a = await sessions.login();
    const b = await sessions.login();
    const c = await sessions.login();
    expect(await sessions.revokeSession(a.sessionId)).toBe(1);
    expect(await sessions.revokeSession(a.sessionId)).toBe(0);
    expect(await sessions.revokeByRefresh(b.refresh)).toBe(1);
    advance(120);
    expect(await sessions.revokeByAccess(c.access)).toBe(1);
    for (const pair of [a, b, c])
      expect(await codeOf(sessions.refresh(pair.refresh))).toBe('session_not_found');
  });

  it('a namespace: all its sessions and nothing else; no caller repeats the namespace', async () => {
    const { sessions, events } = setup();
    const u1 = [await sessions.login({ namespace: 'u1' }), await sessions.login({ namespace: 'u1' })];
    const u2 = await sessions.login({ namespace: 'u2' });
    expect(await sessions.revokeNamespace('u1')).toBe(2);
    for (const pair of u1) expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('session_not_found');
    await expect(sessions.verifyAccess(u2.access)).resolves.toBeTruthy();
    expect(events).toContainEqual({ type: 'revoke', scope: 'namespace', namespace: 'u1', count: 2 });
  });

  it('flush access tokens only, then refresh works again (jwt_sessions flush_namespaced_access_tokens)', async () => {
    const { sessions } = setup();
    const pair = await sessions.login({ namespace: 'ie' });
    const other = await sessions.login({ namespace: 'other' });
    expect(await sessions.revokeNamespaceAccess('ie')).toBe(1);
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('access_revoked');
    await expect(sessions.verifyAccess(other.access)).resolves.toBeTruthy();
    const next = await sessions.refresh(pair.refresh);
    await expect(sessions.verifyAccess(next.access)).resolves.toBeTruthy();
  });

  it('everything (jwt_sessions flush_all)', async () => {
    const { sessions } = setup();
    await sessions.login({ namespace: 'a' });
    await sessions.login();
    expect(await sessions.revokeAll()).toBe(2);
    expect(await sessions.revokeAll()).toBe(0);
  });

  it('refuses bad arguments with typed errors', async () => {
    const { sessions } = setup();
    await expect(sessions.revokeNamespace('')).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(sessions.revokeSession(42 as never)).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(sessions.revokeByRefresh('garbage')).rejects.toBeInstanceOf(TokenFormatError);
  });
});

describe('listing', () => {
  it('lists a namespace with created/last-used/expiry times and device metadata', async () => {
    const { sessions, advance, clock } = setup({ touchInterval: 0 });
    const first = await sessions.login({
      namespace: 'u',
      device: { ip: '203.0.113.9', userAgent: 'Firefox' },
    });
    advance(10);
    await sessions.login({ namespace: 'u', device: { ip: '198.51.100.1', userAgent: 'x'.repeat(2000) } });
    advance(10);
    await sessions.verifyAccess(first.access);
    const list = await sessions.listSessions('u');
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      id: first.sessionId,
      ip: '203.0.113.9',
      userAgent: 'Firefox',
      namespace: 'u',
    });
    expect(list[0]!.lastUsedAt.getTime()).toBe(clock.now);
    expect(list[0]!.createdAt.getTime()).toBe(clock.now - 20_000);
    expect(list[1]!.userAgent).toHaveLength(512);
    expect(await sessions.getSession(first.sessionId)).toMatchObject({ id: first.sessionId });
    expect(await sessions.getSession('nope')).toBeNull();
  });
});

describe('deadlines (Rodauth active_sessions)', () => {
  it('idle timeout: a session unused for longer ends; use keeps it alive', async () => {
    const { sessions, advance } = setup({ idleTimeout: 100, accessTtl: 3600 });
    const pair = await sessions.login();
    for (let i = 0; i < 5; i++) {
      advance(90);
      await sessions.verifyAccess(pair.access);
    }
    advance(101);
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('session_not_found');
  });

  it('absolute timeout: no refresh outlives it, and refresh expiry is capped by it', async () => {
    const { sessions, advance, clock } = setup({ absoluteTimeout: 1000, accessTtl: 300 });
    const pair = await sessions.login();
    const deadline = Math.floor(clock.now / 1000) + 1000;
    expect(decode(sessions, pair.refresh).payload.exp).toBe(deadline);
    let current = pair;
    for (let i = 0; i < 3; i++) {
      advance(300);
      current = await sessions.refresh(current.refresh);
      expect(decode(sessions, current.refresh).payload.exp).toBe(deadline);
      expect(decode(sessions, current.access).payload.exp as number).toBeLessThanOrEqual(deadline);
    }
    advance(101);
    expect(await codeOf(sessions.refresh(current.refresh))).toMatch(/token_expired|session_not_found/);
  });
});

describe('sliding expiration', () => {
  it('renews past the share of life; the previous token stays valid for the grace window only', async () => {
    const { sessions, advance } = setup({ accessTtl: 100, slidingRenewAfter: 0.5, reuseGrace: 10 });
    const pair = await sessions.login();
    advance(40);
    expect((await sessions.verifyAccess(pair.access)).renewedAccess).toBeUndefined();
    advance(20);
    const verified = await sessions.verifyAccess(pair.access);
    expect(verified.renewedAccess).toBeDefined();
    const renewed = verified.renewedAccess!;
    await expect(sessions.verifyAccess(renewed.token)).resolves.toBeTruthy();
    advance(5);
    await expect(sessions.verifyAccess(pair.access)).resolves.toBeTruthy(); // in-flight requests survive
    advance(6);
    expect(await codeOf(sessions.verifyAccess(pair.access))).toBe('access_revoked');
  });
});

describe('failure behaviour', () => {
  it('a store that fails gives store_unavailable (503) and accepts nothing', async () => {
    const broken: Store = {
      create: () => Promise.reject(new Error('ECONNREFUSED')),
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      replace: () => Promise.reject(new Error('ECONNREFUSED')),
      touch: () => Promise.reject(new Error('ECONNREFUSED')),
      delete: () => Promise.reject(new Error('ECONNREFUSED')),
      deleteNamespace: () => Promise.reject(new Error('ECONNREFUSED')),
      deleteAll: () => Promise.reject(new Error('ECONNREFUSED')),
      revokeNamespaceAccess: () => Promise.reject(new Error('ECONNREFUSED')),
      listNamespace: () => Promise.reject(new Error('ECONNREFUSED')),
      markProofUsed: () => Promise.reject(new Error('ECONNREFUSED')),
      close: () => Promise.resolve(),
    };
    const good = setup();
    const pair = await good.sessions.login();
    const { sessions } = setup({ store: broken });
    // same keys as `good`, so the tokens verify cryptographically and only the store can fail
    for (const attempt of [
      sessions.login(),
      sessions.verifyAccess(pair.access),
      sessions.refresh(pair.refresh),
      sessions.revokeSession(pair.sessionId),
      sessions.listSessions('x'),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).status).toBe(503);
    }
  });

  it('an event hook that throws never breaks authentication', async () => {
    const { sessions } = setup({
      onEvent: () => {
        throw new Error('audit log down');
      },
    });
    const pair = await sessions.login();
    await expect(sessions.refresh(pair.refresh)).resolves.toBeTruthy();
  });

  it('bad configuration is refused with ConfigurationError', () => {
    const keys = { signing: { alg: 'HS256' as const, key: SECRET } };
    for (const options of [
      { keys, accessTtl: -1 },
      { keys, reuseGrace: 1.5 },
      { keys, slidingRenewAfter: 1 },
      { keys, verifyMode: 'lenient' },
      { keys: { signing: { alg: 'HS256' as const, key: 'short' } } },
    ]) {
      expect(() => createSessions(options as SessionsOptions)).toThrow(ConfigurationError);
    }
  });
});

/**
 * The refresh and session rules (SECURITY.md R1, R3, R4) on the engine with a driven clock:
 * rotation and family revocation on reuse, lifetimes that rotation never extends, and refresh
 * refused the moment a session is logged out, revoked or expired. R2 (compare-and-swap under
 * concurrency) is storms.test.ts, against every store.
 */
import { describe, expect, it } from 'vitest';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { SessionsOptions } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { engineKey } from './support.js';

const key = engineKey();
const T0 = 1_800_000_000_000;

function engine(options: Partial<SessionsOptions> = {}): { sessions: Sessions; advance(ms: number): void } {
  let now = T0;
  const sessions = createSessions({
    keys: { signing: { alg: 'ES256', key: key.privateKey, kid: key.kid } },
    store: new MemoryStore(),
    accessTtl: 60,
    refreshTtl: 3600,
    reuseGrace: 5,
    clock: () => now,
    ...options,
  });
  return {
    sessions,
    advance(ms) {
      now += ms;
    },
  };
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    jti: string;
    exp: number;
    iat: number;
  };

describe('[R1] rotation and reuse detection', () => {
  it('[R1] every refresh rotates: a new generation id, the old access token ends at once (strict)', async () => {
    const { sessions } = engine();
    const first = await sessions.login();
    const second = await sessions.refresh(first.refresh);
    const third = await sessions.refresh(second.refresh);
    const ids = [first, second, third].map((p) => claimsOf(p.refresh).jti);
    expect(new Set(ids).size).toBe(3);
    await expect(sessions.verifyAccess(first.access)).rejects.toMatchObject({ code: 'access_revoked' });
    await expect(sessions.verifyAccess(second.access)).rejects.toMatchObject({ code: 'access_revoked' });
    await expect(sessions.verifyAccess(third.access)).resolves.toBeTruthy();
  });

  it('[R1] a rotated-out refresh token replayed after the grace window revokes the whole family', async () => {
    const { sessions, advance } = engine();
    const stolen = await sessions.login({ namespace: 'u' });
    const legit = await sessions.refresh(stolen.refresh);
    const current = await sessions.refresh(legit.refresh);
    advance(6000);
    // the attacker replays the first generation (two rotations ago)
    await expect(sessions.refresh(stolen.refresh)).rejects.toMatchObject({ code: 'refresh_reused' });
    // every token of the family is dead in strict mode: access and refresh, current ones included
    await expect(sessions.verifyAccess(current.access)).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(sessions.refresh(current.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await sessions.listSessions('u')).toEqual([]);
  });

  it('[R1] the predecessor replayed within the grace window gets the current generation, nothing older does', async () => {
    const { sessions, advance } = engine();
    const first = await sessions.login();
    const second = await sessions.refresh(first.refresh);
    advance(1000);
    const replayed = await sessions.refresh(first.refresh);
    expect(claimsOf(replayed.refresh).jti).toBe(claimsOf(second.refresh).jti);
    const third = await sessions.refresh(second.refresh);
    // first is two generations old now: reuse, even inside the window
    await expect(sessions.refresh(first.refresh)).rejects.toMatchObject({ code: 'refresh_reused' });
    await expect(sessions.verifyAccess(third.access)).rejects.toMatchObject({ code: 'session_not_found' });
  });
});

describe('[R3] lifetimes', () => {
  it('[R3] rotation never extends the absolute lifetime', async () => {
    const { sessions, advance } = engine({ absoluteTimeout: 600, refreshTtl: 3600 });
    let pair = await sessions.login();
    const deadline = T0 / 1000 + 600;
    for (let i = 0; i < 9; i++) {
      advance(60_000);
      pair = await sessions.refresh(pair.refresh);
      expect(claimsOf(pair.refresh).exp).toBeLessThanOrEqual(deadline);
      expect(claimsOf(pair.access).exp).toBeLessThanOrEqual(deadline);
    }
    advance(60_000); // T0 + 600 s: the absolute deadline
    await expect(sessions.refresh(pair.refresh)).rejects.toMatchObject({
      code: expect.stringMatching(/token_expired|session_not_found/),
    });
    await expect(sessions.verifyAccess(pair.access)).rejects.toBeTruthy();
  });

  it('[R3] idle timeout: a session unused for longer ends; use keeps it alive up to the absolute limit', async () => {
    const { sessions, advance } = engine({ idleTimeout: 300, absoluteTimeout: 1000, touchInterval: 0 });
    const idle = await sessions.login();
    let busy = await sessions.login();
    for (let i = 0; i < 4; i++) {
      advance(200_000); // each step is within the idle timeout
      busy = await sessions.refresh(busy.refresh);
    }
    // 800 s without use > 300 s idle timeout
    await expect(sessions.refresh(idle.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(sessions.verifyAccess(busy.access)).resolves.toBeTruthy();
    advance(200_000); // T0 + 1000 s: the absolute limit ends even a busy session
    await expect(sessions.refresh(busy.refresh)).rejects.toMatchObject({
      code: expect.stringMatching(/session_not_found|token_expired/),
    });
  });

  it('[R3] refresh lifetime: a refresh token past its exp is refused; the access token never outlives it', async () => {
    const { sessions, advance } = engine({ accessTtl: 60, refreshTtl: 120 });
    const pair = await sessions.login();
    expect(claimsOf(pair.access).exp).toBeLessThanOrEqual(claimsOf(pair.refresh).exp);
    advance(120_000);
    await expect(sessions.refresh(pair.refresh)).rejects.toMatchObject({ code: 'token_expired' });
  });
});

describe('[R4] refresh after logout, revoke or expiry fails at once', () => {
  it('[R4] a millisecond after revokeSession / revokeByRefresh / revokeNamespace / revokeAll / expiry', async () => {
    const { sessions, advance } = engine({ refreshTtl: 120 });
    const byId = await sessions.login({ namespace: 'a' });
    const byToken = await sessions.login({ namespace: 'b' });
    const byNamespace = await sessions.login({ namespace: 'c' });
    const byAll = await sessions.login({ namespace: 'd' });
    await sessions.revokeSession(byId.sessionId);
    await sessions.revokeByRefresh(byToken.refresh);
    await sessions.revokeNamespace('c');
    advance(1);
    for (const pair of [byId, byToken, byNamespace]) {
      await expect(sessions.refresh(pair.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
      await expect(sessions.verifyAccess(pair.access)).rejects.toMatchObject({ code: 'session_not_found' });
    }
    await expect(sessions.refresh(byAll.refresh)).resolves.toBeTruthy();
    const latest = await sessions.login({ namespace: 'e' });
    await sessions.revokeAll();
    advance(1);
    await expect(sessions.refresh(latest.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
    // expiry: the store forgets the session at refresh expiry, to the millisecond
    const expiring = await sessions.login();
    advance(120_000);
    await expect(sessions.refresh(expiring.refresh)).rejects.toMatchObject({ code: 'token_expired' });
  });
});

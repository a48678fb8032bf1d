/** `Sessions.logout`: which access tokens and CSRF tokens may end a session (SECURITY.md, logout race-free). */
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';

function setup(reuseGrace = 10) {
  const clock = { now: 1_750_000_000_000 };
  const store = new MemoryStore();
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: 'logout-test-secret-0123456789abcdef0123' } },
    store,
    reuseGrace,
    clock: () => clock.now,
  });
  return { sessions, store, clock };
}

describe('[R6] logout', () => {
  it('accepts the current access token and the one the latest refresh replaced, not older ones', async () => {
    const { sessions } = setup();
    const first = await sessions.login({ namespace: 'u' });
    const second = await sessions.refresh(first.refresh);
    const third = await sessions.refresh(second.refresh);
    // first.access is two renewals old: not this session's any more.
    await expect(sessions.logout(first.access)).rejects.toMatchObject({ code: 'access_revoked' });
    expect(await sessions.getSession(first.sessionId)).not.toBeNull();
    expect(await sessions.logout(second.access)).toEqual({
      revoked: 1,
      sessionId: first.sessionId,
      namespace: 'u',
    });
    await expect(sessions.logout(third.access)).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('over cookies: the CSRF secret a refresh replaced is accepted within the grace window only', async () => {
    const { sessions, clock } = setup(10);
    const a = await sessions.login({ namespace: 'u' });
    const renewed = await sessions.refresh(a.refresh);
    await expect(sessions.logout(renewed.access, { csrf: 'x'.repeat(86) })).rejects.toMatchObject({
      code: 'csrf_invalid',
    });
    await expect(sessions.logout(renewed.access, { csrf: null })).rejects.toMatchObject({
      code: 'csrf_invalid',
    });
    expect((await sessions.logout(a.access, { csrf: a.csrf })).revoked).toBe(1);

    const b = await sessions.login({ namespace: 'u' });
    const later = await sessions.refresh(b.refresh);
    clock.now += 10_001;
    await expect(sessions.logout(later.access, { csrf: b.csrf })).rejects.toMatchObject({
      code: 'csrf_invalid',
    });
    expect((await sessions.logout(later.access, { csrf: later.csrf })).revoked).toBe(1);
  });

  it('scope all ends the namespace; bad options are typed errors that end nothing', async () => {
    const { sessions } = setup();
    const a = await sessions.login({ namespace: 'u' });
    await sessions.login({ namespace: 'u' });
    await sessions.login({ namespace: 'other' });
    await expect(sessions.logout(a.access, { scope: 'everything' as 'all' })).rejects.toMatchObject({
      code: 'payload_invalid',
    });
    await expect(sessions.logout(a.refresh)).rejects.toMatchObject({ code: 'token_type_mismatch' });
    expect((await sessions.logout(a.access, { scope: 'all' })).revoked).toBe(2);
    expect(await sessions.listSessions('other')).toHaveLength(1);
  });
});

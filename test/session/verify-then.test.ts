/**
 * `Sessions.verifyAccessThen`, the HTTP layer's way into strict verification: the continuation
 * runs right after the checks (synchronously when the store answers at once, in the same promise
 * hop as the checks when it does not), only the store's own failures become store errors, and what
 * the continuation throws reaches the caller unchanged.
 */
import { describe, expect, it } from 'vitest';
import { SessionError, StoreUnavailableError } from '../../src/errors.js';
import type { VerifiedAccess } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { reportingSessions } from '../support/reporting-sessions.js';

/** A memory store that answers reads only asynchronously (as Redis and SQL do). */
function asyncStore(): MemoryStore {
  const store = new MemoryStore();
  const get = store.get.bind(store);
  store.get = async (id, now) => {
    await new Promise((resolve) => setImmediate(resolve));
    return get(id, now);
  };
  store.getEager = (id, now) => store.get(id, now);
  return store;
}

describe('verifyAccessThen', () => {
  it('continues with the verified access: at once on the memory store, after the read otherwise', async () => {
    for (const [store, eager] of [
      [new MemoryStore(), true],
      [asyncStore(), false],
    ] as const) {
      const { sessions } = reportingSessions(store);
      const pair = await sessions.login({ namespace: 'u' });
      const seen: VerifiedAccess<Record<string, unknown>>[] = [];
      const answer = sessions.verifyAccessThen(pair.access, {}, (verified) => {
        seen.push(verified);
        return `continued ${verified.sessionId}`;
      });
      expect(answer instanceof Promise).toBe(!eager);
      expect(await answer).toBe(`continued ${pair.sessionId}`);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ sessionId: pair.sessionId, namespace: 'u' });
      expect(seen[0]!.claims.sid).toBe(pair.sessionId);
    }
  });

  it('what the continuation throws passes unchanged and is no store error', async () => {
    for (const store of [new MemoryStore(), asyncStore()]) {
      const { sessions, reported } = reportingSessions(store);
      const pair = await sessions.login({});
      const own = new Error('the handler failed');
      const thrown = await Promise.resolve()
        .then(() =>
          sessions.verifyAccessThen(pair.access, {}, () => {
            throw own;
          }),
        )
        .catch((error: unknown) => error);
      expect(thrown).toBe(own);
      expect(reported).toEqual([]);
    }
  });

  it('a store failure rejects as store_unavailable, reported once, and never reaches the continuation', async () => {
    const store = asyncStore();
    const { sessions, reported } = reportingSessions(store);
    const pair = await sessions.login({});
    store.get = () => Promise.reject(new Error('connection reset'));
    let continued = false;
    const error = await (
      sessions.verifyAccessThen(pair.access, {}, () => {
        continued = true;
      }) as Promise<void>
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(reported).toEqual([error]);
    expect(continued).toBe(false);
  });

  it('a revoked or ended session never reaches the continuation', async () => {
    const store = asyncStore();
    const { sessions } = reportingSessions(store);
    const revoked = await sessions.login({ namespace: 'revoked' });
    const ended = await sessions.login({});
    await sessions.revokeNamespaceAccess('revoked');
    await sessions.revokeSession(ended.sessionId);
    let continued = 0;
    const count = () => {
      continued++;
    };
    await expect(sessions.verifyAccessThen(revoked.access, {}, count)).rejects.toMatchObject({
      code: 'access_revoked',
    });
    await expect(sessions.verifyAccessThen(ended.access, {}, count)).rejects.toBeInstanceOf(SessionError);
    expect(continued).toBe(0);
  });
});

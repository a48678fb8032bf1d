import { afterEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import type { SessionEvent } from '../../src/session/types.js';
import type { Store, StoredSession } from '../../src/stores/store.js';
import { record, T0 } from '../support/records.js';
import { describeCapContract } from './cap-contract.js';
import { describeReplayCacheContract } from './replay-contract.js';

export interface StoreHandle {
  store: Store;
  /** Drops whatever the test created and closes connections. */
  cleanup?: () => Promise<void>;
  /** Another store instance on the same backend and data (closed by the caller), for cross-instance races. */
  twin?: () => Promise<Store>;
}

export type StoreFactory = () => Promise<StoreHandle>;

/**
 * For a describe block: `open()` a store from the factory, `twinOf(handle)` a second instance on
 * its backend (the same store when the factory has none); both are closed after each test.
 */
export function storeHandles(factory: StoreFactory) {
  const handles: StoreHandle[] = [];
  const twins: Store[] = [];
  afterEach(async () => {
    for (const twin of twins.splice(0)) await twin.close();
    for (const handle of handles.splice(0)) await handle.cleanup?.();
  });
  return {
    async open(): Promise<StoreHandle> {
      const handle = await factory();
      handles.push(handle);
      return handle;
    },
    async twinOf(handle: StoreHandle): Promise<Store> {
      if (!handle.twin) return handle.store;
      const twin = await handle.twin();
      twins.push(twin);
      return twin;
    },
  };
}

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name}: Store contract`, () => {
    const handles: StoreHandle[] = [];
    async function open(): Promise<Store> {
      const handle = await factory();
      handles.push(handle);
      return handle.store;
    }
    afterEach(async () => {
      for (const handle of handles.splice(0)) {
        await handle.cleanup?.();
      }
    });

    it('creates and gets a session verbatim', async () => {
      const store = await open();
      const session = record({ namespace: 'user:1' });
      await store.create(session);
      expect(await store.get(session.id, T0)).toEqual(session);
      expect(await store.get('missing-id', T0)).toBeNull();
    });

    it('never returns a session at or after its expiry instant', async () => {
      const store = await open();
      const session = record({ namespace: 'ns' });
      await store.create(session);
      expect(await store.get(session.id, session.expiresAt - 1)).not.toBeNull();
      expect(await store.get(session.id, session.expiresAt)).toBeNull();
      expect(await store.listNamespace('ns', session.expiresAt)).toEqual([]);
      expect(await store.replace({ ...session, version: 2 }, 1, session.expiresAt)).toBe(false);
      expect(await store.delete(session.id, session.expiresAt)).toBe(0);
    });

    it('replace is compare-and-swap on version', async () => {
      const store = await open();
      const session = record();
      await store.create(session);
      const next = { ...session, version: 2, data: '{"gen":2}', lastUsedAt: T0 + 5 };
      expect(await store.replace(next, 1, T0 + 5)).toBe(true);
      expect(await store.get(session.id, T0 + 5)).toEqual(next);
      // stale expected version, and a version that skips ahead, both refused
      expect(await store.replace({ ...session, version: 2, data: 'stale' }, 1, T0 + 6)).toBe(false);
      expect(await store.replace({ ...next, version: 4 }, 2, T0 + 6)).toBe(false);
      expect((await store.get(session.id, T0 + 6))?.data).toBe('{"gen":2}');
    });

    it('replace cannot resurrect a deleted session', async () => {
      const store = await open();
      const session = record();
      await store.create(session);
      expect(await store.delete(session.id, T0)).toBe(1);
      expect(await store.replace({ ...session, version: 2 }, 1, T0)).toBe(false);
      expect(await store.get(session.id, T0)).toBeNull();
    });

    it('replace keeps the namespace immutable and the namespace index right', async () => {
      const store = await open();
      const session = record({ namespace: 'a' });
      await store.create(session);
      await store.replace({ ...session, version: 2, expiresAt: T0 + 120_000 }, 1, T0);
      const listed = await store.listNamespace('a', T0 + 90_000);
      expect(listed.map((s) => s.id)).toEqual([session.id]);
    });

    it('50 concurrent replaces of one version: exactly one wins', async () => {
      const store = await open();
      const session = record();
      await store.create(session);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.replace({ ...session, version: 2, data: `w${i}` }, 1, T0)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.get(session.id, T0))?.data).toBe(`w${winner}`);
    });

    it('touch updates lastUsedAt/expiresAt without a version bump, and never resurrects', async () => {
      const store = await open();
      const session = record();
      await store.create(session);
      await store.touch(session.id, T0 + 10, T0 + 90_000, T0 + 10);
      const touched = await store.get(session.id, T0 + 70_000);
      expect(touched).toMatchObject({ lastUsedAt: T0 + 10, expiresAt: T0 + 90_000, version: 1 });
      await store.delete(session.id, T0 + 70_000);
      await store.touch(session.id, T0 + 71_000, T0 + 200_000, T0 + 71_000);
      expect(await store.get(session.id, T0 + 71_000)).toBeNull();
      // touching an expired session does not bring it back
      const old = record({ expiresAt: T0 + 100 });
      await store.create(old);
      await store.touch(old.id, T0 + 200, T0 + 50_000, T0 + 200);
      expect(await store.get(old.id, T0 + 300)).toBeNull();
    });

    it('delete returns counts and is idempotent', async () => {
      const store = await open();
      const session = record();
      await store.create(session);
      expect(await store.delete(session.id, T0)).toBe(1);
      expect(await store.delete(session.id, T0)).toBe(0);
      expect(await store.delete('never-existed', T0)).toBe(0);
    });

    it('namespace list, delete and access revocation touch only that namespace', async () => {
      const store = await open();
      const mine = [
        record({ namespace: 'user:1', createdAt: T0 }),
        record({ namespace: 'user:1', createdAt: T0 + 1 }),
        record({ namespace: 'user:1', createdAt: T0 + 2 }),
      ];
      const theirs = record({ namespace: 'user:2' });
      const none = record();
      for (const s of [...mine, theirs, none]) await store.create(s);

      const listed = await store.listNamespace('user:1', T0 + 10);
      expect(listed.map((s) => s.id)).toEqual(mine.map((s) => s.id));
      expect(await store.listNamespace('nobody', T0)).toEqual([]);

      expect(await store.revokeNamespaceAccess('user:1', T0 + 10)).toBe(3);
      for (const s of await store.listNamespace('user:1', T0 + 10)) {
        expect(s.accessRevoked).toBe(true);
        expect(s.version).toBe(2);
      }
      expect((await store.get(theirs.id, T0 + 10))?.accessRevoked).toBe(false);

      expect(await store.deleteNamespace('user:1', T0 + 10)).toBe(3);
      expect(await store.listNamespace('user:1', T0 + 10)).toEqual([]);
      expect(await store.get(theirs.id, T0 + 10)).not.toBeNull();
      expect(await store.get(none.id, T0 + 10)).not.toBeNull();
      expect(await store.deleteNamespace('user:1', T0 + 10)).toBe(0);
    });

    it('namespace counts exclude expired sessions', async () => {
      const store = await open();
      await store.create(record({ namespace: 'n', expiresAt: T0 + 100 }));
      await store.create(record({ namespace: 'n', expiresAt: T0 + 100_000 }));
      expect(await store.revokeNamespaceAccess('n', T0 + 200)).toBe(1);
      expect(await store.deleteNamespace('n', T0 + 200)).toBe(1);
    });

    it('deleteAll ends every live session and counts them', async () => {
      const store = await open();
      await store.create(record({ namespace: 'x' }));
      await store.create(record());
      await store.create(record({ expiresAt: T0 + 1 }));
      expect(await store.deleteAll(T0 + 10)).toBe(2);
      expect(await store.listNamespace('x', T0 + 10)).toEqual([]);
      expect(await store.deleteAll(T0 + 10)).toBe(0);
    });

    it('refuses malformed records with a TypeError and stores nothing', async () => {
      const store = await open();
      const bad = { ...record(), version: Number.NaN } as StoredSession;
      await expect(Promise.resolve().then(() => store.create(bad))).rejects.toThrow(TypeError);
      expect(await store.get(bad.id, T0)).toBeNull();
    });
  });

  describe(`${name}: engine over the store`, () => {
    const handles: StoreHandle[] = [];
    let now = T0;
    async function engine(
      options: {
        reuseGrace?: number;
        rotateRefresh?: boolean;
        idleTimeout?: number;
        maxSessionsPerNamespace?: number;
        onEvent?: (event: SessionEvent) => void;
      } = {},
    ) {
      const handle = await factory();
      handles.push(handle);
      now = Date.now();
      return createSessions({
        keys: { signing: { alg: 'HS256', key: 'contract-suite-secret-0123456789abcdef', kid: 'k1' } },
        store: handle.store,
        clock: () => now,
        ...options,
      });
    }
    afterEach(async () => {
      for (const handle of handles.splice(0)) await handle.cleanup?.();
    });

    it('50 concurrent refreshes of one token give one generation (grace: all get it)', async () => {
      const sessions = await engine({ reuseGrace: 10 });
      const pair = await sessions.login({ payload: { user: 1 }, namespace: 'u1' });
      const results = await Promise.all(Array.from({ length: 50 }, () => sessions.refresh(pair.refresh)));
      const refreshTokens = new Set(
        results.map((r) => sessions.codec.decodeUnverified(r.refresh).payload.jti),
      );
      expect(refreshTokens.size).toBe(1);
      const accessIds = new Set(results.map((r) => sessions.codec.decodeUnverified(r.access).payload.jti));
      expect(accessIds.size).toBe(1);
      await expect(sessions.verifyAccess(results[0]!.access)).resolves.toMatchObject({
        sessionId: pair.sessionId,
      });
    });

    it('50 concurrent refreshes with grace 0: one success, 49 refresh_reused, session revoked', async () => {
      const sessions = await engine({ reuseGrace: 0 });
      const pair = await sessions.login({ namespace: 'u1' });
      const settled = await Promise.allSettled(
        Array.from({ length: 50 }, () => sessions.refresh(pair.refresh)),
      );
      const ok = settled.filter((s) => s.status === 'fulfilled');
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(49);
      for (const f of failed)
        expect((f.reason as SessionError).code).toMatch(/refresh_reused|session_not_found/);
      expect(failed.some((f) => (f.reason as SessionError).code === 'refresh_reused')).toBe(true);
      expect(await sessions.listSessions('u1')).toEqual([]);
    });

    it('with rotation off, N racing refreshes leave exactly one valid access token', async () => {
      const sessions = await engine({ rotateRefresh: false });
      const pair = await sessions.login({ namespace: 'u1' });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => sessions.refresh(pair.refresh)),
      );
      const accessTokens = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.access] : []));
      expect(accessTokens.length).toBeGreaterThan(0);
      const checks = await Promise.allSettled(
        [pair.access, ...accessTokens].map((t) => sessions.verifyAccess(t)),
      );
      const validIds = new Set(checks.flatMap((c) => (c.status === 'fulfilled' ? [c.value.claims.jti] : [])));
      expect(validIds.size).toBe(1);
      await sessions.revokeNamespace('u1');
      const after = await Promise.allSettled(accessTokens.map((t) => sessions.verifyAccess(t)));
      expect(after.every((c) => c.status === 'rejected')).toBe(true);
    });

    it('refresh racing revoke: the session stays revoked', async () => {
      const sessions = await engine();
      for (let round = 0; round < 10; round++) {
        const pair = await sessions.login({ namespace: `race-${round}` });
        await Promise.allSettled([
          sessions.refresh(pair.refresh),
          sessions.revokeSession(pair.sessionId),
          sessions.refresh(pair.refresh),
        ]);
        expect(await sessions.listSessions(`race-${round}`)).toEqual([]);
        await expect(sessions.refresh(pair.refresh)).rejects.toBeInstanceOf(SessionError);
      }
    });

    it('[R6] logout racing a refresh of the same session ends the session, whichever lands first', async () => {
      const sessions = await engine();
      for (let round = 0; round < 10; round++) {
        const ns = `logout-race-${round}`;
        const pair = await sessions.login({ namespace: ns });
        const [refreshed, loggedOut] = await Promise.allSettled([
          sessions.refresh(pair.refresh),
          sessions.logout(pair.access),
        ]);
        expect(loggedOut).toEqual({
          status: 'fulfilled',
          value: { revoked: 1, sessionId: pair.sessionId, namespace: ns },
        });
        expect(await sessions.listSessions(ns)).toEqual([]);
        if (refreshed.status === 'fulfilled') {
          // The refresh won the race: its tokens died with the session.
          await expect(sessions.verifyAccess(refreshed.value.access)).rejects.toMatchObject({
            code: 'session_not_found',
          });
          await expect(sessions.refresh(refreshed.value.refresh)).rejects.toBeInstanceOf(SessionError);
        } else {
          expect((refreshed.reason as SessionError).code).toBe('session_not_found');
        }
      }
    });

    it('[R6] logout "all" racing refreshes ends every session of the namespace', async () => {
      const sessions = await engine();
      const pairs = await Promise.all(
        Array.from({ length: 5 }, () => sessions.login({ namespace: 'all-race' })),
      );
      const [logout] = await Promise.all([
        sessions.logout(pairs[0]!.access, { scope: 'all' }),
        ...pairs.map((p) => sessions.refresh(p.refresh).catch(() => undefined)),
      ]);
      expect(logout.revoked).toBe(5);
      expect(await sessions.listSessions('all-race')).toEqual([]);
    });

    it('[R6] two racing revokes of one session: exactly one ends it (1), the other finds it gone (0)', async () => {
      const sessions = await engine();
      for (let round = 0; round < 10; round++) {
        const pair = await sessions.login({ namespace: `revoke-race-${round}` });
        const counts = await Promise.all([
          sessions.revokeSession(pair.sessionId),
          sessions.revokeSession(pair.sessionId),
          sessions.logout(pair.access).then(
            (r) => r.revoked,
            (error: SessionError) => (error.code === 'session_not_found' ? 0 : Number.NaN),
          ),
        ]);
        expect(counts.sort()).toEqual([0, 0, 1]);
      }
    });

    it('[C1] maxSessionsPerNamespace: 50 concurrent logins with a cap of 5 leave exactly 5, each ending reported once', async () => {
      const events: SessionEvent[] = [];
      const sessions = await engine({ maxSessionsPerNamespace: 5, onEvent: (event) => events.push(event) });
      // A second engine (another app instance, on its own store connection when the store offers
      // one): the cap holds across instances.
      const handle = handles[handles.length - 1]!;
      const twin = handle.twin ? await handle.twin() : undefined;
      if (twin) {
        const cleanup = handle.cleanup;
        handle.cleanup = async () => {
          await twin.close();
          await cleanup?.();
        };
      }
      const instance = createSessions({
        keys: { signing: { alg: 'HS256', key: 'contract-suite-secret-0123456789abcdef', kid: 'k1' } },
        store: twin ?? sessions.store,
        clock: () => now,
        maxSessionsPerNamespace: 5,
        onEvent: (event) => events.push(event),
      });
      const other = await sessions.login({ namespace: 'cap-bystander' });
      const pairs = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 === 0 ? sessions : instance).login({ namespace: 'capped' }),
        ),
      );
      const live = await sessions.listSessions('capped');
      expect(live).toHaveLength(5);
      const capped = events.filter((e) => e.type === 'revoke' && e.scope === 'cap');
      expect(capped).toHaveLength(45);
      expect(new Set(capped.map((e) => (e as { sessionId: string }).sessionId)).size).toBe(45);
      const liveIds = new Set(live.map((s) => s.id));
      for (const e of capped) expect(liveIds.has((e as { sessionId: string }).sessionId)).toBe(false);
      for (const pair of pairs.filter((p) => !liveIds.has(p.sessionId))) {
        await expect(sessions.refresh(pair.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
      }
      expect(await sessions.getSession(other.sessionId)).not.toBeNull();
    });

    it('[C1] the cap ends the least recently used session, not the oldest', async () => {
      const sessions = await engine({ maxSessionsPerNamespace: 2 });
      const first = await sessions.login({ namespace: 'lru' });
      now += 1000;
      const second = await sessions.login({ namespace: 'lru' });
      now += 1000;
      await sessions.refresh(first.refresh); // the first session is now the most recently used
      now += 1000;
      const third = await sessions.login({ namespace: 'lru' });
      expect((await sessions.listSessions('lru')).map((s) => s.id).sort()).toEqual(
        [first.sessionId, third.sessionId].sort(),
      );
      expect(await sessions.getSession(second.sessionId)).toBeNull();
    });

    it('[C2] paged listing: stable order, every session exactly once, opaque validated cursor', async () => {
      const sessions = await engine();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await sessions.login({ namespace: 'paged' })).sessionId);
        now += 1; // distinct creation times, plus id order within equal ones
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await sessions.listSessions('paged', {
          limit: 3,
          ...(cursor !== undefined && { cursor }),
        });
        pages++;
        seen.push(...page.sessions.map((s) => s.id));
        if (pages === 1) {
          // A session created between pages comes last; one ended between pages is simply gone.
          ids.push((await sessions.login({ namespace: 'paged' })).sessionId);
          await sessions.revokeSession(ids[5]!);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(seen).toEqual(ids.filter((_, i) => i !== 5));
      expect(pages).toBe(3);
      const everything = await sessions.listSessions('paged', { limit: 100 });
      expect(everything.nextCursor).toBeNull();
      expect(everything.sessions.map((s) => s.id)).toEqual(seen);
      for (const bad of [
        '',
        'not a cursor',
        'bm90LWpzb24',
        Buffer.from('[1,"x"]').toString('base64url'),
        'a'.repeat(300),
      ]) {
        await expect(sessions.listSessions('paged', { cursor: bad })).rejects.toMatchObject({
          code: 'payload_invalid',
          status: 400,
        });
      }
      for (const limit of [0, 101, 1.5, Number.NaN]) {
        await expect(sessions.listSessions('paged', { limit })).rejects.toMatchObject({
          code: 'payload_invalid',
        });
      }
      expect((await sessions.listSessions('paged', {})).sessions).toHaveLength(7);
    });

    it('expiry follows the injected clock: refresh fails a millisecond after the deadline', async () => {
      const sessions = await engine({ idleTimeout: 30 });
      const pair = await sessions.login({ namespace: 'clock' });
      now += 29_000;
      const refreshed = await sessions.refresh(pair.refresh);
      now += 29_000; // idle timer restarted by the refresh
      await expect(sessions.verifyAccess(refreshed.access)).resolves.toBeTruthy();
      now += 30_001;
      await expect(sessions.refresh(refreshed.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
      expect(await sessions.listSessions('clock')).toEqual([]);
    });
  });

  describeReplayCacheContract(name, factory);
  describeCapContract(name, factory);
}

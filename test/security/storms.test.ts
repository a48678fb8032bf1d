/**
 * Concurrency storms against every store (memory, Redis, Redis Cluster, PostgreSQL, MariaDB,
 * SQLite): hundreds of concurrent refreshes of one token, many sessions refreshed at once, refresh
 * racing revoke and logout. Afterwards the store is audited: exactly one new generation per
 * session, revoked sessions stay revoked, and no record or index entry is left orphaned.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JwtSessionsError } from '../../src/errors.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { TokenPair } from '../../src/session/types.js';
import { describeWithService } from '../support/services.js';
import { type OpenedTarget, STORE_TARGETS } from './stores.js';
import { engineKey, watchUnhandledRejections } from './support.js';

const key = engineKey();
const ONE_TOKEN = 200;
const SESSIONS = 40;
const PER_SESSION = 8;

function engine(target: OpenedTarget, reuseGrace: number): Sessions {
  return createSessions({
    keys: { signing: { alg: 'ES256', key: key.privateKey, kid: key.kid } },
    store: target.store,
    accessTtl: 300,
    refreshTtl: 3600,
    reuseGrace,
  });
}

type Outcome = { pair: TokenPair } | { code: string };

/**
 * The refresh generation (or access token id) a token carries. ES256 signatures are randomised, so
 * a grace-window replay of the same generation is a different string with the same claims.
 */
const idOf = (token: string): string =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
const settle = (promise: Promise<TokenPair>): Promise<Outcome> =>
  promise.then(
    (pair) => ({ pair }),
    (error: unknown) => {
      if (!(error instanceof JwtSessionsError)) throw error;
      return { code: error.code };
    },
  );

for (const target of STORE_TARGETS) {
  describeWithService(target.available)(`${target.name}: concurrency storms`, () => {
    let opened: OpenedTarget;
    const rejections = watchUnhandledRejections();
    beforeAll(async () => {
      opened = await target.open();
    });
    afterAll(async () => {
      await opened?.cleanup();
      expect(rejections.stop()).toEqual([]);
    });

    it(`[R2] ${ONE_TOKEN} concurrent refreshes of one token (grace window): one new generation, all callers get it`, async () => {
      const sessions = engine(opened, 10);
      const pair = await sessions.login({ namespace: 'one-token' });
      const outcomes = await Promise.all(
        Array.from({ length: ONE_TOKEN }, () => settle(sessions.refresh(pair.refresh))),
      );
      const pairs = outcomes.flatMap((o) => ('pair' in o ? [o.pair] : []));
      expect(outcomes.filter((o) => 'code' in o)).toEqual([]);
      expect(new Set(pairs.map((p) => idOf(p.refresh))).size).toBe(1);
      expect(new Set(pairs.map((p) => idOf(p.access))).size).toBe(1);
      expect(idOf(pairs[0]!.refresh)).not.toBe(idOf(pair.refresh));
      const [record] = await opened.store.listNamespace('one-token', Date.now());
      expect(record?.version).toBe(2);
      await expect(sessions.verifyAccess(pairs[0]!.access)).resolves.toMatchObject({
        sessionId: pair.sessionId,
      });
      await sessions.revokeNamespace('one-token');
    });

    it(`[R2][R1] ${ONE_TOKEN} concurrent refreshes of one token, grace 0: one success, the rest refused as reuse`, async () => {
      const sessions = engine(opened, 0);
      const pair = await sessions.login({ namespace: 'no-grace' });
      const outcomes = await Promise.all(
        Array.from({ length: ONE_TOKEN }, () => settle(sessions.refresh(pair.refresh))),
      );
      const wins = outcomes.filter((o) => 'pair' in o);
      expect(wins).toHaveLength(1);
      const codes = outcomes.flatMap((o) => ('code' in o ? [o.code] : []));
      expect(codes).toHaveLength(ONE_TOKEN - 1);
      // The first loser to see the rotated-out generation revokes the family (refresh_reused);
      // a loser that reads after that revoke finds no session at all (session_not_found).
      expect(codes).toContain('refresh_reused');
      for (const code of codes) expect(['refresh_reused', 'session_not_found']).toContain(code);
      // Reuse revoked the family: the winner's tokens are dead too.
      const winner = (wins[0] as { pair: TokenPair }).pair;
      await expect(sessions.verifyAccess(winner.access)).rejects.toMatchObject({ code: 'session_not_found' });
      await expect(sessions.refresh(winner.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
      expect(await opened.store.listNamespace('no-grace', Date.now())).toEqual([]);
    });

    it(`[R2] ${SESSIONS} sessions × ${PER_SESSION} concurrent refreshes each: exactly one generation per session, no orphans`, async () => {
      const sessions = engine(opened, 10);
      const logins = await Promise.all(
        Array.from({ length: SESSIONS }, () => sessions.login({ namespace: 'many' })),
      );
      const results = await Promise.all(
        logins.map((pair) =>
          Promise.all(Array.from({ length: PER_SESSION }, () => settle(sessions.refresh(pair.refresh)))),
        ),
      );
      for (const [i, outcomes] of results.entries()) {
        expect(
          outcomes.filter((o) => 'code' in o),
          `session ${i}`,
        ).toEqual([]);
        const refreshes = new Set(outcomes.map((o) => idOf((o as { pair: TokenPair }).pair.refresh)));
        expect(refreshes.size, `session ${i}`).toBe(1);
      }
      const listed = await opened.store.listNamespace('many', Date.now());
      expect(listed).toHaveLength(SESSIONS);
      expect(listed.every((r) => r.version === 2)).toBe(true);
      expect(await opened.audit()).toEqual({ records: SESSIONS, orphans: 0 });
      expect(await sessions.revokeNamespace('many')).toBe(SESSIONS);
      expect(await opened.audit()).toEqual({ records: 0, orphans: 0 });
    });

    it('[R4] refresh racing revoke and logout: every revoked session stays revoked, nothing written back', async () => {
      const sessions = engine(opened, 10);
      const logins = await Promise.all(
        Array.from({ length: SESSIONS }, () => sessions.login({ namespace: 'race' })),
      );
      const handedOut: TokenPair[] = [];
      await Promise.all(
        logins.map(async (pair, i) => {
          const refreshes = Array.from({ length: 4 }, () => settle(sessions.refresh(pair.refresh)));
          // half revoked by id, half by logout with the access token
          const revoke =
            i % 2 === 0 ? sessions.revokeSession(pair.sessionId) : sessions.revokeByAccess(pair.access);
          const outcomes = await Promise.all(refreshes);
          await revoke;
          for (const o of outcomes) {
            if ('pair' in o) handedOut.push(o.pair);
            else expect(['session_not_found', 'refresh_reused']).toContain(o.code);
          }
        }),
      );
      // Whatever a racing refresh handed out before the revoke landed is dead now.
      for (const pair of [...logins, ...handedOut]) {
        await expect(sessions.verifyAccess(pair.access)).rejects.toMatchObject({ code: 'session_not_found' });
        await expect(sessions.refresh(pair.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
      }
      expect(await opened.store.listNamespace('race', Date.now())).toEqual([]);
      expect(await opened.audit()).toEqual({ records: 0, orphans: 0 });
    });

    it('[R4] refresh racing "log out everywhere": the namespace ends empty and stays empty', async () => {
      const sessions = engine(opened, 10);
      const logins = await Promise.all(
        Array.from({ length: 20 }, () => sessions.login({ namespace: 'everywhere' })),
      );
      const refreshes = logins.flatMap((pair) => [
        settle(sessions.refresh(pair.refresh)),
        settle(sessions.refresh(pair.refresh)),
      ]);
      const revoked = sessions.revokeNamespace('everywhere');
      const outcomes = await Promise.all(refreshes);
      await revoked;
      const late = outcomes.flatMap((o) => ('pair' in o ? [o.pair] : []));
      for (const pair of late) {
        await expect(sessions.refresh(pair.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
      }
      expect(await opened.store.listNamespace('everywhere', Date.now())).toEqual([]);
      expect(await opened.audit()).toEqual({ records: 0, orphans: 0 });
    });
  });
}

/**
 * Issue 12 point 4 (engine side): every store error inside an engine operation reaches the
 * sessions' `onError` hook, not only the caller — here with a real PostgresStore whose table is
 * missing, a closed MemoryStore, and a store throwing a typed error of its own.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, type JwtSessionsError, StoreUnavailableError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { PostgresStore } from '../../src/stores/sql/postgres.js';
import { REPORTING_KEYS, reportingSessions } from '../support/reporting-sessions.js';
import { describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

describe('onError sees every store error', () => {
  it('a store that throws: every operation rejects with store_unavailable and reports it once', async () => {
    const store = new MemoryStore();
    const { sessions, reported } = reportingSessions(store);
    const pair = await sessions.login({ namespace: 'u' });
    await store.close();
    const operations: [string, () => Promise<unknown>][] = [
      ['login', () => sessions.login({ namespace: 'u' })],
      ['refresh', () => sessions.refresh(pair.refresh)],
      ['verifyAccess', () => sessions.verifyAccess(pair.access)],
      ['logout', () => sessions.logout(pair.access)],
      ['revokeSession', () => sessions.revokeSession(pair.sessionId)],
      ['revokeNamespace', () => sessions.revokeNamespace('u')],
      ['listSessions', () => sessions.listSessions('u')],
      ['csrfToken', () => sessions.csrfToken(pair.sessionId)],
    ];
    for (const [name, operation] of operations) {
      const before = reported.length;
      const error = await operation().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(StoreUnavailableError);
      expect(reported.length, name).toBe(before + 1);
      expect(reported.at(-1), name).toBe(error);
      expect((reported.at(-1)!.cause as Error).message).toBe('MemoryStore is closed');
    }
  });

  it("a store's own typed error passes through unchanged and is reported; a throwing hook changes nothing", async () => {
    const failing = new MemoryStore();
    const typed = new ConfigurationError('table jwt_sessions is missing: run jwt-sessions migrate');
    failing.get = () => Promise.reject(typed);
    const { sessions, reported } = reportingSessions(failing);
    const pair = await sessions.login({});
    await expect(sessions.verifyAccess(pair.access)).rejects.toBe(typed);
    expect(reported).toEqual([typed]);

    const quiet = createSessions({
      keys: REPORTING_KEYS,
      store: failing,
      onError: () => {
        throw new Error('hook failure');
      },
    });
    await expect(quiet.verifyAccess(pair.access)).rejects.toBe(typed);
  });
});

const url = SERVICE_URLS.postgres;
const available = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
});

describeWithService(available)('onError with a real PostgresStore', () => {
  it('a missing table (never migrated): login fails and onError gets the error with its cause', async () => {
    const prefix = `onerr_${process.pid}_${Date.now().toString(36)}_`;
    const store = new PostgresStore({ connection: url, tablePrefix: prefix, timeoutMs: 3000 });
    const { sessions, reported } = reportingSessions(store);
    try {
      const error = await sessions.login({ namespace: 'u' }).then(
        () => undefined,
        (e: unknown) => e as JwtSessionsError,
      );
      expect(error).toBeDefined();
      expect(reported).toEqual([error]);
      // Whatever the store calls it (store_unavailable today, a configuration error naming the
      // table once the store says what broke), the driver's reason is reachable.
      expect(JSON.stringify([error!.message, String((error!.cause as Error | undefined)?.message)])).toMatch(
        /does not exist|missing|migrate/,
      );
    } finally {
      await sessions.close();
    }
  });
});

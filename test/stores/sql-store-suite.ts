/**
 * What every SQL store must do beyond the shared Store contract: schema and migration file,
 * table-prefix isolation, pruning, statements per operation, durability across store instances,
 * exact keys, and (for the networked ones, through a TCP proxy) failing closed within the timeout
 * and healing afterwards. Each `test/stores/<dialect>.test.ts` calls `describeSqlStore` once.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, StoreUnavailableError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import {
  COLUMNS,
  migrationSql,
  SCHEMA_VERSION,
  type SqlDialect,
  type SqlStore,
  type SqlStoreOptions,
  type SqlValue,
  sqlStatements,
} from '../../src/stores/sql/shared.js';
import type { StoredSession } from '../../src/stores/store.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { TcpProxy } from '../support/tcp-proxy.js';

export { record, T0 } from '../support/records.js';

import { record, T0 } from '../support/records.js';

export interface SqlTarget {
  /** Class name, e.g. `PostgresStore`. */
  name: string;
  dialect: SqlDialect;
  /** Opens a store; `url` (networked stores) points it at another address, e.g. a proxy. */
  open(options: SqlStoreOptions & { tablePrefix: string; url?: string }): SqlStore;
  /** One statement on a separate connection, for bookkeeping (counting rows, dropping tables). */
  raw(sql: string): Promise<Record<string, unknown>[]>;
  /** Several statements separated by `;` (a migration file). */
  rawScript(sql: string): Promise<void>;
  /** The query plan of a statement (after refreshing the table's statistics), as text. */
  plan(prefix: string, sql: string, params: SqlValue[]): Promise<string>;
  /** Statements `deleteNamespace`/`deleteAll` send. */
  countingDeleteStatements: number;
  /** The database server's URL, for the failure tests; absent for in-process databases. */
  serverUrl?: string;
}

export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}_`;
}

export async function dropTables(target: SqlTarget, prefix: string): Promise<void> {
  await target.raw(`DROP TABLE IF EXISTS ${prefix}sessions`);
  await target.raw(`DROP TABLE IF EXISTS ${prefix}dpop_proofs`);
  await target.raw(`DROP TABLE IF EXISTS ${prefix}schema_version`);
}

async function countRows(target: SqlTarget, prefix: string, where = '1 = 1'): Promise<number> {
  const [row] = await target.raw(`SELECT COUNT(*) AS n FROM ${prefix}sessions WHERE ${where}`);
  return Number(row?.['n']);
}

/** Rejection details of an operation, and how long it took to settle. */
async function settle(operation: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await operation().then(
    () => null,
    (reason: unknown) => reason,
  );
  return { error, ms: performance.now() - started };
}

export function describeSqlStore(target: SqlTarget): void {
  describeStoreContract(target.name, async () => {
    const prefix = uniquePrefix();
    const store = target.open({ tablePrefix: prefix });
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropTables(target, prefix);
      },
      twin: async () => target.open({ tablePrefix: prefix }),
    };
  });

  describe(`${target.name}: SQL specifics`, () => {
    const opened: { store: SqlStore; prefix: string }[] = [];
    /** A migrated store on a new prefix (or `prefix`); closed and dropped after the test. */
    async function fresh(
      options: Partial<SqlStoreOptions> & { tablePrefix?: string } = {},
    ): Promise<SqlStore> {
      const prefix = options.tablePrefix ?? uniquePrefix();
      const store = target.open({ ...options, tablePrefix: prefix });
      opened.push({ store, prefix });
      await store.migrate();
      return store;
    }
    afterEach(async () => {
      const prefixes = new Set<string>();
      for (const { store, prefix } of opened.splice(0)) {
        await store.close();
        prefixes.add(prefix);
      }
      for (const prefix of prefixes) await dropTables(target, prefix);
    });

    it('migrate() is idempotent, also concurrently, and refuses a database newer than the code', async () => {
      const store = await fresh();
      const prefix = store.tables.prefix;
      expect(await store.migrate()).toBe(SCHEMA_VERSION);
      const others = Array.from({ length: 3 }, () => target.open({ tablePrefix: prefix }));
      for (const other of others) opened.push({ store: other, prefix });
      expect(await Promise.all(others.map((other) => other.migrate()))).toEqual(
        Array(3).fill(SCHEMA_VERSION),
      );
      const [row] = await target.raw(`SELECT COUNT(*) AS n FROM ${prefix}schema_version`);
      expect(Number(row?.['n'])).toBe(1);

      const session = record();
      await store.create(session);
      expect(await store.migrate()).toBe(SCHEMA_VERSION);
      expect(await store.get(session.id, T0)).toEqual(session);

      await target.raw(`INSERT INTO ${prefix}schema_version (version) VALUES (${SCHEMA_VERSION + 1})`);
      await expect(store.migrate()).rejects.toBeInstanceOf(ConfigurationError);
    });

    it(`the shipped migrations/${target.dialect.name}.sql is the DDL migrate() runs, and applies by hand`, async () => {
      const file = new URL(`../../src/stores/sql/migrations/${target.dialect.name}.sql`, import.meta.url);
      const expected = migrationSql(target.dialect);
      if (process.env.WRITE_SQL_MIGRATIONS === '1') await writeFile(file, expected);
      expect(await readFile(file, 'utf8'), 'regenerate with WRITE_SQL_MIGRATIONS=1').toBe(expected);

      const prefix = uniquePrefix();
      await target.rawScript(expected.replaceAll('jwt_', prefix));
      const store = await fresh({ tablePrefix: prefix });
      const session = record({ namespace: 'by-hand' });
      await store.create(session);
      expect(await store.listNamespace('by-hand', T0)).toEqual([session]);
    });

    it('a schema v1 database (before the replay cache) migrates forward to v2, keeping its sessions', async () => {
      const prefix = uniquePrefix();
      // The v1 DDL: today's migration without the replay-cache table, recording version 1.
      const v1 = migrationSql(target.dialect, prefix)
        .split(';\n')
        .filter((statement) => !statement.includes('dpop_proofs'))
        .join(';\n')
        .replace(/VALUES \(2\)/, 'VALUES (1)');
      expect(v1).not.toContain('dpop_proofs');
      await target.rawScript(v1);
      const store = target.open({ tablePrefix: prefix });
      opened.push({ store, prefix });
      const session = record({ namespace: 'old' });
      await store.create(session);
      const [before] = await target.raw(`SELECT MAX(version) AS v FROM ${prefix}schema_version`);
      expect(Number(before?.['v'])).toBe(1);

      expect(await store.migrate()).toBe(2);
      expect(await store.get(session.id, T0)).toEqual(session);
      expect(await store.markProofUsed('proof-after-upgrade', T0 + 1000, T0)).toBe(true);
      expect(await store.markProofUsed('proof-after-upgrade', T0 + 1000, T0 + 1)).toBe(false);
    });

    it('prune() also removes expired replay-cache entries, and only those', async () => {
      const store = await fresh();
      const prefix = store.tables.prefix;
      for (let i = 0; i < 5; i++) await store.markProofUsed(`old-${i}`, T0 + 10, T0);
      await store.markProofUsed('live', T0 + 10_000, T0);
      expect(await store.prune(T0 + 10)).toBe(5);
      const [row] = await target.raw(`SELECT COUNT(*) AS n FROM ${prefix}dpop_proofs`);
      expect(Number(row?.['n'])).toBe(1);
      expect(await store.markProofUsed('live', T0 + 20_000, T0 + 11)).toBe(false);
    });

    it('tables are isolated by prefix', async () => {
      const a = await fresh();
      const b = await fresh();
      const session = record({ namespace: 'shared' });
      await a.create(session);
      await b.create({ ...session, data: 'b' });
      expect((await a.get(session.id, T0))?.data).toBe(session.data);
      expect((await b.get(session.id, T0))?.data).toBe('b');
      expect(await a.deleteAll(T0)).toBe(1);
      expect(await b.listNamespace('shared', T0)).toHaveLength(1);
    });

    it('refuses an unsafe table prefix before opening anything', () => {
      for (const tablePrefix of ['x; DROP TABLE y; --', '1abc_', 'a-b', '', 'x'.repeat(41)]) {
        expect(() => target.open({ tablePrefix })).toThrow(ConfigurationError);
      }
    });

    it('prune() deletes expired rows in bounded batches and keeps live ones', async () => {
      const store = await fresh({ pruneBatchSize: 100 });
      const prefix = store.tables.prefix;
      for (let i = 0; i < 250; i++) {
        await store.create(record({ namespace: i % 2 === 0 ? 'p' : null, expiresAt: T0 + 1 + (i % 50) }));
      }
      const live = [record({ namespace: 'p' }), record()];
      for (const session of live) await store.create(session);

      const before = store.statementCount;
      expect(await store.prune(T0 + 1000)).toBe(250);
      expect(store.statementCount - before).toBe(4); // sessions 100 + 100 + 50, then the empty replay table
      expect(await countRows(target, prefix)).toBe(2);
      expect(await store.prune(T0 + 1000)).toBe(0);
      for (const session of live) expect(await store.get(session.id, T0)).toEqual(session);
    });

    it('namespace and bulk deletes also clear expired rows; create takes over an expired id only', async () => {
      const store = await fresh();
      const prefix = store.tables.prefix;
      for (let i = 0; i < 3; i++) await store.create(record({ namespace: 'lazy', expiresAt: T0 + 10 }));
      await store.create(record({ namespace: 'lazy' }));
      expect(await store.deleteNamespace('lazy', T0 + 100)).toBe(1);
      expect(await countRows(target, prefix, "namespace = 'lazy'")).toBe(0);

      await store.create(record({ expiresAt: T0 + 10 }));
      await store.create(record());
      expect(await store.deleteAll(T0 + 100)).toBe(1);
      expect(await countRows(target, prefix)).toBe(0);

      const old = record({ namespace: 'before', expiresAt: T0 + 10 });
      await store.create(old);
      const reborn = record({ id: old.id, namespace: 'after', createdAt: T0 + 10, expiresAt: T0 + 500 });
      await store.create(reborn);
      expect(await store.get(old.id, T0 + 20)).toEqual(reborn);
      expect(await store.listNamespace('before', T0)).toEqual([]);
      await expect(store.create({ ...reborn, createdAt: T0 + 20, data: 'clash' })).rejects.toThrow(/clash/);
      expect(await store.get(old.id, T0 + 20)).toEqual(reborn);
    });

    it('namespace operations and prune run on their indexes, not a table scan', async () => {
      const store = await fresh();
      const prefix = store.tables.prefix;
      const rows = Array.from(
        { length: 3000 },
        (_, i) => `('id${i}', 'ns${i % 300}', 1, ${T0}, ${T0}, ${T0 + 1 + i}, FALSE, '{}')`,
      );
      await target.rawScript(`INSERT INTO ${prefix}sessions (${COLUMNS}) VALUES ${rows.join(', ')}`);
      const sql = sqlStatements(target.dialect, store.tables, 1000);
      for (const statement of [sql.listNamespace, sql.revokeNamespaceAccess, sql.deleteNamespace[0]!]) {
        expect(await target.plan(prefix, statement, ['ns7', T0])).toContain(`${prefix}sessions_namespace`);
      }
      expect(await target.plan(prefix, sql.prune, [T0 + 10])).toContain(`${prefix}sessions_expires`);
    });

    it(`one statement per operation (counting deletes: ${target.countingDeleteStatements})`, async () => {
      const store = await fresh();
      const session = record({ namespace: 'count' });
      const sent = async (operation: () => Promise<unknown>) => {
        const before = store.statementCount;
        await operation();
        return store.statementCount - before;
      };
      const counts = {
        create: await sent(() => store.create(session)),
        get: await sent(() => store.get(session.id, T0)),
        replace: await sent(() => store.replace({ ...session, version: 2 }, 1, T0)),
        staleReplace: await sent(() => store.replace({ ...session, version: 5 }, 1, T0)),
        touch: await sent(() => store.touch(session.id, T0 + 1, T0 + 70_000, T0 + 1)),
        listNamespace: await sent(() => store.listNamespace('count', T0)),
        revokeNamespaceAccess: await sent(() => store.revokeNamespaceAccess('count', T0)),
        delete: await sent(() => store.delete(session.id, T0)),
        deleteNamespace: await sent(() => store.deleteNamespace('count', T0)),
        deleteAll: await sent(() => store.deleteAll(T0)),
        impossibleId: await sent(() => store.get('x'.repeat(129), T0)),
      };
      const n = target.countingDeleteStatements;
      expect(counts).toEqual({
        create: 1,
        get: 1,
        replace: 1,
        staleReplace: 0,
        touch: 1,
        listNamespace: 1,
        revokeNamespaceAccess: 1,
        delete: 1,
        deleteNamespace: n,
        deleteAll: n,
        impossibleId: 0,
      });
    });

    it('durability: sessions written by one store instance are all there in a fresh instance', async () => {
      const first = await fresh();
      const prefix = first.tables.prefix;
      const written: StoredSession[] = [];
      for (let i = 0; i < 30; i++) {
        const session = record({ namespace: `user:${i % 3}`, createdAt: T0 + i });
        await first.create(session);
        written.push(session);
      }
      const replaced = { ...written[0]!, version: 2, data: '{"gen":2}', lastUsedAt: T0 + 50 };
      expect(await first.replace(replaced, 1, T0 + 50)).toBe(true);
      written[0] = replaced;
      expect(await first.revokeNamespaceAccess('user:1', T0 + 60)).toBe(10);
      for (const [i, session] of written.entries()) {
        if (session.namespace === 'user:1')
          written[i] = { ...session, version: session.version + 1, accessRevoked: true };
      }
      await first.close();

      const second = target.open({ tablePrefix: prefix });
      opened.push({ store: second, prefix });
      for (const session of written) expect(await second.get(session.id, T0 + 100)).toEqual(session);
      expect(await second.listNamespace('user:2', T0 + 100)).toEqual(
        written.filter((s) => s.namespace === 'user:2'),
      );
    });

    it('keys are exact (case, trailing spaces) and data is kept verbatim', async () => {
      const store = await fresh();
      const ids = ['AbC', 'abc', 'abc ', 'ÅbC'];
      const data = ['', '{"emoji":"🔑","rtl":"שלום"}', 'x'.repeat(200_000), ' padded  '];
      for (const [i, id] of ids.entries()) {
        await store.create(
          record({ id, namespace: ['N', 'n', 'n ', 'ñ'][i]!, data: data[i]!, createdAt: T0 + i }),
        );
      }
      for (const [i, id] of ids.entries()) expect((await store.get(id, T0))?.data).toBe(data[i]);
      expect((await store.listNamespace('n', T0)).map((s) => s.id)).toEqual(['abc']);
      expect(await store.deleteNamespace('n ', T0)).toBe(1);
      expect(await store.get('abc ', T0)).toBeNull();
      expect(await store.get('abc', T0)).not.toBeNull();
    });

    it('[C2] listNamespacePage reads one page in (created_at, id) order from a position, live rows only', async () => {
      const store = await fresh();
      const rows = [
        record({ id: 'b', namespace: 'paged', createdAt: T0 }),
        record({ id: 'a', namespace: 'paged', createdAt: T0 }),
        record({ id: 'c', namespace: 'paged', createdAt: T0 + 1 }),
        record({ id: 'd', namespace: 'paged', createdAt: T0 + 2, expiresAt: T0 }), // expired
        record({ id: 'e', namespace: 'paged', createdAt: T0 + 3 }),
        record({ id: 'f', namespace: 'other', createdAt: T0 }),
      ];
      for (const row of rows) await store.create(row);
      const ids = async (after: { createdAt: number; id: string } | null, limit = 2) =>
        (await store.listNamespacePage('paged', T0, { limit, after })).map((r) => r.id);
      expect(await ids(null)).toEqual(['a', 'b']);
      expect(await ids({ createdAt: T0, id: 'b' })).toEqual(['c', 'e']);
      expect(await ids({ createdAt: T0 + 1, id: 'c' })).toEqual(['e']);
      expect(await ids({ createdAt: T0 + 3, id: 'e' })).toEqual([]);
      expect(await ids(null, 10)).toEqual((await store.listNamespace('paged', T0)).map((r) => r.id));
      await expect(store.listNamespacePage('paged', T0, { limit: 0, after: null })).rejects.toThrow(
        TypeError,
      );
    });

    it('checks arguments, and fails closed once closed', async () => {
      const store = await fresh();
      await expect(store.get('id', Number.NaN)).rejects.toBeInstanceOf(TypeError);
      await expect(store.touch('id', 1.5, 2, 3)).rejects.toBeInstanceOf(TypeError);
      await expect(store.get(42 as unknown as string, T0)).rejects.toBeInstanceOf(TypeError);
      expect(await store.listNamespace('x'.repeat(257), T0)).toEqual([]);
      await store.close();
      await expect(store.get('id', T0)).rejects.toMatchObject({ code: 'store_unavailable' });
      await store.close(); // idempotent
    });
  });

  if (target.serverUrl !== undefined) describeFailures(target, target.serverUrl);
}

/** Failure and recovery, through a proxy in front of the real server (which stays up for others). */
function describeFailures(target: SqlTarget, serverUrl: string): void {
  describe(`${target.name}: failing closed and recovering (TCP proxy)`, () => {
    const timeoutMs = 500;
    /** Scheduling slack on a loaded CI machine; a hang would take far longer. */
    const slackMs = 600;
    const prefix = uniquePrefix();
    const reported: unknown[] = [];
    const escaped: unknown[] = [];
    const onEscape = (reason: unknown) => escaped.push(reason);
    let proxy: TcpProxy;
    let store: SqlStore;
    const extra: { store: SqlStore; prefix: string }[] = [];

    beforeAll(async () => {
      process.on('unhandledRejection', onEscape);
      process.on('uncaughtException', onEscape);
      proxy = await TcpProxy.forUrl(serverUrl);
      store = target.open({
        tablePrefix: prefix,
        timeoutMs,
        url: proxy.rewrite(serverUrl),
        onError: (error) => reported.push(error),
      });
      await store.migrate();
    });
    afterEach(async () => {
      await proxy.resume();
      for (const other of extra.splice(0)) {
        await other.store.close();
        await dropTables(target, other.prefix);
      }
    });
    afterAll(async () => {
      await store?.close();
      await proxy?.close();
      await dropTables(target, prefix);
      process.off('unhandledRejection', onEscape);
      process.off('uncaughtException', onEscape);
      expect(escaped).toEqual([]);
    });

    /** Every operation the engine uses, against a session that exists. */
    function everyOperation(session: StoredSession): (() => Promise<unknown>)[] {
      return [
        () => store.create(record()),
        () => store.get(session.id, T0),
        () => store.replace({ ...session, version: 2 }, 1, T0),
        () => store.touch(session.id, T0 + 1, T0 + 90_000, T0 + 1),
        () => store.delete(session.id, T0),
        () => store.deleteNamespace('fail', T0),
        () => store.revokeNamespaceAccess('fail', T0),
        () => store.listNamespace('fail', T0),
        () => store.deleteAll(T0),
        () => store.prune(T0),
      ];
    }

    async function expectFailClosed(
      operations: (() => Promise<unknown>)[],
      parallel: boolean,
    ): Promise<number> {
      const outcomes = parallel
        ? await Promise.all(operations.map((operation) => settle(operation)))
        : await operations.reduce<Promise<{ error: unknown; ms: number }[]>>(
            async (done, operation) => [...(await done), await settle(operation)],
            Promise.resolve([]),
          );
      for (const { error, ms } of outcomes) {
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error).toMatchObject({ code: 'store_unavailable', status: 503 });
        expect(ms).toBeLessThan(timeoutMs + slackMs);
      }
      return Math.max(...outcomes.map((o) => o.ms));
    }

    async function seed(): Promise<StoredSession> {
      const session = record({ namespace: 'fail' });
      await store.create(session);
      // A few pooled connections, so both reused and new connections are exercised.
      await Promise.all(Array.from({ length: 4 }, () => store.get(session.id, T0)));
      return session;
    }

    it('refused: every operation fails with store_unavailable promptly; the same store works on resume', async () => {
      const session = await seed();
      await proxy.refuse();
      const slowest = await expectFailClosed(everyOperation(session), false);
      expect(slowest).toBeLessThan(timeoutMs + slackMs);
      await proxy.resume();
      expect(await store.get(session.id, T0)).toEqual(session);
      expect(await Promise.all(Array.from({ length: 12 }, () => store.get(session.id, T0)))).toEqual(
        Array.from({ length: 12 }, () => session),
      );
    });

    it('black hole: operations fail with store_unavailable within the timeout (no hang); then recover', async () => {
      const session = await seed();
      proxy.pause();
      // More operations than pooled connections: some wait for a connection, some for a reply.
      const operations = [...everyOperation(session), ...everyOperation(session)];
      const slowest = await expectFailClosed(operations, true);
      expect(slowest).toBeGreaterThanOrEqual(timeoutMs - 50); // it really waited for the timeout
      // Still black-holed: a second wave fails the same way (no stuck queue behind the first).
      await expectFailClosed(everyOperation(session).slice(0, 4), true);
      await proxy.resume();
      expect(await store.get(session.id, T0)).toEqual(session);
      const burst = await Promise.all(Array.from({ length: 15 }, () => store.get(session.id, T0)));
      expect(burst.every((s) => s?.id === session.id)).toBe(true);
      expect(await store.replace({ ...session, version: 2 }, 1, T0)).toBe(true);
    });

    it('idle pooled connections reset under the pool: no crash, the next operation reconnects', async () => {
      const session = await seed();
      const accepted = proxy.accepted;
      await proxy.refuse();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await proxy.resume();
      expect(await store.get(session.id, T0)).toEqual(session);
      expect(proxy.accepted).toBeGreaterThan(accepted); // it had to open a new connection
    });

    it('database down when the store starts: migrate() fails closed, then succeeds once it is up', async () => {
      await proxy.refuse();
      const other = uniquePrefix();
      const late = target.open({ tablePrefix: other, timeoutMs, url: proxy.rewrite(serverUrl) });
      extra.push({ store: late, prefix: other });
      await expectFailClosed([() => late.migrate(), () => late.get('x', T0)], false);
      await proxy.resume();
      expect(await late.migrate()).toBe(SCHEMA_VERSION);
      const session = record();
      await late.create(session);
      expect(await late.get(session.id, T0)).toEqual(session);
    });

    it('the engine over the store answers 503 while the database is away and heals by itself', async () => {
      const sessions = createSessions({
        keys: { signing: { alg: 'HS256', key: 'sql-failure-suite-secret-0123456789abcdef', kid: 'k1' } },
        store,
      });
      const pair = await sessions.login({ namespace: 'engine' });
      for (const outage of ['refuse', 'pause'] as const) {
        if (outage === 'refuse') await proxy.refuse();
        else proxy.pause();
        for (const attempt of [
          () => sessions.verifyAccess(pair.access),
          () => sessions.refresh(pair.refresh),
        ]) {
          const { error, ms } = await settle(attempt);
          expect(error).toMatchObject({ code: 'store_unavailable', status: 503 });
          expect(ms).toBeLessThan(timeoutMs + slackMs);
        }
        await proxy.resume();
      }
      await expect(sessions.verifyAccess(pair.access)).resolves.toMatchObject({ sessionId: pair.sessionId });
      const next = await sessions.refresh(pair.refresh);
      await expect(sessions.verifyAccess(next.access)).resolves.toMatchObject({ sessionId: pair.sessionId });
    });
  });
}

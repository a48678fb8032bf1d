import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/stores/sql/shared.js';
import { SqliteStore, sqliteDialect } from '../../src/stores/sql/sqlite.js';
import type { Store, StoredSession } from '../../src/stores/store.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { describeSqlStore, dropTables, record, type SqlTarget, T0, uniquePrefix } from './sql-store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'jwt-sessions-sqlite-'));
const file = join(dir, 'sessions.db');
/** Bookkeeping connection of the tests themselves (never the store's). */
const admin = new Database(file, { timeout: 5000 });
admin.pragma('journal_mode = WAL');
afterAll(() => {
  admin.close();
  rmSync(dir, { recursive: true, force: true });
});

const target: SqlTarget = {
  name: 'SqliteStore',
  dialect: sqliteDialect,
  open: ({ url: _url, ...options }) => new SqliteStore({ ...options, filename: file }),
  raw: async (sql) => {
    const statement = admin.prepare(sql);
    if (statement.reader) return statement.all() as Record<string, unknown>[];
    statement.run();
    return [];
  },
  rawScript: async (sql) => {
    admin.exec(sql);
  },
  plan: async (_prefix, sql, params) => {
    admin.exec('ANALYZE');
    const rows = admin.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[];
    return rows.map((row) => row.detail).join('\n');
  },
  countingDeleteStatements: 2,
};
describeSqlStore(target);

/** Alternates every call between two stores on one file: each sees the other's writes at once. */
class TwoConnections implements Store {
  #turn = 0;
  constructor(
    readonly a: SqliteStore,
    readonly b: SqliteStore,
  ) {}
  #next(): Store {
    this.#turn++;
    return this.#turn % 2 === 0 ? this.a : this.b;
  }
  create(session: StoredSession) {
    return this.#next().create(session);
  }
  get(id: string, now: number) {
    return this.#next().get(id, now);
  }
  replace(next: StoredSession, expectedVersion: number, now: number) {
    return this.#next().replace(next, expectedVersion, now);
  }
  touch(id: string, lastUsedAt: number, expiresAt: number, now: number) {
    return this.#next().touch(id, lastUsedAt, expiresAt, now);
  }
  delete(id: string, now: number) {
    return this.#next().delete(id, now);
  }
  deleteNamespace(namespace: string, now: number) {
    return this.#next().deleteNamespace(namespace, now);
  }
  deleteAll(now: number) {
    return this.#next().deleteAll(now);
  }
  revokeNamespaceAccess(namespace: string, now: number) {
    return this.#next().revokeNamespaceAccess(namespace, now);
  }
  listNamespace(namespace: string, now: number) {
    return this.#next().listNamespace(namespace, now);
  }
  markProofUsed(key: string, expiresAt: number, now: number) {
    return this.#next().markProofUsed(key, expiresAt, now);
  }
  createCapped(session: StoredSession, cap: number, now: number) {
    return (this.#turn++ % 2 === 0 ? this.a : this.b).createCapped(session, cap, now);
  }
  async close() {
    await this.a.close();
    await this.b.close();
  }
}

describeStoreContract('SqliteStore (two connections, one file)', async () => {
  const prefix = uniquePrefix();
  const a = new SqliteStore({ filename: file, tablePrefix: prefix });
  const b = new SqliteStore({ filename: file, tablePrefix: prefix });
  await a.migrate();
  const store = new TwoConnections(a, b);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropTables(target, prefix);
    },
  };
});

interface Worker {
  /** Resolves once the process printed its first line (it is loaded and waiting). */
  ready: Promise<void>;
  go(): void;
  /** Resolves what the process printed after its first line. */
  done: Promise<string>;
}

/** A module in a separate Node process (TypeScript through tsx) that waits for `go` on stdin. */
function startWorker(source: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      markReady();
      if (code === 0) resolve(out.slice(out.indexOf('\n') + 1));
      else reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
  return { ready, done, go: () => child.stdin.end('go\n') };
}

describe('SqliteStore specifics', () => {
  it('uses WAL on files, and works on :memory:', async () => {
    expect(admin.pragma('journal_mode', { simple: true })).toBe('wal');
    const store = new SqliteStore({ filename: ':memory:' });
    expect(await store.migrate()).toBe(SCHEMA_VERSION);
    const session = record();
    await store.create(session);
    expect(await store.get(session.id, T0)).toEqual(session);
    await store.close();
  });

  it('4 processes racing compare-and-swap on one file: exactly one winner per session', async () => {
    const prefix = uniquePrefix();
    const store = new SqliteStore({ filename: file, tablePrefix: prefix });
    await store.migrate();
    const sessions = Array.from({ length: 150 }, () => record());
    for (const session of sessions) await store.create(session);
    const moduleUrl = new URL('../../src/stores/sql/sqlite.ts', import.meta.url).href;
    // Every process tries version 1 -> 2 on every session once all are loaded; two go forwards,
    // two backwards, so pairs race for the same row while the pairs meet in the middle.
    const source = `
      import { once } from 'node:events';
      import { SqliteStore } from ${JSON.stringify(moduleUrl)};
      const { FILE, PREFIX, SESSIONS, WORKER } = process.env;
      const store = new SqliteStore({ filename: FILE, tablePrefix: PREFIX, timeoutMs: 10000 });
      const sessions = JSON.parse(SESSIONS);
      if (Number(WORKER.slice(1)) % 2 === 1) sessions.reverse();
      process.stdout.write('ready\\n');
      await once(process.stdin, 'data');
      const wins = [];
      for (const session of sessions) {
        if (await store.replace({ ...session, version: 2, data: WORKER }, 1, ${T0})) wins.push(session.id);
      }
      await store.close();
      process.stdout.write(JSON.stringify(wins));`;
    const names = ['w0', 'w1', 'w2', 'w3'];
    const workers = names.map((worker) =>
      startWorker(source, { FILE: file, PREFIX: prefix, SESSIONS: JSON.stringify(sessions), WORKER: worker }),
    );
    await Promise.all(workers.map((worker) => worker.ready));
    for (const worker of workers) worker.go();
    const outputs = await Promise.all(workers.map((worker) => worker.done));
    const winsBy = outputs.map((out) => JSON.parse(out) as string[]);
    expect(winsBy.flat().sort()).toEqual(sessions.map((s) => s.id).sort());
    for (const session of sessions) {
      const winner = names.find((_, i) => winsBy[i]!.includes(session.id));
      expect(await store.get(session.id, T0)).toEqual({ ...session, version: 2, data: winner });
    }
    await store.close();
    await dropTables(target, prefix);
  }, 60_000);

  it('a writer holding the lock: writes fail closed within the busy timeout, reads go on, then recover', async () => {
    const prefix = uniquePrefix();
    const store = new SqliteStore({ filename: file, tablePrefix: prefix, timeoutMs: 300 });
    await store.migrate();
    const session = record();
    await store.create(session);
    const blocker = new Database(file);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      const started = performance.now();
      await expect(store.replace({ ...session, version: 2 }, 1, T0)).rejects.toMatchObject({
        code: 'store_unavailable',
      });
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(1500);
      expect(await store.get(session.id, T0)).toEqual(session); // WAL: readers never wait
    } finally {
      blocker.exec('COMMIT');
      blocker.close();
    }
    expect(await store.replace({ ...session, version: 2 }, 1, T0)).toBe(true);
    await store.close();
    await dropTables(target, prefix);
  });
});

/**
 * SQLite store (`better-sqlite3`), on a file or `:memory:`. Statements run synchronously in-process
 * and SQLite serialises writers with its database lock, so every statement is atomic, including
 * across several stores or processes on one file. Files use WAL (readers never wait for the writer)
 * and a busy timeout of `timeoutMs`: a writer that cannot get the lock in time fails with
 * `StoreUnavailableError`. The wait blocks the event loop (better-sqlite3 is synchronous), so keep
 * `timeoutMs` small when several processes write to one file.
 */
import Database from 'better-sqlite3';
import { ConfigurationError, StoreConfigurationError } from '../../errors.js';
import { driverReason, type StoreMisconfiguration } from '../errors.js';
import { replayMigration } from './replay.js';
import {
  RequiredStepFailed,
  recentUseOrder,
  returningTrim,
  SCHEMA_VERSION,
  type SqlDialect,
  type SqlDriver,
  type SqlResult,
  type SqlStep,
  SqlStore,
  type SqlStoreOptions,
  type SqlValue,
} from './shared.js';

export type { SqlStoreOptions } from './shared.js';

export interface SqliteStoreOptions extends SqlStoreOptions {
  /** A database file path (created if missing), or `:memory:` for a private in-memory database. */
  filename: string;
  /**
   * `FULL` (default): a commit survives a power loss. `NORMAL`: faster in WAL mode, survives an
   * application crash but may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  param: () => '?',
  migration: ({ sessions, schema, prefix }) => [
    `CREATE TABLE IF NOT EXISTS ${sessions} (
  id TEXT NOT NULL PRIMARY KEY,
  namespace TEXT,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  access_revoked INTEGER NOT NULL,
  data TEXT NOT NULL
) STRICT`,
    `CREATE INDEX IF NOT EXISTS ${sessions}_namespace ON ${sessions} (namespace, expires_at)`,
    `CREATE INDEX IF NOT EXISTS ${sessions}_expires ON ${sessions} (expires_at)`,
    ...replayMigration('sqlite', { prefix }),
    `CREATE TABLE IF NOT EXISTS ${schema} (version INTEGER NOT NULL PRIMARY KEY) STRICT`,
    `INSERT OR IGNORE INTO ${schema} (version) VALUES (${SCHEMA_VERSION})`,
  ],
  create: ({ sessions }) =>
    `INSERT INTO ${sessions} (id, namespace, version, created_at, last_used_at, expires_at, access_revoked, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, version = excluded.version,
  created_at = excluded.created_at, last_used_at = excluded.last_used_at, expires_at = excluded.expires_at,
  access_revoked = excluded.access_revoked, data = excluded.data
WHERE ${sessions}.expires_at <= excluded.created_at`,
  trimToCap: ({ sessions }, cap) =>
    returningTrim(sessions, 'namespace = ? AND expires_at > ?', `${recentUseOrder()} LIMIT -1 OFFSET ${cap}`),
  prune: ({ sessions }, batch) =>
    `DELETE FROM ${sessions} WHERE rowid IN (SELECT rowid FROM ${sessions} WHERE expires_at <= ? LIMIT ${batch})`,
};

/** SQLite result codes that mean "fix the configuration"; a missing table is SQLITE_ERROR "no such table". */
const MISCONFIGURATIONS: Record<string, StoreMisconfiguration> = {
  SQLITE_NOTADB: 'database_unknown',
  SQLITE_CANTOPEN: 'database_unknown',
  SQLITE_READONLY: 'access_denied',
  SQLITE_PERM: 'access_denied',
  SQLITE_AUTH: 'access_denied',
};

class SqliteDriver implements SqlDriver {
  readonly inProcess = true;
  readonly where: string;
  readonly sharedDatabase: boolean;
  readonly #db: Database.Database;
  readonly #prepared = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions, timeoutMs: number) {
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw new ConfigurationError("synchronous must be 'FULL' or 'NORMAL'");
    }
    this.where = `sqlite:${options.filename}`;
    this.sharedDatabase = options.filename !== ':memory:' && options.filename !== '';
    try {
      this.#db = new Database(options.filename, { timeout: timeoutMs });
      if (this.#db.memory === false) this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${synchronous}`);
    } catch (error) {
      // A file in a missing directory, a file that is not a database, no permission: say which.
      throw new StoreConfigurationError(
        `${this.where}: cannot open the database (${driverReason(error)}); correct the path or its permissions`,
        { cause: error },
      );
    }
  }

  misconfiguration(error: unknown): StoreMisconfiguration | null {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (code === 'SQLITE_ERROR' && typeof message === 'string' && message.startsWith('no such table'))
      return 'schema_missing';
    return (typeof code === 'string' && MISCONFIGURATIONS[code]) || null;
  }

  query(sql: string, params: readonly SqlValue[]) {
    try {
      return Promise.resolve(this.#run(sql, params));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Synchronous, IMMEDIATE (the database's write lock, across processes): the lock name is not needed. */
  transaction(_lock: string, steps: readonly SqlStep[]) {
    try {
      const results = this.#db
        .transaction(() =>
          steps.map((step) => {
            const result = this.#run(step.sql, step.params);
            if (step.required && result.affected === 0) throw new RequiredStepFailed();
            return result;
          }),
        )
        .immediate();
      return Promise.resolve(results);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #run(sql: string, params: readonly SqlValue[]): SqlResult {
    const statement = this.#statement(sql);
    const values = params.map((value) => (typeof value === 'boolean' ? Number(value) : value));
    if (statement.reader) return { rows: statement.all(values) as Record<string, unknown>[], affected: 0 };
    return { rows: [], affected: statement.run(values).changes };
  }

  script(statements: readonly string[]) {
    try {
      // IMMEDIATE: take the write lock first, so concurrent migrators queue instead of failing.
      this.#db
        .transaction(() => {
          for (const sql of statements) this.#db.exec(sql);
        })
        .immediate();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close() {
    this.#prepared.clear();
    this.#db.close();
    return Promise.resolve();
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#prepared.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return statement;
  }
}

export class SqliteStore extends SqlStore {
  constructor(options: SqliteStoreOptions) {
    const timeoutMs = SqlStore.checkOptions(options);
    super(new SqliteDriver(options, timeoutMs), sqliteDialect, options);
  }
}

/**
 * The one shape behind the three SQL stores. A dialect supplies only what really differs between
 * PostgreSQL, MySQL/MariaDB and SQLite (placeholders, the insert-or-take-over-expired upsert, the
 * batched prune, the DDL, optionally single-statement counting deletes); a driver runs one
 * statement against its client library. Everything else lives here once: the statements the
 * dialects share, parameter order, row <-> `StoredSession` mapping, validation, the per-operation
 * deadline, error wrapping (fail closed with `StoreUnavailableError`), statement counting, pruning.
 *
 * Atomicity: every operation is one statement, except the counting deletes of the dialects without
 * a single-statement form, which run the counted delete (live rows only) and then, separately, a
 * clean-up of that scope's expired rows. The count comes from the first statement alone, so the
 * clean-up cannot change a result. `replace` is a conditional UPDATE (compare-and-swap on
 * `version`, live rows only) whose affected-row count is the answer: the database's row lock or
 * write lock serialises racing writers and the loser's WHERE no longer matches.
 */
import { ConfigurationError, JwtSessionsError, StoreUnavailableError } from '../../errors.js';
import { type StoreMisconfiguration, storeError } from '../errors.js';
import {
  assertCappedCreate,
  assertReplayEntry,
  assertStoredSession,
  type NamespacePage,
  type Store,
  type StoredSession,
} from '../store.js';
import { markProofSql, pruneProofsSql } from './replay.js';

/**
 * Bumped when the DDL changes; `migrate()` refuses a database newer than the code. Every migration
 * is idempotent DDL (`IF NOT EXISTS`), so `migrate()` brings any older schema forward.
 * v2: the DPoP replay-cache table (replay.ts).
 */
export const SCHEMA_VERSION = 2;

export type SqlValue = string | number | boolean | null;

export interface SqlResult {
  readonly rows: readonly Record<string, unknown>[];
  /** Rows inserted/updated/deleted by the statement (0 for a SELECT). */
  readonly affected: number;
}

/** Runs statements on one client library. Only the dialect files implement it. */
export interface SqlDriver {
  /** True when statements run synchronously in-process (SQLite): no timer race is needed. */
  readonly inProcess: boolean;
  /** Where the database is, without secrets, as a store URL (`postgres://app@db:5432/app`). */
  readonly where: string;
  /** False for a private database nothing else can reach (SQLite `:memory:`): only `migrate()` creates its tables. */
  readonly sharedDatabase: boolean;
  /** What the driver recognises in one of its errors: a missing table, an unknown database, refused access. */
  misconfiguration(error: unknown): StoreMisconfiguration | null;
  /** One parameterised statement. Must not start it once `deadline` (epoch ms) has passed. */
  query(sql: string, params: readonly SqlValue[], deadline: number): Promise<SqlResult>;
  /** The migration statements, in order (one transaction where the database allows it). */
  script(statements: readonly string[], deadline: number): Promise<void>;
  /**
   * Parameterised statements in one transaction that holds an exclusive lock named `lock` (every
   * transaction given the same name, from any process, waits for it). A `required` step that
   * affects no row throws `RequiredStepFailed` and rolls everything back. Resolves each step's result.
   */
  transaction(lock: string, steps: readonly SqlStep[], deadline: number): Promise<SqlResult[]>;
  close(): Promise<void>;
}

export interface SqlStep {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /** Roll back unless this statement affects a row. */
  readonly required?: boolean;
}

/** A `required` transaction step affected no row; the transaction was rolled back. */
export class RequiredStepFailed extends Error {
  constructor() {
    super('a required statement affected no row');
  }
}

/** One statement of the cap's trim: its SQL, its parameters, and whether its rows are the ids ended. */
export interface CapStatement {
  readonly sql: string;
  readonly params: (namespace: string, now: number) => SqlValue[];
  readonly returnsIds: boolean;
}

export interface SqlTables {
  readonly prefix: string;
  readonly sessions: string;
  readonly schema: string;
}

/** What differs between SQL dialects; every method returns hand-written SQL. */
export interface SqlDialect {
  readonly name: 'postgres' | 'mysql' | 'sqlite';
  /** The placeholder of the i-th (1-based) parameter. */
  param(index: number): string;
  /** The schema, statement by statement: `migrate()` runs it and the migration file is its text. */
  migration(tables: SqlTables): readonly string[];
  /**
   * Inserts a session, or takes over a row with the same id that expired at or before the new
   * `created_at`. Parameters: the eight columns in `COLUMNS` order. Zero affected rows = the id
   * belongs to a live session.
   */
  create(tables: SqlTables): string;
  /** Deletes at most `batch` rows with `expires_at <= $1`. */
  prune(tables: SqlTables, batch: number): string;
  /**
   * Counting deletes: the first statement's affected rows are the live rows ended; any further
   * statement only removes expired leftovers. Parameters `[namespace, now]` / `[now]`.
   * Default: delete the live rows, then the expired ones.
   */
  deleteNamespace?(tables: SqlTables): readonly string[];
  deleteAll?(tables: SqlTables): readonly string[];
  /**
   * Ends a namespace's live sessions beyond the `cap` most recently used (lastUsedAt, createdAt,
   * id, descending, ids in byte order) and yields their ids; runs after the insert, in its
   * transaction, under the namespace's lock.
   */
  trimToCap(tables: SqlTables, cap: number): readonly CapStatement[];
}

/** The ranking of the cap, most recently used first (ids compared as bytes: `idOrder`). */
export function recentUseOrder(idOrder = 'id'): string {
  return `ORDER BY last_used_at DESC, created_at DESC, ${idOrder} DESC`;
}

/** The cap's trim for dialects with `DELETE ... RETURNING` and a subquery on the same table. */
export function returningTrim(sessions: string, live: string, rest: string): CapStatement[] {
  return [
    {
      sql: `DELETE FROM ${sessions} WHERE id IN (SELECT id FROM ${sessions} WHERE ${live} ${rest}) RETURNING id`,
      params: (namespace, now) => [namespace, now],
      returnsIds: true,
    },
  ];
}

export interface SqlStoreOptions {
  /**
   * Prefix of the table names: `${tablePrefix}sessions` and `${tablePrefix}schema_version`.
   * Letters, digits and `_`, starting with a letter or `_`, at most 40 characters. Default `jwt_`.
   */
  tablePrefix?: string;
  /**
   * Upper bound of each operation in milliseconds, connection acquisition included; past it the
   * operation fails with `StoreUnavailableError`. Also the connect, statement and busy timeouts of
   * the driver. Default 2000.
   */
  timeoutMs?: number;
  /** Rows deleted per `prune` batch. Default 1000. */
  pruneBatchSize?: number;
  /** Runs `prune(Date.now())` in the background at this interval (unref'd timer). Default: off. */
  pruneIntervalMs?: number;
  /** Errors outside any operation (an idle connection dropped, a background prune failing). */
  onError?: (error: unknown) => void;
}

/** The column list every SELECT and INSERT uses, in `StoredSession` order. */
export const COLUMNS = 'id, namespace, version, created_at, last_used_at, expires_at, access_revoked, data';

export interface SqlStatements {
  readonly create: string;
  readonly get: string;
  readonly replace: string;
  readonly touch: string;
  readonly delete: string;
  readonly deleteNamespace: readonly string[];
  readonly deleteAll: readonly string[];
  readonly revokeNamespaceAccess: string;
  readonly listNamespace: string;
  /** Without its LIMIT, which `listNamespacePage` appends as a checked integer. */
  readonly listNamespacePage: string;
  readonly prune: string;
  readonly schemaVersion: string;
}

const PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

export function sqlTables(prefix = 'jwt_'): SqlTables {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ConfigurationError('tablePrefix must be 1-40 letters, digits or _, not starting with a digit');
  }
  return { prefix, sessions: `${prefix}sessions`, schema: `${prefix}schema_version` };
}

/** Builds every statement of a dialect for one pair of tables. */
export function sqlStatements(dialect: SqlDialect, tables: SqlTables, pruneBatch: number): SqlStatements {
  const $ = (index: number) => dialect.param(index);
  const t = tables.sessions;
  // Parameters: (key, now) for the keyed statements, where key is an id or a namespace.
  const live = `expires_at > ${$(2)}`;
  return {
    create: dialect.create(tables),
    get: `SELECT ${COLUMNS} FROM ${t} WHERE id = ${$(1)} AND ${live}`,
    // (version, created_at, last_used_at, expires_at, access_revoked, data, id, expected version, now)
    replace:
      `UPDATE ${t} SET version = ${$(1)}, created_at = ${$(2)}, last_used_at = ${$(3)}, expires_at = ${$(4)}, ` +
      `access_revoked = ${$(5)}, data = ${$(6)} WHERE id = ${$(7)} AND version = ${$(8)} AND expires_at > ${$(9)}`,
    // (last_used_at, expires_at, id, now)
    touch: `UPDATE ${t} SET last_used_at = ${$(1)}, expires_at = ${$(2)} WHERE id = ${$(3)} AND expires_at > ${$(4)}`,
    delete: `DELETE FROM ${t} WHERE id = ${$(1)} AND ${live}`,
    deleteNamespace: dialect.deleteNamespace?.(tables) ?? [
      `DELETE FROM ${t} WHERE namespace = ${$(1)} AND ${live}`,
      `DELETE FROM ${t} WHERE namespace = ${$(1)} AND expires_at <= ${$(2)}`,
    ],
    // (now)
    deleteAll: dialect.deleteAll?.(tables) ?? [
      `DELETE FROM ${t} WHERE expires_at > ${$(1)}`,
      `DELETE FROM ${t} WHERE expires_at <= ${$(1)}`,
    ],
    revokeNamespaceAccess: `UPDATE ${t} SET access_revoked = TRUE, version = version + 1 WHERE namespace = ${$(1)} AND ${live}`,
    listNamespace: `SELECT ${COLUMNS} FROM ${t} WHERE namespace = ${$(1)} AND ${live} ORDER BY created_at, id`,
    // (namespace, now, after created_at, after created_at, after id): the same order, from a
    // position on (created_at twice: `?` dialects number their parameters by position).
    listNamespacePage:
      `SELECT ${COLUMNS} FROM ${t} WHERE namespace = ${$(1)} AND ${live} ` +
      `AND (created_at > ${$(3)} OR (created_at = ${$(4)} AND id > ${$(5)})) ORDER BY created_at, id`,
    prune: dialect.prune(tables, pruneBatch),
    schemaVersion: `SELECT MAX(version) AS version FROM ${tables.schema}`,
  };
}

/** The migration of a dialect as a CLI-friendly SQL file (what `migrations/<dialect>.sql` holds). */
export function migrationSql(dialect: SqlDialect, tablePrefix = 'jwt_'): string {
  const header =
    `-- jwt-sessions schema v${SCHEMA_VERSION} for ${dialect.name}, tables prefixed "${tablePrefix}".\n` +
    '-- Generated from src/stores/sql/' +
    `${dialect.name}.ts (the store's migrate() runs the same statements); idempotent.\n`;
  return `${header}\n${dialect.migration(sqlTables(tablePrefix)).join(';\n\n')};\n`;
}

interface DeadlineHooks<T> {
  /** Runs when the deadline wins (e.g. destroy the connection the work is stuck on). */
  onTimeout?: () => void;
  /** Receives a value that arrived after the deadline (e.g. release a late connection). */
  late?: (value: T) => void;
}

/** An operation ran past its deadline; the store reports it as unavailable, naming itself. */
export class DeadlineExceeded extends Error {
  constructor() {
    super('no answer before the operation deadline');
  }
}

/**
 * Settles with `work`, or rejects with `DeadlineExceeded` at `deadline`. Whatever `work` does
 * afterwards is absorbed (never an unhandled rejection).
 */
export function withDeadline<T>(
  work: Promise<T>,
  deadline: number,
  hooks: DeadlineHooks<T> = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        hooks.onTimeout?.();
        reject(new DeadlineExceeded());
      },
      Math.max(0, deadline - Date.now()),
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) hooks.late?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function integer(value: unknown): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' || typeof value === 'bigint'
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new TypeError(`not a safe integer column value: ${String(value)}`);
  return n;
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  // MySQL returns VARBINARY columns (id, namespace) as bytes.
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  throw new TypeError('not a text column value');
}

function toSession(row: Record<string, unknown>): StoredSession {
  return {
    id: text(row['id']),
    namespace: row['namespace'] === null ? null : text(row['namespace']),
    version: integer(row['version']),
    createdAt: integer(row['created_at']),
    lastUsedAt: integer(row['last_used_at']),
    expiresAt: integer(row['expires_at']),
    accessRevoked: row['access_revoked'] === true || row['access_revoked'] === 1,
    data: text(row['data']),
  };
}

/** A session's column values in `COLUMNS` order. */
function sessionColumns(session: StoredSession): SqlValue[] {
  return [
    session.id,
    session.namespace,
    session.version,
    session.createdAt,
    session.lastUsedAt,
    session.expiresAt,
    session.accessRevoked,
    session.data,
  ];
}

function checkTime(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${name} must be an integer number of milliseconds`);
}

/** A key that no stored row can have (wrong type is a programming error, too long is simply absent). */
function absentKey(name: string, value: string, maxLength: number): boolean {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return value.length === 0 || value.length > maxLength;
}

/**
 * A `Store` over SQL. The dialect classes (`PostgresStore`, `MySqlStore`, `SqliteStore`) only pick a
 * driver and a dialect; all behaviour is here.
 */
export class SqlStore implements Store {
  readonly tables: SqlTables;
  readonly dialect: SqlDialect['name'];
  readonly #driver: SqlDriver;
  readonly #dialect: SqlDialect;
  readonly #sql: SqlStatements;
  readonly #markProof: string;
  readonly #pruneProofs: string;
  readonly #timeoutMs: number;
  readonly #pruneBatch: number;
  readonly #onError: (error: unknown) => void;
  readonly #capStatements = new Map<number, readonly CapStatement[]>();
  #statements = 0;
  #closed = false;
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning = false;

  protected constructor(driver: SqlDriver, dialect: SqlDialect, options: SqlStoreOptions) {
    this.#driver = driver;
    this.#dialect = dialect;
    this.dialect = dialect.name;
    this.tables = sqlTables(options.tablePrefix);
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#pruneBatch = options.pruneBatchSize ?? 1000;
    this.#onError = options.onError ?? (() => {});
    this.#sql = sqlStatements(dialect, this.tables, this.#pruneBatch);
    this.#markProof = markProofSql(dialect.name, this.tables);
    this.#pruneProofs = pruneProofsSql(dialect.name, this.tables, this.#pruneBatch);
    if (options.pruneIntervalMs !== undefined) {
      this.#pruneTimer = setInterval(() => this.#backgroundPrune(), options.pruneIntervalMs);
      this.#pruneTimer.unref();
    }
  }

  /** Checks option values every dialect shares; call before opening a pool or file. */
  protected static checkOptions(options: SqlStoreOptions): number {
    sqlTables(options.tablePrefix);
    const timeoutMs = options.timeoutMs ?? 2000;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
      throw new ConfigurationError('timeoutMs must be a positive integer');
    const batch = options.pruneBatchSize ?? 1000;
    if (!Number.isSafeInteger(batch) || batch < 1)
      throw new ConfigurationError('pruneBatchSize must be a positive integer');
    const interval = options.pruneIntervalMs;
    if (interval !== undefined && (!Number.isSafeInteger(interval) || interval < 1)) {
      throw new ConfigurationError('pruneIntervalMs must be a positive integer');
    }
    return timeoutMs;
  }

  /** SQL statements sent since the store opened (for tests and benchmarks). */
  get statementCount(): number {
    return this.#statements;
  }

  /**
   * Creates the tables and indexes if missing and records the schema version. Idempotent and safe
   * to run from several processes at once. Resolves the schema version of the database.
   */
  async migrate(): Promise<number> {
    await this.#call(async (deadline) => {
      this.#statements += this.#dialect.migration(this.tables).length;
      await this.#driver.script(this.#dialect.migration(this.tables), deadline);
    });
    const [row] = (await this.#query(this.#sql.schemaVersion, [])).rows;
    const version = integer(row?.['version']);
    if (version > SCHEMA_VERSION) {
      throw new ConfigurationError(
        `${this.tables.schema} is at schema version ${version}, newer than this library (${SCHEMA_VERSION})`,
      );
    }
    return version;
  }

  /**
   * Deletes the rows that expired at or before `now` (default: the wall clock), in batches of
   * `pruneBatchSize`, yielding to the event loop between batches. Resolves the rows deleted.
   */
  async prune(now: number = Date.now()): Promise<number> {
    checkTime('now', now);
    return (await this.#pruneTable(this.#sql.prune, now)) + (await this.#pruneTable(this.#pruneProofs, now));
  }

  async #pruneTable(statement: string, now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const { affected } = await this.#query(statement, [now]);
      total += affected;
      if (affected < this.#pruneBatch) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async markProofUsed(key: string, expiresAt: number, now: number): Promise<boolean> {
    assertReplayEntry(key, expiresAt, now);
    return (await this.#query(this.#markProof, [key, expiresAt, now])).affected > 0;
  }

  async create(session: StoredSession): Promise<void> {
    assertStoredSession(session);
    const { affected } = await this.#query(this.#sql.create, sessionColumns(session));
    if (affected === 0) throw new Error(`session id clash: ${session.id}`);
  }

  /** The insert and the trim in one transaction, holding the namespace's lock. */
  async createCapped(session: StoredSession, cap: number, now: number): Promise<string[]> {
    assertCappedCreate(session, cap);
    checkTime('now', now);
    let trim = this.#capStatements.get(cap);
    if (trim === undefined) {
      trim = this.#dialect.trimToCap(this.tables, cap);
      this.#capStatements.set(cap, trim);
    }
    const namespace = session.namespace;
    const steps: SqlStep[] = [
      { sql: this.#sql.create, params: sessionColumns(session), required: true },
      ...trim.map((statement) => ({ sql: statement.sql, params: statement.params(namespace, now) })),
    ];
    let results: SqlResult[];
    try {
      results = await this.#call((deadline) => {
        this.#statements += steps.length;
        return this.#driver.transaction(`${this.tables.sessions}:${namespace}`, steps, deadline);
      });
    } catch (error) {
      if ((error as { cause?: unknown }).cause instanceof RequiredStepFailed) {
        throw new Error(`session id clash: ${session.id}`);
      }
      throw error;
    }
    const ended: string[] = [];
    trim.forEach((statement, i) => {
      if (statement.returnsIds) for (const row of results[i + 1]!.rows) ended.push(text(row['id']));
    });
    return ended;
  }

  async get(id: string, now: number): Promise<StoredSession | null> {
    checkTime('now', now);
    if (absentKey('id', id, 128)) return null;
    const [row] = (await this.#query(this.#sql.get, [id, now])).rows;
    return row === undefined ? null : this.#map(row);
  }

  async replace(next: StoredSession, expectedVersion: number, now: number): Promise<boolean> {
    assertStoredSession(next);
    checkTime('now', now);
    if (!Number.isSafeInteger(expectedVersion) || next.version !== expectedVersion + 1) return false;
    const { affected } = await this.#query(this.#sql.replace, [
      next.version,
      next.createdAt,
      next.lastUsedAt,
      next.expiresAt,
      next.accessRevoked,
      next.data,
      next.id,
      expectedVersion,
      now,
    ]);
    return affected === 1;
  }

  async touch(id: string, lastUsedAt: number, expiresAt: number, now: number): Promise<void> {
    checkTime('lastUsedAt', lastUsedAt);
    checkTime('expiresAt', expiresAt);
    checkTime('now', now);
    if (absentKey('id', id, 128)) return;
    await this.#query(this.#sql.touch, [lastUsedAt, expiresAt, id, now]);
  }

  async delete(id: string, now: number): Promise<number> {
    checkTime('now', now);
    if (absentKey('id', id, 128)) return 0;
    return (await this.#query(this.#sql.delete, [id, now])).affected;
  }

  deleteNamespace(namespace: string, now: number): Promise<number> {
    checkTime('now', now);
    if (absentKey('namespace', namespace, 256)) return Promise.resolve(0);
    return this.#countingDelete(this.#sql.deleteNamespace, [namespace, now]);
  }

  deleteAll(now: number): Promise<number> {
    checkTime('now', now);
    return this.#countingDelete(this.#sql.deleteAll, [now]);
  }

  async revokeNamespaceAccess(namespace: string, now: number): Promise<number> {
    checkTime('now', now);
    if (absentKey('namespace', namespace, 256)) return 0;
    return (await this.#query(this.#sql.revokeNamespaceAccess, [namespace, now])).affected;
  }

  async listNamespace(namespace: string, now: number): Promise<StoredSession[]> {
    checkTime('now', now);
    if (absentKey('namespace', namespace, 256)) return [];
    const { rows } = await this.#query(this.#sql.listNamespace, [namespace, now]);
    return rows.map((row) => this.#map(row));
  }

  async listNamespacePage(namespace: string, now: number, page: NamespacePage): Promise<StoredSession[]> {
    checkTime('now', now);
    if (!Number.isSafeInteger(page.limit) || page.limit < 1 || page.limit > 1000) {
      throw new TypeError('page limit must be an integer from 1 to 1000');
    }
    if (absentKey('namespace', namespace, 256)) return [];
    const after = page.after ?? { createdAt: -1, id: '' };
    checkTime('after.createdAt', after.createdAt);
    const sql = `${this.#sql.listNamespacePage} LIMIT ${page.limit}`;
    const { rows } = await this.#query(sql, [namespace, now, after.createdAt, after.createdAt, after.id]);
    return rows.map((row) => this.#map(row));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    try {
      await withDeadline(this.#driver.close(), Date.now() + this.#timeoutMs);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** The first statement counts (live rows only); the rest clear the scope's expired rows. */
  #countingDelete(statements: readonly string[], params: readonly SqlValue[]): Promise<number> {
    return this.#call(async (deadline) => {
      let count = 0;
      for (const [index, sql] of statements.entries()) {
        this.#statements++;
        const { affected } = await this.#driver.query(sql, params, deadline);
        if (index === 0) count = affected;
      }
      return count;
    });
  }

  #map(row: Record<string, unknown>): StoredSession {
    try {
      return toSession(row);
    } catch (error) {
      throw new StoreUnavailableError('session store returned a malformed row', { cause: error });
    }
  }

  #query(sql: string, params: readonly SqlValue[]): Promise<SqlResult> {
    return this.#call((deadline) => {
      this.#statements++;
      return this.#driver.query(sql, params, deadline);
    });
  }

  /** One driver call within the operation deadline; every failure becomes `StoreUnavailableError`. */
  async #call<T>(work: (deadline: number) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError('session store is closed');
    const deadline = Date.now() + this.#timeoutMs;
    try {
      const pending = work(deadline);
      return await (this.#driver.inProcess ? pending : withDeadline(pending, deadline));
    } catch (error) {
      throw this.#error(error);
    }
  }

  /** A driver's error as the typed error that says what broke (see ../errors.ts). */
  #error(error: unknown): JwtSessionsError {
    if (error instanceof JwtSessionsError) return error;
    const where = this.#driver.where;
    if (error instanceof DeadlineExceeded) {
      return new StoreUnavailableError(`${where} unavailable: no answer within ${this.#timeoutMs} ms`, {
        cause: error,
      });
    }
    const prefix = this.tables.prefix === 'jwt_' ? '' : `?prefix=${this.tables.prefix}`;
    const fix = this.#driver.sharedDatabase
      ? `create it with \`jwt-sessions migrate --store '${where}${prefix}'\` (or call store.migrate())`
      : 'call store.migrate() first';
    return storeError(error, this.#driver.misconfiguration(error), {
      where,
      schema: { table: this.tables.sessions, fix },
    });
  }

  #backgroundPrune(): void {
    if (this.#pruning || this.#closed) return;
    this.#pruning = true;
    this.prune(Date.now())
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#pruning = false;
      });
  }
}

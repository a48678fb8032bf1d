/**
 * MySQL / MariaDB store (`mysql2`). Server-side prepared statements over a pool; SQL that runs on
 * MySQL 8 and MariaDB 10.5+ alike (no RETURNING, no CREATE INDEX IF NOT EXISTS). Every operation
 * is one statement except `deleteNamespace`/`deleteAll`: a counted delete of the live rows, then a
 * separate clean-up of the expired ones. InnoDB's UPDATE is a locking (current) read, so the loser
 * of two racing `replace` calls waits for the row lock, re-reads the winner's version and matches
 * nothing.
 *
 * `id` and `namespace` are VARBINARY: byte comparison, so no case folding and no trailing-space
 * padding can make two different keys equal. The pool runs without CLIENT_FOUND_ROWS, so affected
 * rows are changed rows (what tells the insert-or-take-over upsert apart from a clash).
 *
 * Timeouts: `connectTimeout` is `timeoutMs`; acquiring a connection and running the statement share
 * the operation deadline, and a connection whose statement overruns it is destroyed, never reused.
 */
import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { describeConnection, type StoreMisconfiguration } from '../errors.js';
import { replayMigration } from './replay.js';
import {
  DeadlineExceeded,
  RequiredStepFailed,
  recentUseOrder,
  SCHEMA_VERSION,
  type SqlDialect,
  type SqlDriver,
  type SqlResult,
  type SqlStep,
  SqlStore,
  type SqlStoreOptions,
  type SqlValue,
  withDeadline,
} from './shared.js';

export type { SqlStoreOptions } from './shared.js';

export interface MySqlStoreOptions extends SqlStoreOptions {
  /** A `mysql://` URI, or a `mysql2` pool config (connect timeout and row-count flags are set here). */
  connection: string | mysql.PoolOptions;
  /** Maximum pooled connections. Default 10. */
  poolSize?: number;
}

/** Columns the upsert may overwrite; `expires_at` last, so the IF()s before it still see the old row. */
const TAKE_OVER = [
  'namespace',
  'version',
  'created_at',
  'last_used_at',
  'access_revoked',
  'data',
  'expires_at',
];

export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  param: () => '?',
  migration: ({ sessions, schema, prefix }) => [
    `CREATE TABLE IF NOT EXISTS ${sessions} (
  id VARBINARY(512) NOT NULL,
  namespace VARBINARY(1024) NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  access_revoked BOOLEAN NOT NULL,
  data MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (id),
  KEY ${sessions}_namespace (namespace, expires_at),
  KEY ${sessions}_expires (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`,
    ...replayMigration('mysql', { prefix }),
    `CREATE TABLE IF NOT EXISTS ${schema} (version INT NOT NULL PRIMARY KEY) ENGINE = InnoDB`,
    `INSERT INTO ${schema} (version) VALUES (${SCHEMA_VERSION}) ON DUPLICATE KEY UPDATE version = version`,
  ],
  create: ({ sessions }) =>
    `INSERT INTO ${sessions} (id, namespace, version, created_at, last_used_at, expires_at, access_revoked, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE ${TAKE_OVER.map(
      (column) => `${column} = IF(expires_at <= VALUES(created_at), VALUES(${column}), ${column})`,
    ).join(',\n  ')}`,
  prune: ({ sessions }, batch) => `DELETE FROM ${sessions} WHERE expires_at <= ? LIMIT ${batch}`,
  // No DELETE ... RETURNING in MySQL: read the ids, then delete the same rows (under the lock).
  // The derived table (materialised because of its LIMIT) lets the DELETE read its own table.
  trimToCap: ({ sessions }, cap) => {
    const beyond = `SELECT id FROM ${sessions} WHERE namespace = ? AND expires_at > ? ${recentUseOrder()} LIMIT ${ALL_ROWS} OFFSET ${cap}`;
    return [
      { sql: beyond, params: (namespace, now) => [namespace, now], returnsIds: true },
      {
        sql: `DELETE FROM ${sessions} WHERE id IN (SELECT id FROM (${beyond}) AS beyond)`,
        params: (namespace, now) => [namespace, now],
        returnsIds: false,
      },
    ];
  },
};

/** MySQL's "no limit" for a LIMIT clause that only exists to carry an OFFSET. */
const ALL_ROWS = '18446744073709551615';

type Packet = mysql.ResultSetHeader | mysql.RowDataPacket[];

function toResult(packet: Packet): SqlResult {
  return Array.isArray(packet) ? { rows: packet, affected: 0 } : { rows: [], affected: packet.affectedRows };
}

/** Server error codes that mean "fix the configuration", not "the database is down". */
const MISCONFIGURATIONS: Record<string, StoreMisconfiguration> = {
  ER_NO_SUCH_TABLE: 'schema_missing',
  ER_BAD_DB_ERROR: 'database_unknown',
  ER_ACCESS_DENIED_ERROR: 'access_denied',
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: 'access_denied',
  ER_DBACCESS_DENIED_ERROR: 'access_denied',
  ER_TABLEACCESS_DENIED_ERROR: 'access_denied',
};

class MySqlDriver implements SqlDriver {
  readonly inProcess = false;
  readonly sharedDatabase = true;
  readonly where: string;
  readonly #pool: mysql.Pool;

  constructor(options: MySqlStoreOptions, timeoutMs: number) {
    const base: mysql.PoolOptions =
      typeof options.connection === 'string' ? { uri: options.connection } : options.connection;
    this.where = describeConnection('mysql', options.connection);
    this.#pool = mysql.createPool({
      connectionLimit: options.poolSize ?? 10,
      maxIdle: options.poolSize ?? 10,
      idleTimeout: 30_000,
      enableKeepAlive: true,
      charset: 'utf8mb4',
      ...base,
      connectTimeout: timeoutMs,
      flags: ['-FOUND_ROWS'],
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    // Pooled connections already drop themselves from the pool on error; a listener of our own
    // keeps any further error event from becoming an uncaught exception.
    const onError = options.onError ?? (() => {});
    this.#pool.pool.on('connection', (connection) =>
      connection.on('error', (error: unknown) => onError(error)),
    );
  }

  misconfiguration(error: unknown): StoreMisconfiguration | null {
    const code = (error as { code?: unknown } | null)?.code;
    return (typeof code === 'string' && MISCONFIGURATIONS[code]) || null;
  }

  async query(sql: string, params: readonly SqlValue[], deadline: number) {
    const [packet] = await this.#withConnection(deadline, (connection) =>
      connection.execute<Packet>(sql, params as SqlValue[]),
    );
    return toResult(packet);
  }

  async script(statements: readonly string[], deadline: number) {
    await this.#withConnection(deadline, async (connection) => {
      for (const sql of statements) await connection.query(sql);
    });
  }

  /**
   * GET_LOCK on a name derived from `lock` (server-wide, so every process waits alike), then the
   * steps in a transaction. A failure destroys the connection (see #withConnection), which rolls
   * the transaction back and frees the lock.
   */
  transaction(lock: string, steps: readonly SqlStep[], deadline: number): Promise<SqlResult[]> {
    return this.#withConnection(deadline, async (connection) => {
      const name = `jwts:${createHash('sha256').update(lock).digest('hex').slice(0, 48)}`;
      const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      const [granted] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS granted', [
        name,
        seconds,
      ]);
      if (Number(granted[0]?.['granted']) !== 1) throw new DeadlineExceeded();
      await connection.query('START TRANSACTION');
      const results: SqlResult[] = [];
      for (const step of steps) {
        const [packet] = await connection.execute<Packet>(step.sql, step.params as SqlValue[]);
        const result = toResult(packet);
        if (step.required && result.affected === 0) throw new RequiredStepFailed();
        results.push(result);
      }
      await connection.query('COMMIT');
      await connection.query('DO RELEASE_LOCK(?)', [name]);
      return results;
    });
  }

  close() {
    return this.#pool.end();
  }

  /** A connection for one unit of work within the deadline; destroyed (not reused) if anything fails. */
  async #withConnection<T>(
    deadline: number,
    work: (connection: mysql.PoolConnection) => Promise<T>,
  ): Promise<T> {
    // The pool queues requests without a time limit: give a late connection straight back.
    const connection = await withDeadline(this.#pool.getConnection(), deadline, {
      late: (late) => late.release(),
    });
    if (Date.now() >= deadline) {
      connection.release();
      throw new DeadlineExceeded();
    }
    try {
      const result = await withDeadline(work(connection), deadline, {
        onTimeout: () => connection.destroy(),
      });
      connection.release();
      return result;
    } catch (error) {
      connection.destroy();
      throw error;
    }
  }
}

export class MySqlStore extends SqlStore {
  constructor(options: MySqlStoreOptions) {
    const timeoutMs = SqlStore.checkOptions(options);
    super(new MySqlDriver(options, timeoutMs), mysqlDialect, options);
  }
}

/**
 * PostgreSQL store (`pg`). Named prepared statements over a pool; every operation is exactly one
 * statement (the counting deletes clear expired rows in a data-modifying CTE of the same statement).
 * Racing writers serialise on the row lock: under READ COMMITTED the loser of a `replace` re-checks
 * its WHERE against the winner's row version and matches nothing.
 *
 * Timeouts: `connectionTimeoutMillis` (pool checkout and connect), `query_timeout` (client side),
 * `statement_timeout` (server side) all equal `timeoutMs`, and the operation deadline bounds the sum.
 * A client that failed is removed from the pool, so the pool heals when the database returns.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { describeConnection, type StoreMisconfiguration } from '../errors.js';
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
  withDeadline,
} from './shared.js';

export type { SqlStoreOptions } from './shared.js';

export interface PostgresStoreOptions extends SqlStoreOptions {
  /** A connection string, or a `pg` pool config (its own timeouts are replaced by `timeoutMs`). */
  connection: string | pg.PoolConfig;
  /** Maximum pooled connections. Default 10. */
  poolSize?: number;
}

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  param: (index) => `$${index}`,
  migration: ({ sessions, schema, prefix }) => [
    'BEGIN',
    // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogs: serialise migrators.
    `SELECT pg_advisory_xact_lock(hashtext('${sessions}'))`,
    `CREATE TABLE IF NOT EXISTS ${sessions} (
  id varchar(128) PRIMARY KEY,
  namespace varchar(256),
  version bigint NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  access_revoked boolean NOT NULL,
  data text NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS ${sessions}_namespace ON ${sessions} (namespace, expires_at)`,
    `CREATE INDEX IF NOT EXISTS ${sessions}_expires ON ${sessions} (expires_at)`,
    ...replayMigration('postgres', { prefix }),
    `CREATE TABLE IF NOT EXISTS ${schema} (version integer PRIMARY KEY)`,
    `INSERT INTO ${schema} (version) VALUES (${SCHEMA_VERSION}) ON CONFLICT DO NOTHING`,
    'COMMIT',
  ],
  create: ({ sessions }) =>
    `INSERT INTO ${sessions} AS s (id, namespace, version, created_at, last_used_at, expires_at, access_revoked, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE SET namespace = EXCLUDED.namespace, version = EXCLUDED.version,
  created_at = EXCLUDED.created_at, last_used_at = EXCLUDED.last_used_at, expires_at = EXCLUDED.expires_at,
  access_revoked = EXCLUDED.access_revoked, data = EXCLUDED.data
WHERE s.expires_at <= EXCLUDED.created_at`,
  // Both deletes see one snapshot and disjoint rows; the statement's row count is the outer (live) one.
  deleteNamespace: ({ sessions }) => [
    `WITH expired AS (DELETE FROM ${sessions} WHERE namespace = $1 AND expires_at <= $2)
DELETE FROM ${sessions} WHERE namespace = $1 AND expires_at > $2`,
  ],
  deleteAll: ({ sessions }) => [
    `WITH expired AS (DELETE FROM ${sessions} WHERE expires_at <= $1) DELETE FROM ${sessions} WHERE expires_at > $1`,
  ],
  // Ids compared as bytes (COLLATE "C"), as every other store ranks them.
  trimToCap: ({ sessions }, cap) =>
    returningTrim(
      sessions,
      'namespace = $1 AND expires_at > $2',
      `${recentUseOrder('id COLLATE "C"')} OFFSET ${cap}`,
    ),
  // SKIP LOCKED: concurrent pruners take different rows instead of queueing behind each other.
  prune: ({ sessions }, batch) =>
    `DELETE FROM ${sessions} WHERE id IN (SELECT id FROM ${sessions} WHERE expires_at <= $1 LIMIT ${batch} FOR UPDATE SKIP LOCKED)`,
};

/** Statement names are derived from the text, so equal statements share one server-side plan. */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `jwt_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** `pg` honours a per-query `query_timeout` its typings do not declare: the rest of the deadline. */
function timed(config: pg.QueryConfig<SqlValue[]>, deadline: number): pg.QueryConfig<SqlValue[]> {
  const withTimeout: pg.QueryConfig<SqlValue[]> & { query_timeout: number } = {
    ...config,
    query_timeout: Math.max(1, deadline - Date.now()),
  };
  return withTimeout;
}

/** SQLSTATE classes and codes that mean "fix the configuration", not "the database is down". */
const MISCONFIGURATIONS: Record<string, StoreMisconfiguration> = {
  '42P01': 'schema_missing', // undefined_table
  '3F000': 'schema_missing', // invalid_schema_name
  '3D000': 'database_unknown', // invalid_catalog_name
  '28000': 'access_denied', // invalid_authorization_specification (unknown role, pg_hba)
  '28P01': 'access_denied', // invalid_password
  '42501': 'access_denied', // insufficient_privilege
};

class PgDriver implements SqlDriver {
  readonly inProcess = false;
  readonly sharedDatabase = true;
  readonly where: string;
  readonly #pool: pg.Pool;

  constructor(options: PostgresStoreOptions, timeoutMs: number) {
    const base: pg.PoolConfig =
      typeof options.connection === 'string' ? { connectionString: options.connection } : options.connection;
    this.where = describeConnection('postgres', options.connection);
    this.#pool = new pg.Pool({
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      application_name: 'jwt-sessions',
      ...base,
      keepAlive: true,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
    });
    // An idle client whose connection drops is removed by the pool, which then emits 'error':
    // without a listener that would crash the process.
    const onError = options.onError ?? (() => {});
    this.#pool.on('error', (error) => onError(error));
  }

  misconfiguration(error: unknown): StoreMisconfiguration | null {
    const code = (error as { code?: unknown } | null)?.code;
    return (typeof code === 'string' && MISCONFIGURATIONS[code]) || null;
  }

  async query(sql: string, params: readonly SqlValue[], deadline: number) {
    const result = await this.#pool.query<Record<string, unknown>>(
      timed({ name: statementName(sql), text: sql, values: params as SqlValue[] }, deadline),
    );
    return { rows: result.rows, affected: result.rowCount ?? 0 };
  }

  async script(statements: readonly string[], deadline: number) {
    // One simple-protocol message (no parameters): the statements run in order inside its BEGIN/COMMIT.
    await this.#pool.query(timed({ text: `${statements.join(';\n')};` }, deadline));
  }

  /** BEGIN, a transaction-scoped advisory lock on the name's 64-bit hash, the steps, COMMIT. */
  async transaction(lock: string, steps: readonly SqlStep[], deadline: number): Promise<SqlResult[]> {
    const client = await withDeadline(this.#pool.connect(), deadline, { late: (late) => late.release() });
    let released = false;
    // Any failure destroys the connection, which rolls the transaction back and frees the lock.
    const release = (failure?: Error) => {
      if (released) return;
      released = true;
      client.release(failure);
    };
    const run = async (sql: string, params: SqlValue[] = []) => {
      const result = await client.query<Record<string, unknown>>(
        timed(
          { name: params.length > 0 ? statementName(sql) : undefined, text: sql, values: params },
          deadline,
        ),
      );
      return { rows: result.rows, affected: result.rowCount ?? 0 };
    };
    try {
      const results = await withDeadline(
        (async () => {
          await run('BEGIN');
          await run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lock]);
          const out: SqlResult[] = [];
          for (const step of steps) {
            const result = await run(step.sql, step.params as SqlValue[]);
            if (step.required && result.affected === 0) throw new RequiredStepFailed();
            out.push(result);
          }
          await run('COMMIT');
          return out;
        })(),
        deadline,
        { onTimeout: () => release(new Error('transaction deadline')) },
      );
      release();
      return results;
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  close() {
    return this.#pool.end();
  }
}

export class PostgresStore extends SqlStore {
  constructor(options: PostgresStoreOptions) {
    const timeoutMs = SqlStore.checkOptions(options);
    super(new PgDriver(options, timeoutMs), postgresDialect, options);
  }
}

/**
 * The SQL stores' replay cache (DPoP proof `jti`s): a table `${prefix}dpop_proofs (id, expires_at)`
 * added by schema v2. Recording is one statement, "insert, or take over a row that expired at or
 * before now": the primary key makes racing inserts of one id serialise, and the loser's conflict
 * clause finds a live row and changes nothing (zero affected rows). Expired rows are removed by the
 * store's `prune`, like expired sessions.
 */
import type { SqlDialect, SqlTables } from './shared.js';

/** The replay-cache table of a table prefix. */
export function replayTable(tables: Pick<SqlTables, 'prefix'>): string {
  return `${tables.prefix}dpop_proofs`;
}

/** Statements creating the table and its expiry index (idempotent), for `migration()`. */
export function replayMigration(dialect: SqlDialect['name'], tables: Pick<SqlTables, 'prefix'>): string[] {
  const t = replayTable(tables);
  switch (dialect) {
    case 'postgres':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (\n  id varchar(128) PRIMARY KEY,\n  expires_at bigint NOT NULL\n)`,
        `CREATE INDEX IF NOT EXISTS ${t}_expires ON ${t} (expires_at)`,
      ];
    case 'mysql':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (\n  id VARBINARY(128) NOT NULL,\n  expires_at BIGINT NOT NULL,\n  PRIMARY KEY (id),\n  KEY ${t}_expires (expires_at)\n) ENGINE = InnoDB`,
      ];
    case 'sqlite':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (\n  id TEXT NOT NULL PRIMARY KEY,\n  expires_at INTEGER NOT NULL\n) STRICT`,
        `CREATE INDEX IF NOT EXISTS ${t}_expires ON ${t} (expires_at)`,
      ];
  }
}

/**
 * Parameters (id, expiresAt, now). One or more affected rows = recorded (MySQL counts an insert as
 * 1 and a take-over as 2, an unchanged row as 0: the pool runs without CLIENT_FOUND_ROWS).
 */
export function markProofSql(dialect: SqlDialect['name'], tables: SqlTables): string {
  const t = replayTable(tables);
  switch (dialect) {
    case 'postgres':
      return `INSERT INTO ${t} AS p (id, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE p.expires_at <= $3`;
    case 'mysql':
      return `INSERT INTO ${t} (id, expires_at) VALUES (?, ?)
ON DUPLICATE KEY UPDATE expires_at = IF(expires_at <= ?, VALUES(expires_at), expires_at)`;
    case 'sqlite':
      return `INSERT INTO ${t} (id, expires_at) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE ${t}.expires_at <= ?`;
  }
}

/** Deletes at most `batch` rows with `expires_at <= now` (parameter: now). */
export function pruneProofsSql(dialect: SqlDialect['name'], tables: SqlTables, batch: number): string {
  const t = replayTable(tables);
  switch (dialect) {
    case 'postgres':
      return `DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE expires_at <= $1 LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
    case 'mysql':
      return `DELETE FROM ${t} WHERE expires_at <= ? LIMIT ${batch}`;
    case 'sqlite':
      return `DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE expires_at <= ? LIMIT ${batch})`;
  }
}

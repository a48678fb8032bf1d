/**
 * Store errors that say what broke (SECURITY.md "Failure behaviour"). Each driver tells its own
 * errors apart (SQLSTATE, MySQL error numbers, SQLite result codes, Redis replies); this module
 * turns that into the library's typed errors:
 *
 * - the store answers but cannot be used as configured — a missing table, an unknown database,
 *   refused credentials: `StoreConfigurationError` (503 `store_misconfigured`), naming the cause
 *   and the fix;
 * - anything else — a refused or dropped connection, a timeout: `StoreUnavailableError`
 *   (503 `store_unavailable`), with the driver's reason in the message.
 *
 * The messages are for operators (logs, `onError`, the CLI, the server's start-up line); the HTTP
 * layer never sends them to clients.
 */
import { StoreConfigurationError, StoreUnavailableError } from '../errors.js';

/** A configuration problem a driver recognised in one of its errors. */
export type StoreMisconfiguration = 'schema_missing' | 'database_unknown' | 'access_denied';

const FIXES: Record<Exclude<StoreMisconfiguration, 'schema_missing'>, string> = {
  database_unknown: 'create the database, or correct the store URL',
  access_denied: 'check the user, password and grants in the store URL',
};

/**
 * The driver's own words for an error, on one line: an AggregateError's are its errors', and an
 * ioredis Cluster error ("Failed to refresh slots cache") is completed by its last node's.
 */
export function driverReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message;
  const lastNodeError = (error as { lastNodeError?: unknown }).lastNodeError;
  if (lastNodeError instanceof Error)
    message = `${message.replace(/\.$/, '')}: ${driverReason(lastNodeError)}`;
  if (message === '' && error instanceof AggregateError) {
    message = [...new Set(error.errors.map((inner) => driverReason(inner)))].join('; ');
  }
  if (message === '') message = (error as NodeJS.ErrnoException).code ?? error.name;
  return message.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

export interface StoreErrorContext {
  /** Where the store is, without secrets, e.g. `postgres://app@db:5432/app`. */
  where: string;
  /** For a missing schema: the table and how to create it. */
  schema?: { table: string; fix: string };
}

/** The typed error for a driver error, given what the driver recognised in it (or nothing). */
export function storeError(
  error: unknown,
  problem: StoreMisconfiguration | null,
  context: StoreErrorContext,
): StoreUnavailableError {
  const reason = driverReason(error);
  if (problem === 'schema_missing' && context.schema !== undefined) {
    const { table, fix } = context.schema;
    return new StoreConfigurationError(
      `${context.where}: the table ${table} does not exist (${reason}); ${fix}`,
      { cause: error },
    );
  }
  if (problem === 'database_unknown' || problem === 'access_denied') {
    return new StoreConfigurationError(`${context.where}: ${reason}; ${FIXES[problem]}`, { cause: error });
  }
  return new StoreUnavailableError(`${context.where} unavailable: ${reason}`, { cause: error });
}

/**
 * `scheme://user@host:port/database` from a connection URL or a driver config object, without
 * the password (a `***` marks that one is set).
 */
export function describeConnection(
  scheme: string,
  connection: string | { host?: string; port?: number; user?: string; password?: unknown; database?: string },
): string {
  let parts: { host?: string; port?: number | string; user?: string; password?: unknown; database?: string };
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      parts = {
        host: url.hostname,
        port: url.port,
        user: decodeURIComponent(url.username),
        password: url.password,
        database: decodeURIComponent(url.pathname.slice(1)),
      };
    } catch {
      return `${scheme}://(unparsable connection string)`;
    }
  } else {
    parts = connection;
  }
  const auth = parts.user ? `${parts.user}${parts.password ? ':***' : ''}@` : '';
  const port = parts.port ? `:${parts.port}` : '';
  return `${scheme}://${auth}${parts.host || 'localhost'}${port}/${parts.database ?? ''}`;
}

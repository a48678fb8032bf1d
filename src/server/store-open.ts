/**
 * Opens the store a `StoreSpec` names. Drivers are imported dynamically, so the memory store (the
 * default) needs none of ioredis / pg / mysql2 / better-sqlite3 installed.
 */
import { StoreConfigurationError } from '../errors.js';
import { MemoryStore } from '../stores/memory.js';
import type { Store } from '../stores/store.js';
import type { StoreSpec } from './store-url.js';

export interface OpenedStore {
  store: Store;
  /** SQL stores: creates or upgrades the schema (idempotent). */
  migrate?: () => Promise<void>;
  /** Closes the store and its connections. */
  close: () => Promise<void>;
}

export interface OpenStoreOptions {
  /** SQL stores: run the migrations before returning. Default true (the server); the CLI's `migrate` opens with false. */
  migrate?: boolean;
  /** SQL stores: delete expired rows in the background at this interval (ms). Default off. */
  pruneIntervalMs?: number;
  /** Errors outside any operation (a dropped idle connection, a failed background prune). */
  onError?: (error: unknown) => void;
}

const DRIVERS: Record<Exclude<StoreSpec['kind'], 'memory'>, string> = {
  redis: 'ioredis',
  'redis-cluster': 'ioredis',
  postgres: 'pg',
  mysql: 'mysql2',
  sqlite: 'better-sqlite3',
};

function driverError(kind: Exclude<StoreSpec['kind'], 'memory'>, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const driver = DRIVERS[kind];
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(error).includes(driver)) {
    return new Error(`the ${kind} store needs the "${driver}" package: npm install ${driver}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function load<T>(kind: Exclude<StoreSpec['kind'], 'memory'>, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw driverError(kind, error);
  }
}

/** Opens (and for SQL, by default, migrates) a store. Closes it again if migrating fails. */
export async function openStore(spec: StoreSpec, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const onError = options.onError ?? (() => {});
  const prefix = spec.kind !== 'memory' && spec.prefix !== undefined ? { prefix: spec.prefix } : {};
  const sqlOptions = {
    onError,
    ...(spec.kind !== 'memory' && spec.prefix !== undefined && { tablePrefix: spec.prefix }),
    ...(options.pruneIntervalMs !== undefined && { pruneIntervalMs: options.pruneIntervalMs }),
  };
  let opened: OpenedStore;
  switch (spec.kind) {
    case 'memory': {
      const store = new MemoryStore();
      return { store, close: () => store.close() };
    }
    case 'redis': {
      const { RedisStore } = await load(spec.kind, () => import('../stores/redis/index.js'));
      const store = RedisStore.connect(spec.url, prefix);
      store.client.on('error', onError);
      return { store, close: () => store.close() };
    }
    case 'redis-cluster': {
      const { RedisStore } = await load(spec.kind, () => import('../stores/redis/index.js'));
      const auth = {
        ...(spec.username !== undefined && { username: spec.username }),
        ...(spec.password !== undefined && { password: spec.password }),
      };
      const store = RedisStore.connectCluster(spec.nodes, {
        ...prefix,
        clusterOptions: { redisOptions: auth },
      });
      store.client.on('error', onError);
      return { store, close: () => store.close() };
    }
    case 'postgres': {
      const { PostgresStore } = await load(spec.kind, () => import('../stores/sql/postgres.js'));
      const store = new PostgresStore({ connection: spec.url, ...sqlOptions });
      opened = { store, migrate: () => store.migrate().then(() => undefined), close: () => store.close() };
      break;
    }
    case 'mysql': {
      const { MySqlStore } = await load(spec.kind, () => import('../stores/sql/mysql.js'));
      const store = new MySqlStore({ connection: spec.url, ...sqlOptions });
      opened = { store, migrate: () => store.migrate().then(() => undefined), close: () => store.close() };
      break;
    }
    case 'sqlite': {
      const { SqliteStore } = await load(spec.kind, () => import('../stores/sql/sqlite.js'));
      const store = new SqliteStore({ filename: spec.path, ...sqlOptions });
      opened = { store, migrate: () => store.migrate().then(() => undefined), close: () => store.close() };
      break;
    }
  }
  if (options.migrate ?? true) {
    try {
      await opened.migrate!();
    } catch (error) {
      await opened.close().catch(() => {});
      throw error;
    }
  }
  return opened;
}

/**
 * Checks that the store answers (a read of a session that does not exist), retrying for up to
 * `withinMs` while a client is still connecting. Throws the last error; a configuration problem
 * (missing tables, unknown database, refused credentials) at once: waiting does not fix it.
 */
export async function probeStore(store: Store, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await store.get('jwt-sessions-probe', Date.now());
      return;
    } catch (error) {
      if (error instanceof StoreConfigurationError || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

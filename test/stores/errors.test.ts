/**
 * Store errors say what broke (SECURITY.md "Failure behaviour", last rule), on every store: a
 * table that was never migrated is a `StoreConfigurationError` (503 `store_misconfigured`) naming
 * the table and the command that creates it; an unknown database or refused credentials are
 * configuration errors carrying the driver's reason; a refused connection stays an outage
 * (`store_unavailable`) with the driver's reason in the message. What the engine's `login()`
 * rejects with is that error, not a bare "session store unavailable".
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreConfigurationError, StoreUnavailableError } from '../../src/errors.js';
import { createSessions } from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { MySqlStore } from '../../src/stores/sql/mysql.js';
import { PostgresStore } from '../../src/stores/sql/postgres.js';
import { SqliteStore } from '../../src/stores/sql/sqlite.js';
import type { Store } from '../../src/stores/store.js';
import { uniquePrefix } from '../server/support.js';
import { clusterSeeds, describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

function track<T extends { close(): Promise<void> }>(store: T): T {
  opened.push(store);
  return store;
}

/** What `login()` rejects with on this store. */
async function loginError(store: Store): Promise<StoreUnavailableError> {
  const sessions = createSessions({ keys: { signing: { alg: 'HS256', key: 'k'.repeat(32) } }, store });
  const error = await sessions.login({ namespace: 'user:1' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  return error as StoreUnavailableError;
}

function expectMisconfigured(error: StoreUnavailableError, ...parts: (string | RegExp)[]): void {
  expect(error).toBeInstanceOf(StoreConfigurationError);
  expect(error.code).toBe('store_misconfigured');
  expect(error.status).toBe(503);
  for (const part of parts) expect(error.message).toMatch(part);
}

function expectOutage(error: StoreUnavailableError, ...parts: (string | RegExp)[]): void {
  expect(error).not.toBeInstanceOf(StoreConfigurationError);
  expect(error.code).toBe('store_unavailable');
  for (const part of parts) expect(error.message).toMatch(part);
}

/** A URL with some parts replaced. */
function withUrl(
  base: string,
  parts: Partial<Pick<URL, 'username' | 'password' | 'port' | 'pathname'>>,
): string {
  return Object.assign(new URL(base), parts).toString();
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const [postgresUp, mariadbUp, redisUp, clusterUp] = await Promise.all([
  serviceAvailable('PostgreSQL (store errors)', async () => {
    const store = new PostgresStore({
      connection: SERVICE_URLS.postgres,
      tablePrefix: uniquePrefix('probe'),
    });
    await store.get('x', Date.now()).catch((error: unknown) => {
      if (!(error instanceof StoreConfigurationError)) throw error;
    });
    await store.close();
  }),
  serviceAvailable('MariaDB (store errors)', async () => {
    const store = new MySqlStore({ connection: SERVICE_URLS.mysql, tablePrefix: uniquePrefix('probe') });
    await store.get('x', Date.now()).catch((error: unknown) => {
      if (!(error instanceof StoreConfigurationError)) throw error;
    });
    await store.close();
  }),
  serviceAvailable('Redis (store errors)', async () => {
    const store = RedisStore.connect(SERVICE_URLS.redis);
    await store.get('x', Date.now());
    await store.close();
  }),
  serviceAvailable('Redis Cluster (store errors)', async () => {
    const store = RedisStore.connectCluster(clusterSeeds());
    await store.get('x', Date.now());
    await store.close();
  }),
]);

describeWithService(postgresUp)('PostgreSQL', () => {
  it('a table never migrated: the table and the command that creates it (the prefix included)', async () => {
    const prefix = uniquePrefix('pgerr');
    const store = track(new PostgresStore({ connection: SERVICE_URLS.postgres, tablePrefix: prefix }));
    const error = await loginError(store);
    expectMisconfigured(
      error,
      `the table ${prefix}sessions does not exist`,
      `relation "${prefix}sessions" does not exist`,
      `jwt-sessions migrate --store '${withUrl(SERVICE_URLS.postgres, { password: '' })}?prefix=${prefix}'`,
      'store.migrate()',
    );
    // The fix works: after migrate(), the same store logs in.
    await store.migrate();
    await expect(
      createSessions({ keys: { signing: { alg: 'HS256', key: 'k'.repeat(32) } }, store }).login({}),
    ).resolves.toBeDefined();
    await store.deleteAll(Date.now());
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${prefix}sessions, ${prefix}schema_version`);
    await client.end();
  });

  it('an unknown database, an unknown role: configuration errors with the driver’s reason', async () => {
    const noDb = track(
      new PostgresStore({
        connection: withUrl(SERVICE_URLS.postgres, { pathname: '/no_such_db_jwts' }),
      }),
    );
    expectMisconfigured(
      await loginError(noDb),
      'database "no_such_db_jwts" does not exist',
      'create the database',
    );
    const noRole = track(
      new PostgresStore({
        connection: withUrl(SERVICE_URLS.postgres, {
          username: 'no_such_role_jwts',
          password: 'secret-password',
        }),
      }),
    );
    const error = await loginError(noRole);
    expectMisconfigured(
      error,
      /role "no_such_role_jwts" does not exist|password authentication failed/,
      'check the user',
    );
    expect(error.message).not.toContain('secret-password');
  });

  it('a refused connection: an outage, with the driver’s reason', async () => {
    const store = track(
      new PostgresStore({
        connection: withUrl(SERVICE_URLS.postgres, { port: '1' }),
        timeoutMs: 1000,
      }),
    );
    expectOutage(await loginError(store), /ECONNREFUSED/, /:1\//);
  });
});

describeWithService(mariadbUp)('MariaDB', () => {
  it('a table never migrated: the table and the command that creates it', async () => {
    const prefix = uniquePrefix('myerr');
    const store = track(new MySqlStore({ connection: SERVICE_URLS.mysql, tablePrefix: prefix }));
    expectMisconfigured(
      await loginError(store),
      `the table ${prefix}sessions does not exist`,
      `jwt-sessions migrate --store '${SERVICE_URLS.mysql}?prefix=${prefix}'`,
    );
  });

  it('an unknown database, a wrong password: configuration errors with the driver’s reason', async () => {
    const noDb = track(
      new MySqlStore({
        connection: withUrl(SERVICE_URLS.mysql, { pathname: '/no_such_db_jwts' }),
      }),
    );
    expectMisconfigured(await loginError(noDb), "Unknown database 'no_such_db_jwts'", 'create the database');
    const badPassword = track(
      new MySqlStore({
        connection: withUrl(SERVICE_URLS.mysql, { password: 'wrong-password-jwts' }),
      }),
    );
    const error = await loginError(badPassword);
    expectMisconfigured(error, /Access denied for user/, 'check the user');
    expect(error.message).not.toContain('wrong-password-jwts');
  });

  it('a refused connection: an outage, with the driver’s reason', async () => {
    const store = track(
      new MySqlStore({
        connection: withUrl(SERVICE_URLS.mysql, { port: '1' }),
        timeoutMs: 1000,
      }),
    );
    expectOutage(await loginError(store), /ECONNREFUSED/);
  });
});

describe('SQLite', () => {
  it('a file never migrated: the table and the command; a private :memory: database: store.migrate()', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jwt-sessions-errors-')), 'sessions.db');
    const store = track(new SqliteStore({ filename: file }));
    expectMisconfigured(
      await loginError(store),
      'the table jwt_sessions does not exist (no such table: jwt_sessions)',
      new RegExp(escapeRegExp(`jwt-sessions migrate --store 'sqlite:${file}'`)),
    );
    const memory = track(new SqliteStore({ filename: ':memory:' }));
    const error = await loginError(memory);
    expectMisconfigured(error, 'call store.migrate() first');
    expect(error.message).not.toContain('jwt-sessions migrate');
  });

  it('a file in a directory that does not exist: a configuration error at construction', () => {
    expect(() => new SqliteStore({ filename: '/no/such/dir/sessions.db' })).toThrow(StoreConfigurationError);
    expect(() => new SqliteStore({ filename: '/no/such/dir/sessions.db' })).toThrow(
      /sqlite:\/no\/such\/dir\/sessions\.db: cannot open the database \(.*directory does not exist\)/,
    );
  });
});

describeWithService(redisUp)('Redis', () => {
  it('refused credentials: a configuration error with the reply', async () => {
    const badUser = track(
      RedisStore.connect(withUrl(SERVICE_URLS.redis, { username: 'no_such_user_jwts', password: 'pw' })),
    );
    expectMisconfigured(await loginError(badUser), /WRONGPASS/, 'check the user');
  });

  it('a database number the server does not have: a configuration error, and nothing written to database 0', async () => {
    const prefix = uniquePrefix('seldb');
    const store = track(RedisStore.connect(withUrl(SERVICE_URLS.redis, { pathname: '/12345' }), { prefix }));
    const error = await loginError(store);
    expectMisconfigured(error, 'redis: database 12345 cannot be selected', /DB index is out of range/);
    // Every later operation is refused too, not only the first.
    await expect(store.get('anything', Date.now())).rejects.toBeInstanceOf(StoreConfigurationError);
    const probe = new Redis(SERVICE_URLS.redis);
    try {
      expect(await probe.keys(`${prefix}*`)).toEqual([]);
    } finally {
      probe.disconnect();
    }
  });

  it('a refused connection: an outage naming the reason', async () => {
    const store = track(RedisStore.connect('redis://127.0.0.1:1'));
    expectOutage(
      await loginError(store),
      'redis did not answer within 1000 ms: connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});

describeWithService(clusterUp)('Redis Cluster', () => {
  it('refused credentials: a configuration error with the reply', async () => {
    const store = track(
      RedisStore.connectCluster(clusterSeeds(), {
        clusterOptions: { redisOptions: { username: 'no_such_user_jwts', password: 'pw' } },
      }),
    );
    expectMisconfigured(await loginError(store), /WRONGPASS/);
  });

  it('no seed reachable: an outage naming the reason', async () => {
    const store = track(RedisStore.connectCluster([{ host: '127.0.0.1', port: 1 }]));
    expectOutage(await loginError(store), /redis did not answer within 1000 ms: .+/);
  });
});

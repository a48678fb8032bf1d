/**
 * Every store the library ships, opened on a unique prefix / table prefix / file, with an audit of
 * what it physically holds: the records under the prefix, and index entries that point at no
 * record (orphans). The storms and the fault suite use it; each target probes its service once
 * (serviceAvailable: a hard failure under CI, a loud counted skip elsewhere).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MemoryStore } from '../../src/stores/memory.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { MySqlStore } from '../../src/stores/sql/mysql.js';
import { PostgresStore } from '../../src/stores/sql/postgres.js';
import type { SqlStore } from '../../src/stores/sql/shared.js';
import { SqliteStore } from '../../src/stores/sql/sqlite.js';
import type { Store } from '../../src/stores/store.js';
import { probeRedis, probeRedisCluster, scanKeys } from '../support/redis-probes.js';
import { clusterSeeds, SERVICE_URLS, serviceAvailable } from '../support/services.js';

export interface Audit {
  /** Session records physically present under the store's prefix. */
  records: number;
  /** Index entries naming a session record that does not exist. */
  orphans: number;
}

export interface OpenedTarget {
  store: Store;
  audit(): Promise<Audit>;
  /** Removes everything under the prefix and closes the connections. */
  cleanup(): Promise<void>;
}

export interface StoreTarget {
  name: string;
  available: boolean;
  open(): Promise<OpenedTarget>;
}

const uid = () => randomBytes(5).toString('hex');

const CLUSTER_NODES = clusterSeeds(SERVICE_URLS.redisCluster);

/** Session hashes and dangling index members under `prefix` (the tests may SCAN; the store never does). */
async function auditRedis(nodes: Redis[], reader: Redis | Cluster, prefix: string): Promise<Audit> {
  const keys = (await Promise.all(nodes.map((node) => scanKeys(node, `${prefix}*`)))).flat();
  const sessions = new Set(keys.filter((k) => k.startsWith(`${prefix}s:`)));
  let orphans = 0;
  for (const index of keys.filter((k) => k.startsWith(`${prefix}a:`) || k.startsWith(`${prefix}n:`))) {
    const tag = index.slice(index.indexOf('{'), index.indexOf('}') + 1);
    const members = await reader.zrange(index, 0, -1);
    // Members past their expiry are reclaimed lazily by design; count only the ones still due.
    const scores = await Promise.all(members.map((m) => reader.zscore(index, m)));
    members.forEach((member, i) => {
      if (Number(scores[i]) > Date.now() && !sessions.has(`${prefix}s:${tag}:${member}`)) orphans++;
    });
  }
  return { records: sessions.size, orphans };
}

const redisUp = await serviceAvailable('redis (security storms)', () => probeRedis(SERVICE_URLS.redis));
const clusterUp = await serviceAvailable('redis cluster (security storms)', () =>
  probeRedisCluster(CLUSTER_NODES[0]!),
);

const postgresUp = await serviceAvailable('PostgreSQL (security storms)', async () => {
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
});

const mysqlUp = await serviceAvailable('MariaDB/MySQL (security storms)', async () => {
  const connection = await mysql.createConnection({ uri: SERVICE_URLS.mysql, connectTimeout: 3000 });
  await connection.end();
});

/** A one-connection admin pool on a shared SQL server: rows of a query, and closing it. */
interface SqlAdmin {
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

/** A SQL store on the shared server under fresh tables; the audit counts rows, clean-up drops the tables. */
function sqlTarget(
  name: string,
  available: boolean,
  createStore: (tablePrefix: string) => SqlStore,
  createAdmin: () => SqlAdmin,
): StoreTarget {
  return {
    name,
    available,
    async open() {
      const tablePrefix = `sec${uid()}_`;
      const store = createStore(tablePrefix);
      await store.migrate();
      const admin = createAdmin();
      return {
        store,
        async audit() {
          const rows = (await admin.query(`SELECT COUNT(*) AS n FROM ${tablePrefix}sessions`)) as {
            n: number | string;
          }[];
          return { records: Number(rows[0]!.n), orphans: 0 };
        },
        async cleanup() {
          await store.close();
          await admin.query(`DROP TABLE IF EXISTS ${tablePrefix}sessions`);
          await admin.query(`DROP TABLE IF EXISTS ${tablePrefix}schema_version`);
          await admin.query(`DROP TABLE IF EXISTS ${tablePrefix}dpop_proofs`);
          await admin.end();
        },
      };
    },
  };
}

export const STORE_TARGETS: StoreTarget[] = [
  {
    name: 'MemoryStore',
    available: true,
    async open() {
      const store = new MemoryStore();
      return {
        store,
        audit: async () => ({ records: store.size, orphans: 0 }),
        cleanup: () => store.close(),
      };
    },
  },
  {
    name: 'RedisStore (standalone)',
    available: redisUp,
    async open() {
      const prefix = `jwts-sec:${uid()}:`;
      const store = RedisStore.connect(SERVICE_URLS.redis, { prefix });
      const admin = new Redis(SERVICE_URLS.redis);
      return {
        store,
        audit: () => auditRedis([admin], admin, prefix),
        async cleanup() {
          await store.deleteAll(0).catch(() => 0);
          await store.close();
          const left = await scanKeys(admin, `${prefix}*`);
          if (left.length > 0) await admin.del(...left);
          await admin.quit();
        },
      };
    },
  },
  {
    name: 'RedisStore (cluster)',
    available: clusterUp,
    async open() {
      const prefix = `jwts-sec:${uid()}:`;
      const store = RedisStore.connectCluster(CLUSTER_NODES, { prefix });
      const admin = new Cluster(CLUSTER_NODES);
      const masters = CLUSTER_NODES.map((node) => new Redis(node));
      return {
        store,
        async audit() {
          // SCAN on every node, keep only the keys each node masters (replicas would double count).
          const roles = await Promise.all(masters.map((m) => m.call('ROLE') as Promise<[string]>));
          return auditRedis(
            masters.filter((_, i) => roles[i]![0] === 'master'),
            admin,
            prefix,
          );
        },
        async cleanup() {
          await store.deleteAll(0).catch(() => 0);
          await store.close();
          for (const master of masters) {
            for (const key of await scanKeys(master, `${prefix}*`)) await admin.del(key).catch(() => 0);
            master.disconnect();
          }
          await admin.quit();
        },
      };
    },
  },
  sqlTarget(
    'PostgresStore',
    postgresUp,
    (tablePrefix) => new PostgresStore({ connection: SERVICE_URLS.postgres, tablePrefix }),
    () => {
      const pool = new pg.Pool({ connectionString: SERVICE_URLS.postgres, max: 1 });
      pool.on('error', () => {});
      return {
        query: async (sql) => (await pool.query(sql)).rows,
        end: () => pool.end(),
      };
    },
  ),
  sqlTarget(
    'MySqlStore (MariaDB)',
    mysqlUp,
    (tablePrefix) => new MySqlStore({ connection: SERVICE_URLS.mysql, tablePrefix }),
    () => {
      const pool = mysql.createPool({ uri: SERVICE_URLS.mysql, connectionLimit: 1 });
      return {
        query: async (sql) => (await pool.query(sql))[0],
        end: () => pool.end(),
      };
    },
  ),
  {
    name: 'SqliteStore',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'jwt-sessions-sec-'));
      const store = new SqliteStore({ filename: join(dir, 'sessions.db'), tablePrefix: 'sec_' });
      await store.migrate();
      const Database = (await import('better-sqlite3')).default;
      const admin = new Database(join(dir, 'sessions.db'), { readonly: true });
      return {
        store,
        async audit() {
          const row = admin.prepare('SELECT COUNT(*) AS n FROM sec_sessions').get() as { n: number };
          return { records: row.n, orphans: 0 };
        },
        async cleanup() {
          admin.close();
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

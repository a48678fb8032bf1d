/**
 * Shared pieces of the engine-per-store benchmarks (engine, redis, sql): the stores
 * under test opened on the shared services with unique key/table prefixes (and removed again),
 * the engine workload every benchmark measures or counts, and latency sampling.
 *
 * Services are the tests' (test/support/service-urls.ts: REDIS_URL, REDIS_CLUSTER_NODES, DATABASE_URL,
 * MYSQL_URL with local defaults).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Cluster, type Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { TokenPair } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { MySqlStore } from '../../src/stores/sql/mysql.js';
import { PostgresStore } from '../../src/stores/sql/postgres.js';
import { SqliteStore } from '../../src/stores/sql/sqlite.js';
import type { Store } from '../../src/stores/store.js';
import { clusterSeeds, SERVICE_URLS } from '../../test/support/service-urls.js';
import {
  countBetterSqlite3Statements,
  countingPgClient,
  countMysql2Statements,
  StatementCounter,
} from './counters.js';
import type { Check } from './harness.js';

export const SERVICES = {
  ...SERVICE_URLS,
  redisCluster: clusterSeeds(SERVICE_URLS.redisCluster),
} as const;

export const BENCH_KEYS = {
  signing: { alg: 'HS256', key: 'engine-bench-secret-0123456789abcdef', kid: 'bench' },
} as const;

/** Sessions per namespace for the namespace operations. */
export const NAMESPACE_SIZE = 10;

export type TargetName =
  | 'memory'
  | 'redis'
  | 'redis + live cache'
  | 'redis cluster'
  | 'redis cluster + live cache'
  | 'postgres'
  | 'mariadb'
  | 'sqlite';

/** A store opened for a benchmark, with what is needed to count its traffic and to remove it. */
export interface BenchStore {
  name: TargetName;
  store: Store;
  /** Redis: the key prefix and the nodes to watch. */
  redis?: { prefix: string; nodes: { host: string; port: number }[]; liveCache: boolean };
  /** SQL: the statements its client library sent (counted at the driver). */
  statements?: StatementCounter;
  /** Deletes everything it created (keys, tables, files) and closes; resolves what was left behind. */
  dispose(): Promise<string | null>;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Keys matching `prefix*` on a standalone server or on every master of a cluster (one SCAN pass each). */
async function countKeys(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let found = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found += keys.length;
    } while (cursor !== '0');
  }
  return found;
}

async function openRedis(name: TargetName, cluster: boolean, liveCache: boolean): Promise<BenchStore> {
  const prefix = `jwts-bench:${hex(5)}:`;
  const options = { prefix, liveCache };
  const store = cluster
    ? RedisStore.connectCluster([...SERVICES.redisCluster], options)
    : RedisStore.connect(SERVICES.redis, options);
  try {
    await store.get('probe', Date.now()); // connects (fails fast when the service is down)
    if (liveCache) await waitFor(() => store.cacheStats()!.live, 'the live cache to go live');
  } catch (error) {
    await store.close();
    throw error;
  }
  const url = new URL(SERVICES.redis);
  const nodes = cluster
    ? [...SERVICES.redisCluster]
    : [{ host: url.hostname, port: Number(url.port || 6379) }];
  return {
    name,
    store,
    redis: { prefix, nodes, liveCache },
    async dispose() {
      await store.deleteAll(0);
      const left = await countKeys(store.client, prefix);
      await store.close();
      return left === 0 ? null : `${left} keys under ${prefix}`;
    },
  };
}

function tablePrefix(): string {
  return `jwtb_${hex(4)}_`;
}

async function openPostgres(): Promise<BenchStore> {
  const prefix = tablePrefix();
  const statements = new StatementCounter();
  const store = new PostgresStore({
    connection: { connectionString: SERVICES.postgres, Client: countingPgClient(statements) },
    tablePrefix: prefix,
  });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    name: 'postgres',
    store,
    statements,
    async dispose() {
      await store.close();
      const admin = new pg.Client({ connectionString: SERVICES.postgres });
      await admin.connect();
      try {
        await admin.query(
          `DROP TABLE IF EXISTS ${store.tables.sessions}, ${store.tables.schema}, ${store.tables.prefix}dpop_proofs`,
        );
        const { rows } = await admin.query(
          "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name LIKE $1 || '%'",
          [prefix],
        );
        const left = (rows[0] as { n: number }).n;
        return left === 0 ? null : `${left} tables ${prefix}*`;
      } finally {
        await admin.end();
      }
    },
  };
}

async function openMysql(): Promise<BenchStore> {
  const prefix = tablePrefix();
  const statements = new StatementCounter();
  const stopCounting = countMysql2Statements(statements);
  const store = new MySqlStore({ connection: SERVICES.mysql, tablePrefix: prefix });
  try {
    await store.migrate();
  } catch (error) {
    stopCounting();
    await store.close();
    throw error;
  }
  return {
    name: 'mariadb',
    store,
    statements,
    async dispose() {
      await store.close();
      stopCounting();
      const admin = await mysql.createConnection(SERVICES.mysql);
      try {
        await admin.query(
          `DROP TABLE IF EXISTS ${store.tables.sessions}, ${store.tables.schema}, ${store.tables.prefix}dpop_proofs`,
        );
        const [rows] = await admin.query<mysql.RowDataPacket[]>(
          'SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
          [`${prefix}%`],
        );
        const left = Number(rows[0]!['n']);
        return left === 0 ? null : `${left} tables ${prefix}*`;
      } finally {
        await admin.end();
      }
    },
  };
}

async function openSqlite(): Promise<BenchStore> {
  const dir = await mkdtemp(join(os.tmpdir(), 'jwt-sessions-bench-'));
  const statements = new StatementCounter();
  const stopCounting = countBetterSqlite3Statements(statements);
  const store = new SqliteStore({ filename: join(dir, 'sessions.db') });
  try {
    await store.migrate();
  } catch (error) {
    stopCounting();
    await store.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: 'sqlite',
    store,
    statements,
    async dispose() {
      await store.close();
      stopCounting();
      await rm(dir, { recursive: true, force: true });
      return null;
    },
  };
}

/**
 * Another RedisStore with the live cache on the same service and key prefix as `of` (a second
 * application instance). Closing it is the caller's job; `of.dispose()` removes the keys.
 */
export async function openRedisPeer(of: BenchStore): Promise<RedisStore> {
  if (of.redis === undefined) throw new Error(`${of.name} is not a Redis store`);
  const options = { prefix: of.redis.prefix, liveCache: true };
  const peer = of.name.startsWith('redis cluster')
    ? RedisStore.connectCluster([...SERVICES.redisCluster], options)
    : RedisStore.connect(SERVICES.redis, options);
  await waitFor(() => peer.cacheStats()!.live, 'the live cache to go live');
  return peer;
}

/** Opens a store on its service; throws when the service cannot be reached. */
export function openStore(name: TargetName): Promise<BenchStore> {
  switch (name) {
    case 'memory': {
      const store = new MemoryStore();
      return Promise.resolve({
        name,
        store,
        async dispose() {
          await store.close();
          return null;
        },
      });
    }
    case 'redis':
      return openRedis(name, false, false);
    case 'redis + live cache':
      return openRedis(name, false, true);
    case 'redis cluster':
      return openRedis(name, true, false);
    case 'redis cluster + live cache':
      return openRedis(name, true, true);
    case 'postgres':
      return openPostgres();
    case 'mariadb':
      return openMysql();
    case 'sqlite':
      return openSqlite();
  }
}

/**
 * Opens each named store; one that cannot be opened is reported in `failed` (the caller turns it
 * into a failing check) and left out.
 */
export async function openStores(
  names: readonly TargetName[],
  log: (message: string) => void,
): Promise<{ opened: BenchStore[]; failed: { name: TargetName; error: string }[] }> {
  const opened: BenchStore[] = [];
  const failed: { name: TargetName; error: string }[] = [];
  for (const name of names) {
    try {
      opened.push(await openStore(name));
    } catch (error) {
      const message =
        (error instanceof Error ? error.message : String(error)) +
        (name.startsWith('redis cluster') ? ' (start it: bash scripts/redis-cluster.sh start)' : '');
      log(`${name}: cannot open (${message}); left out`);
      failed.push({ name, error: message });
    }
  }
  return { opened, failed };
}

/** Disposes every store; resolves the leftovers found, by store. */
export async function disposeStores(stores: readonly BenchStore[]): Promise<Map<TargetName, string | null>> {
  const leftovers = new Map<TargetName, string | null>();
  for (const s of stores) {
    try {
      leftovers.set(s.name, await s.dispose());
    } catch (error) {
      leftovers.set(s.name, `clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return leftovers;
}

/**
 * Disposes every store (disposeStores) and turns what each left behind into a check;
 * `cleanDetail` is the detail of a clean pass (what "nothing" means for these stores).
 */
export async function disposeStoresChecked(
  stores: readonly BenchStore[],
  cleanDetail: string,
): Promise<Check[]> {
  return [...(await disposeStores(stores))].map(([store, left]) => ({
    name: `${store}: clean-up left nothing behind`,
    pass: left === null,
    detail: left ?? cleanDetail,
  }));
}

export const ENGINE_OPS = [
  'login',
  'refresh',
  'strict verify',
  'stateless verify',
  `revoke namespace access (${NAMESPACE_SIZE})`,
] as const;
export type EngineOp = (typeof ENGINE_OPS)[number];

/**
 * The engine operations measured over one store, each a repeatable call:
 * - login: a new session in one of 1000 namespaces;
 * - refresh: rotation along one session's chain (each call presents the latest refresh token);
 * - strict / stateless verify: the same current access token (`verifyAccess` with the mode);
 * - revoke namespace access: `revokeNamespaceAccess` on a namespace of NAMESPACE_SIZE sessions
 *   (it marks and re-versions every session each time, so it can repeat);
 * and `revokeNamespace` (ends every session: not repeatable) through `fillNamespace` + `revoke`.
 */
export interface EngineWorkload {
  sessions: Sessions;
  ops: Record<EngineOp, () => Promise<unknown>>;
  /** Logs in NAMESPACE_SIZE sessions in a fresh namespace; resolves its name. */
  fillNamespace(): Promise<string>;
  /** `revokeNamespace`; throws unless exactly NAMESPACE_SIZE sessions ended. */
  revokeNamespace(namespace: string): Promise<void>;
  /** Moves the engine's clock (to make last-used writes due). */
  advanceClock(ms: number): void;
}

export async function engineWorkload(store: Store): Promise<EngineWorkload> {
  let skew = 0;
  const sessions = createSessions({ keys: BENCH_KEYS, store, clock: () => Date.now() + skew });
  const payload = { role: 'user', plan: 'pro' };
  let logins = 0;
  let namespaces = 0;
  let chain: TokenPair = await sessions.login({ namespace: 'refresher', payload });
  const verified = await sessions.login({ namespace: 'verifier', payload });
  const team = `team-${hex(3)}`;
  for (let i = 0; i < NAMESPACE_SIZE; i++) await sessions.login({ namespace: team, payload });
  const revokeAccess = `revoke namespace access (${NAMESPACE_SIZE})` as const;
  const workload: EngineWorkload = {
    sessions,
    ops: {
      login: () => sessions.login({ namespace: `user:${logins++ % 1000}`, payload }),
      refresh: async () => {
        chain = await sessions.refresh(chain.refresh);
      },
      'strict verify': () => sessions.verifyAccess(verified.access, { mode: 'strict' }),
      'stateless verify': () => sessions.verifyAccess(verified.access, { mode: 'stateless' }),
      [revokeAccess]: async () => {
        const count = await sessions.revokeNamespaceAccess(team);
        if (count !== NAMESPACE_SIZE) throw new Error(`revokeNamespaceAccess ended ${count} sessions`);
      },
    },
    async fillNamespace() {
      const namespace = `ns-${namespaces++}-${hex(3)}`;
      for (let i = 0; i < NAMESPACE_SIZE; i++) await sessions.login({ namespace, payload });
      return namespace;
    },
    async revokeNamespace(namespace) {
      const count = await sessions.revokeNamespace(namespace);
      if (count !== NAMESPACE_SIZE) throw new Error(`revokeNamespace ended ${count} sessions`);
    },
    advanceClock(ms) {
      skew += ms;
    },
  };
  // Every operation works before anything is measured (and scripts/statements are prepared).
  for (const op of ENGINE_OPS) await workload.ops[op]();
  await workload.revokeNamespace(await workload.fillNamespace());
  return workload;
}

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of latency samples (ms). */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    n: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1)!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** Latency of sequential calls (one in flight) for about `ms` (at least 20, at most `maxSamples` calls). */
export async function sampleLatency(
  fn: () => Promise<unknown>,
  ms: number,
  maxSamples = 20_000,
): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + ms;
  while (samples.length < maxSamples && (samples.length < 20 || performance.now() < end)) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Yields to the event loop (lets socket reads run between polls). */
export function yieldToEventLoop(): Promise<void> {
  return nextTurn();
}

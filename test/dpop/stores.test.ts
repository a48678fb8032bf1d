/**
 * DPoP on every store (issue 16 part 5): two engine instances, each with its own store client on
 * one backend (memory: one store shared; Redis with the live cache; Redis Cluster; PostgreSQL;
 * MariaDB; SQLite: two connections on one file). The binding written by one is enforced by the
 * other; a stolen access or refresh token is refused without the key in every way (no proof, a
 * proof by another key, a used proof) and changes nothing in the store; one proof raced across
 * both instances is accepted exactly once (the replay cache is atomic), for resource requests and
 * for refreshes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { JwtSessionsError } from '../../src/errors.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { MySqlStore } from '../../src/stores/sql/mysql.js';
import { PostgresStore } from '../../src/stores/sql/postgres.js';
import type { SqlStore } from '../../src/stores/sql/shared.js';
import { SqliteStore } from '../../src/stores/sql/sqlite.js';
import type { Store } from '../../src/stores/store.js';
import { createDpopProof } from '../../src/tokens/index.js';
import { probeRedis, probeRedisCluster } from '../support/redis-probes.js';
import { clusterSeeds, describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

const ORIGIN = 'https://app.example';
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
/** The thief's own key: a proof by it is not a proof by the session's key. */
const OTHER_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const RACERS = 12;

const redisUp = await serviceAvailable('redis', () => probeRedis(SERVICE_URLS.redis));
const clusterUp = await serviceAvailable('redis cluster', () => probeRedisCluster(clusterSeeds()[0]!));
const mysqlUp = await serviceAvailable('MySQL/MariaDB', async () => {
  const connection = await mysql.createConnection({ uri: SERVICE_URLS.mysql, connectTimeout: 3000 });
  await connection.end();
});
const postgresUp = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
});

function engine(store: Store): Sessions {
  return createSessions({
    keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
    store,
    accessTtl: 600,
    refreshTtl: 3600,
  });
}

function proof(method: string, path: string, accessToken?: string, privateKey = KEY) {
  const url = `${ORIGIN}${path}`;
  return {
    proof: createDpopProof({
      privateKey,
      alg: 'ES256',
      method,
      url,
      ...(accessToken !== undefined && { accessToken }),
    }),
    method,
    url,
  };
}

async function outcomes(attempts: Promise<unknown>[]): Promise<{ won: number; codes: string[] }> {
  const settled = await Promise.allSettled(attempts);
  const codes = settled.flatMap((s) =>
    s.status === 'rejected' ? [(s.reason as JwtSessionsError).code ?? String(s.reason)] : [],
  );
  return { won: settled.filter((s) => s.status === 'fulfilled').length, codes };
}

/** The scenarios every backend runs: `pair()` opens two stores on one backend. */
function raceScenarios(pair: () => Promise<[Store, Store]>): void {
  it('a binding written by one instance is enforced by the other', async () => {
    const [storeA, storeB] = await pair();
    const a = engine(storeA);
    const b = engine(storeB);
    const login = await a.login({ namespace: 'u', dpop: proof('POST', '/auth/login') });
    expect(login.jkt).toBeDefined();
    expect((await b.getSession(login.sessionId))?.jkt).toBe(login.jkt);
    await expect(b.refresh(login.refresh)).rejects.toMatchObject({ code: 'dpop_proof_missing' });
    await expect(b.verifyAccess(login.access)).rejects.toMatchObject({ code: 'dpop_proof_missing' });
    const next = await b.refresh(login.refresh, { dpop: proof('POST', '/auth/refresh') });
    expect(next.jkt).toBe(login.jkt);
  });

  it('stolen tokens without the key: no proof, another key, a used proof, all refused, store unchanged', async () => {
    const [storeA, storeB] = await pair();
    const a = engine(storeA);
    const thief = engine(storeB);
    const login = await a.login({ namespace: 'u', dpop: proof('POST', '/auth/login') });
    const before = await storeA.get(login.sessionId, Date.now());
    const used = proof('GET', '/api/me', login.access);
    await a.verifyAccess(login.access, { dpop: used });
    const usedRefresh = proof('POST', '/auth/refresh');
    const attempts: [() => Promise<unknown>, string][] = [
      [() => thief.verifyAccess(login.access), 'dpop_proof_missing'],
      [
        () => thief.verifyAccess(login.access, { dpop: proof('GET', '/api/me', login.access, OTHER_KEY) }),
        'dpop_key_mismatch',
      ],
      [() => thief.verifyAccess(login.access, { dpop: used }), 'dpop_replayed'],
      [() => thief.refresh(login.refresh), 'dpop_proof_missing'],
      [
        () => thief.refresh(login.refresh, { dpop: proof('POST', '/auth/refresh', undefined, OTHER_KEY) }),
        'dpop_key_mismatch',
      ],
    ];
    for (const [attempt, code] of attempts) await expect(attempt()).rejects.toMatchObject({ code });
    // A refresh proof used once by the owner cannot be used again by whoever copied it.
    await a.refresh(login.refresh, { dpop: usedRefresh }).then((next) => expect(next.jkt).toBe(login.jkt));
    const afterOwner = await storeA.get(login.sessionId, Date.now());
    await expect(thief.refresh(login.refresh, { dpop: usedRefresh })).rejects.toMatchObject({
      code: 'dpop_replayed',
    });
    expect(await storeA.get(login.sessionId, Date.now())).toEqual(afterOwner);
    expect(afterOwner?.version).toBe((before?.version ?? 0) + 1);
  });

  it(`one resource proof raced ${RACERS} times across two instances: exactly one wins`, async () => {
    const [storeA, storeB] = await pair();
    const a = engine(storeA);
    const b = engine(storeB);
    const login = await a.login({ namespace: 'u', dpop: proof('POST', '/auth/login') });
    for (let round = 0; round < 3; round++) {
      const dpop = proof('GET', '/api/me', login.access);
      const { won, codes } = await outcomes(
        Array.from({ length: RACERS }, (_, i) => (i % 2 === 0 ? a : b).verifyAccess(login.access, { dpop })),
      );
      expect(won).toBe(1);
      expect(new Set(codes)).toEqual(new Set(['dpop_replayed']));
    }
  });

  it('one refresh proof raced across two instances: exactly one refresh', async () => {
    const [storeA, storeB] = await pair();
    const a = engine(storeA);
    const b = engine(storeB);
    const login = await a.login({ namespace: 'u', dpop: proof('POST', '/auth/login') });
    const dpop = proof('POST', '/auth/refresh');
    const { won, codes } = await outcomes(
      Array.from({ length: RACERS }, (_, i) => (i % 2 === 0 ? a : b).refresh(login.refresh, { dpop })),
    );
    expect(won).toBe(1);
    expect(new Set(codes)).toEqual(new Set(['dpop_replayed']));
    const record = await storeA.get(login.sessionId, Date.now());
    expect(record?.version).toBe(2);
  });
}

/** Two Redis stores (standalone or cluster) under one fresh prefix, emptied and closed afterwards. */
function redisPairs(connect: (prefix: string) => RedisStore): () => Promise<[Store, Store]> {
  const opened: RedisStore[] = [];
  afterAll(async () => {
    for (const store of opened) {
      await store.deleteAll(0).catch(() => {});
      await store.close();
    }
  });
  return async () => {
    const prefix = `jwts-test:${randomBytes(6).toString('hex')}:`;
    const stores = [connect(prefix), connect(prefix)];
    opened.push(...stores);
    return [stores[0]!, stores[1]!];
  };
}

describeWithService(redisUp)('DPoP on Redis (live cache on), two instances', () => {
  raceScenarios(redisPairs((prefix) => RedisStore.connect(SERVICE_URLS.redis, { prefix, liveCache: true })));
});

/**
 * Two SQL stores on one database under fresh tables; the tables are dropped afterwards through
 * `dropTable` (a bookkeeping connection of the test's own).
 */
function sqlPairs(
  open: (tablePrefix: string) => SqlStore,
  dropTable: (name: string) => Promise<unknown>,
  closeAdmin: () => Promise<void>,
): () => Promise<[Store, Store]> {
  const prefixes: string[] = [];
  const opened: SqlStore[] = [];
  afterAll(async () => {
    for (const store of opened) await store.close();
    for (const prefix of prefixes) {
      for (const table of ['sessions', 'dpop_proofs', 'schema_version']) await dropTable(`${prefix}${table}`);
    }
    await closeAdmin();
  });
  return async () => {
    const prefix = `t${randomBytes(5).toString('hex')}_`;
    prefixes.push(prefix);
    const stores = [open(prefix), open(prefix)];
    opened.push(...stores);
    await stores[0]!.migrate();
    return [stores[0]!, stores[1]!];
  };
}

describeWithService(postgresUp)('DPoP on PostgreSQL, two instances', () => {
  const admin = new pg.Pool({ connectionString: SERVICE_URLS.postgres, max: 1 });
  admin.on('error', () => {});
  raceScenarios(
    sqlPairs(
      (tablePrefix) => new PostgresStore({ connection: SERVICE_URLS.postgres, tablePrefix }),
      (name) => admin.query(`DROP TABLE IF EXISTS ${name}`),
      () => admin.end(),
    ),
  );
});

describe('DPoP on the memory store, two engines', () => {
  raceScenarios(async () => {
    const store = new MemoryStore();
    return [store, store];
  });
});

describeWithService(clusterUp)('DPoP on a Redis Cluster, two instances', () => {
  raceScenarios(redisPairs((prefix) => RedisStore.connectCluster(clusterSeeds(), { prefix })));
});

describeWithService(mysqlUp)('DPoP on MariaDB/MySQL, two instances', () => {
  const admin = mysql.createPool({ uri: SERVICE_URLS.mysql, connectionLimit: 1 });
  raceScenarios(
    sqlPairs(
      (tablePrefix) => new MySqlStore({ connection: SERVICE_URLS.mysql, tablePrefix }),
      (name) => admin.query(`DROP TABLE IF EXISTS ${name}`),
      () => admin.end(),
    ),
  );
});

describe('DPoP on SQLite, two connections on one file', () => {
  const opened: SqliteStore[] = [];
  afterAll(async () => {
    for (const store of opened) await store.close();
  });
  raceScenarios(async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'jwts-dpop-')), 'sessions.db');
    const stores = [0, 1].map(() => new SqliteStore({ filename }));
    opened.push(...stores);
    await stores[0]!.migrate();
    return [stores[0]!, stores[1]!];
  });
});

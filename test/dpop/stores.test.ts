/**
 * DPoP on real stores (issue 16 part 5): two engine instances, each with its own store client on
 * one Redis (with the live cache) and one PostgreSQL database. The binding written by one is
 * enforced by the other; one proof raced across both instances is accepted exactly once (the
 * replay cache is atomic across instances), for resource requests and for refreshes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import type { JwtSessionsError } from '../../src/errors.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { PostgresStore } from '../../src/stores/sql/postgres.js';
import type { Store } from '../../src/stores/store.js';
import { createDpopProof } from '../../src/tokens/index.js';
import { probeRedis } from '../support/redis-probes.js';
import { describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

const ORIGIN = 'https://app.example';
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const RACERS = 12;

const redisUp = await serviceAvailable('redis', () => probeRedis(SERVICE_URLS.redis));
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

function proof(method: string, path: string, accessToken?: string) {
  const url = `${ORIGIN}${path}`;
  return {
    proof: createDpopProof({
      privateKey: KEY,
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

describeWithService(redisUp)('DPoP on Redis (live cache on), two instances', () => {
  const opened: RedisStore[] = [];
  afterAll(async () => {
    for (const store of opened) {
      await store.deleteAll(0).catch(() => {});
      await store.close();
    }
  });
  raceScenarios(async () => {
    const prefix = `jwts-test:${randomBytes(6).toString('hex')}:`;
    const stores = [0, 1].map(() => RedisStore.connect(SERVICE_URLS.redis, { prefix, liveCache: true }));
    opened.push(...stores);
    return [stores[0]!, stores[1]!];
  });
});

describeWithService(postgresUp)('DPoP on PostgreSQL, two instances', () => {
  const admin = new pg.Pool({ connectionString: SERVICE_URLS.postgres, max: 1 });
  admin.on('error', () => {});
  const prefixes: string[] = [];
  const opened: PostgresStore[] = [];
  afterAll(async () => {
    for (const store of opened) await store.close();
    for (const prefix of prefixes) {
      for (const table of ['sessions', 'dpop_proofs', 'schema_version']) {
        await admin.query(`DROP TABLE IF EXISTS ${prefix}${table}`);
      }
    }
    await admin.end();
  });
  raceScenarios(async () => {
    const prefix = `t${randomBytes(5).toString('hex')}_`;
    prefixes.push(prefix);
    const stores = [0, 1].map(
      () => new PostgresStore({ connection: SERVICE_URLS.postgres, tablePrefix: prefix }),
    );
    opened.push(...stores);
    await stores[0]!.migrate();
    return [stores[0]!, stores[1]!];
  });
});

/**
 * RedisStore on a standalone Redis: the shared contract suite (with and without the live cache),
 * then what is specific to Redis: one round trip per operation, no KEYS/SCAN, TTLs, compact
 * storage, expired-entry reclaim, failure and recovery on a throwaway server, and the live cache
 * (propagation between two instances, fail-closed on a dropped subscription, bounded size).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import { createRedisClient, RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js';
import { LiveCache, outdates, parseInvalidation } from '../../src/stores/redis/live-cache.js';
import type { StoredSession } from '../../src/stores/store.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { record, T0 } from '../support/records.js';
import { engineRoundTrips, twoInstancesTakeTurns, until } from '../support/redis-live-cache.js';
import { probeRedis, scanKeys } from '../support/redis-probes.js';
import {
  CommandWatch,
  redisServerInstalled,
  roundTrips,
  startRedisServer,
  type ThrowawayRedis,
} from '../support/redis-server.js';
import { describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

const URL = SERVICE_URLS.redis;

const available = await serviceAvailable('redis', () => probeRedis(URL));
const serverBinary = await serviceAvailable('redis-server binary (throwaway servers)', async () => {
  if (!redisServerInstalled()) throw new Error('redis-server is not on PATH');
});

const describeRedis = describeWithService(available);
const describeThrowaway = describeWithService(available && serverBinary);

function randomPrefix(): string {
  return `jwts-test:${randomBytes(6).toString('hex')}:`;
}

/** Keys under `prefix` (tests may SCAN; the store never does). */
function keysUnder(admin: Redis, prefix: string): Promise<string[]> {
  return scanKeys(admin, `${prefix}*`);
}

/** A store on its own client and prefix; cleanup empties it and checks nothing was left behind. */
function storeFactory(admin: () => Redis, options: RedisStoreOptions = {}) {
  return async () => {
    const prefix = randomPrefix();
    const store = RedisStore.connect(URL, { prefix, ...options });
    return {
      store,
      cleanup: async () => {
        await store.deleteAll(0);
        await store.close();
        // Replay-cache entries are not sessions (deleteAll keeps them; their TTL reclaims them).
        const replayEntries = await keysUnder(admin(), `${prefix}p:`);
        if (replayEntries.length > 0) await admin().del(...replayEntries);
        const left = await keysUnder(admin(), prefix);
        if (left.length > 0) {
          await admin().del(...left);
          throw new Error(`deleteAll left keys behind: ${left.join(', ')}`);
        }
      },
      twin: async () => RedisStore.connect(URL, { prefix, ...options }),
    };
  };
}

let admin: Redis;
if (available) {
  admin = new Redis(URL);
  afterAll(() => admin.quit());
}

describeWithService(available)('RedisStore: shared contract', () => {
  describeStoreContract(
    'RedisStore',
    storeFactory(() => admin),
  );
  describeStoreContract(
    'RedisStore (live cache)',
    storeFactory(() => admin, { liveCache: true }),
  );
});

/** Stores opened by a test, emptied and closed after it. */
const opened: { store: RedisStore; prefix: string; shared: boolean }[] = [];
function open(options: RedisStoreOptions = {}, url = URL): RedisStore {
  const prefix = options.prefix ?? randomPrefix();
  const store = RedisStore.connect(url, { ...options, prefix });
  opened.push({ store, prefix, shared: url === URL });
  return store;
}
afterEach(async () => {
  for (const { store, prefix, shared } of opened.splice(0)) {
    await store.deleteAll(0).catch(() => undefined);
    await store.close();
    if (shared) {
      const left = await keysUnder(admin, prefix);
      if (left.length > 0) await admin.del(...left);
    }
  }
});

const engineKeys = {
  signing: { alg: 'HS256', key: 'redis-suite-secret-0123456789abcdef', kid: 'k1' },
} as const;

describeRedis('RedisStore on standalone Redis: round trips and commands', () => {
  let watch: CommandWatch;
  beforeAll(async () => {
    const { hostname, port } = new globalThis.URL(URL);
    watch = await CommandWatch.start([{ host: hostname, port: Number(port || 6379) }]);
  });
  afterAll(() => watch.stop());

  it('every store operation is one round trip (one script or one HMGET)', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix });
    const a = record({ namespace: 'user:1' });
    const b = record({ namespace: 'user:1', createdAt: T0 + 1 });
    await store.create(b); // warm the connection (first use of each script on a socket is EVAL)

    const counts: Record<string, number> = {};
    async function count(name: string, operation: () => Promise<unknown>): Promise<void> {
      const { commands } = await watch.record(operation);
      counts[name] = roundTrips(commands, prefix).length;
    }
    await count('create', () => store.create(a));
    await count('get', () => store.get(a.id, T0));
    await count('replace', () => store.replace({ ...a, version: 2 }, 1, T0));
    await count('touch', () => store.touch(a.id, T0 + 1, T0 + 70_000, T0 + 1));
    await count('listNamespace', () => store.listNamespace('user:1', T0 + 2));
    await count('revokeNamespaceAccess', () => store.revokeNamespaceAccess('user:1', T0 + 2));
    await count('delete', () => store.delete(a.id, T0 + 2));
    await count('deleteNamespace', () => store.deleteNamespace('user:1', T0 + 2));
    await count('deleteAll', () => store.deleteAll(T0 + 2));
    expect(counts).toEqual({
      create: 1,
      get: 1,
      replace: 1,
      touch: 1,
      listNamespace: 1,
      revokeNamespaceAccess: 1,
      delete: 1,
      deleteNamespace: 1,
      deleteAll: 1,
    });
  });

  it('reads asked together leave as one command per bucket, each answering its own session', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix });
    const stored = Array.from({ length: 20 }, (_, i) => record({ namespace: `user:${i % 3}` }));
    for (const s of stored) await store.create(s);
    await store.get(stored[0]!.id, T0); // warm the connection (a script's first use on a socket is EVAL)
    await Promise.all([store.get(stored[1]!.id, T0), store.get(stored[2]!.id, T0)]);
    const ids = [...stored.map((s) => s.id), 'no-such-session'];
    const { result, commands } = await watch.record(() => Promise.all(ids.map((id) => store.get(id, T0))));
    expect(result.slice(0, -1)).toEqual(stored);
    expect(result.at(-1)).toBeNull();
    const sent = roundTrips(commands, prefix);
    expect(sent.map((c) => c.name)).toEqual(['evalsha']);
    // The script read each session once, in order.
    const reads = commands.filter((c) => c.source === 'lua' && c.name === 'hmget').map((c) => c.args[0]);
    expect(reads).toEqual(ids.map((id) => store.layout.bucketOf(id).sessionPrefix + id));
    // A read alone is still a plain HMGET.
    const alone = await watch.record(() => store.get(stored[3]!.id, T0));
    expect(roundTrips(alone.commands, prefix).map((c) => c.name)).toEqual(['hmget']);
  });

  it('a batched read answers exactly what a lone read does, whatever the data holds', async () => {
    const store = open();
    const texts = [
      '{"quote":"\\"","backslash":"\\\\","nul":"\\u0000"}',
      'not JSON at all: " \\ \u0000 \n \t \u2028 é ✓ 🔑',
      '',
      'false',
      '[null,false]',
      'x'.repeat(70_000),
    ];
    const stored = texts.map((data, i) =>
      record({ data, namespace: i % 2 ? null : `user:${i}`, accessRevoked: i === 3, version: i + 1 }),
    );
    for (const s of stored) await store.create(s);
    const batched = await Promise.all(stored.map((s) => store.get(s.id, T0)));
    expect(batched).toEqual(stored);
    for (const s of stored) expect(await store.get(s.id, T0)).toEqual(s);
    // Expired by the caller's time: null from a batch as from a lone read.
    const late = stored[0]!.expiresAt;
    expect(await Promise.all(stored.map((s) => store.get(s.id, late)))).toEqual(stored.map(() => null));
  });

  it('through the engine: login 1, strict verify 1 (2 when it touches), refresh 2 (read + CAS)', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix });
    let now = Date.now();
    const sessions = createSessions({ keys: engineKeys, store, clock: () => now, touchInterval: 60 });
    const login = await watch.record(() => sessions.login({ namespace: 'u' }));
    const verify = await watch.record(() => sessions.verifyAccess(login.result.access));
    now += 61_000;
    const verifyTouch = await watch.record(() => sessions.verifyAccess(login.result.access));
    const refresh = await watch.record(() => sessions.refresh(login.result.refresh));
    const names = (c: { commands: { name: string }[] }) =>
      roundTrips(c.commands as never, prefix).map((x) => x.name);
    expect(names(login)).toHaveLength(1);
    expect(names(verify)).toEqual(['hmget']);
    expect(names(verifyTouch)).toHaveLength(2);
    expect(names(refresh)).toHaveLength(2);
  });

  it('with the live cache: login 1 round trip, refresh 1 (the CAS only), strict verify 0', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix, liveCache: true });
    const counted = await engineRoundTrips(store, watch, prefix);
    expect(counted).toEqual({
      login: ['evalsha'],
      // every refresh of the chain reads the record its predecessor wrote and cached
      refresh: [['evalsha'], ['evalsha'], ['evalsha']],
      verify: [],
      verifyAfterRefresh: [],
      // the touch is the only round trip: this instance keeps the record it touched cached
      verifyTouching: ['evalsha'],
      verifyAfterTouch: [],
    });
  });

  it('what an instance caches from its own writes is exactly what Redis holds', async () => {
    const prefix = randomPrefix();
    const cached = open({ prefix, liveCache: true });
    const direct = open({ prefix }); // no cache: reads Redis
    await until(() => cached.cacheStats()!.live);
    const same = async (id: string) => {
      const hits = cached.cacheStats()!.hits;
      const local = await cached.get(id, T0);
      expect(cached.cacheStats()!.hits).toBe(hits + 1); // served from the cache ...
      expect(local).toEqual(await direct.get(id, T0)); // ... and identical to Redis
      return local;
    };
    for (const namespace of ['user:1', null]) {
      const s = record({ namespace });
      await cached.create(s);
      expect(await same(s.id)).toEqual(s);
      // the namespace is immutable: a replace naming another one keeps (and caches) the stored one
      const next = {
        ...s,
        version: 2,
        namespace: 'other',
        lastUsedAt: T0 + 5,
        data: 'v2',
        accessRevoked: true,
      };
      expect(await cached.replace(next, 1, T0 + 5)).toBe(true);
      expect(await same(s.id)).toMatchObject({ namespace, version: 2, data: 'v2', accessRevoked: true });
      await cached.touch(s.id, T0 + 9, T0 + 120_000, T0 + 9);
      expect(await same(s.id)).toMatchObject({ version: 2, lastUsedAt: T0 + 9, expiresAt: T0 + 120_000 });
    }
    expect(await direct.listNamespace('other', T0)).toEqual([]);
  });

  it('a stale cached record costs a failed CAS and one re-read, never a wrong answer', async () => {
    const prefix = randomPrefix();
    const a = open({ prefix, liveCache: true });
    // C writes without publishing: exactly what A sees while an invalidation is still on its way
    const silent = open({ prefix, publishInvalidations: false });
    await until(() => a.cacheStats()!.live);
    const s = record({ expiresAt: Date.now() + 60_000 });
    await a.create(s);
    await a.replace({ ...s, version: 2, data: 'by A' }, 1, T0); // warm the scripts
    expect(await silent.replace({ ...s, version: 3, data: 'by C' }, 2, T0)).toBe(true);
    // A's cache still holds version 2: its CAS fails (one round trip) ...
    const cas = await watch.record(() => a.replace({ ...s, version: 3, data: 'stale' }, 2, T0));
    expect(cas.result).toBe(false);
    expect(roundTrips(cas.commands, prefix).map((c) => c.name)).toEqual(['evalsha']);
    // ... which evicts the record: the retry's read goes to Redis and sees C's write
    const reread = await watch.record(() => a.get(s.id, T0));
    expect(roundTrips(reread.commands, prefix).map((c) => c.name)).toEqual(['hmget']);
    expect(reread.result).toMatchObject({ version: 3, data: 'by C' });

    // Through the engine: A caches its login; C refreshes silently; A's refresh of the same token
    // (a second tab) tries the CAS on its stale record, fails, re-reads Redis once and gets C's
    // generation (the grace window), exactly as if it had read Redis in the first place.
    const engineA = createSessions({ keys: engineKeys, store: a });
    const engineC = createSessions({ keys: engineKeys, store: silent });
    const pair = await engineA.login();
    const rotated = await engineC.refresh(pair.refresh);
    const retry = await watch.record(() => engineA.refresh(pair.refresh));
    expect(roundTrips(retry.commands, prefix).map((c) => c.name)).toEqual(['evalsha', 'hmget']);
    expect(retry.result.refresh).toBe(rotated.refresh);
    expect(retry.result.access).toBe(rotated.access);
    await expect(engineA.verifyAccess(pair.access)).rejects.toMatchObject({ code: 'access_revoked' });
    await expect(engineA.verifyAccess(rotated.access)).resolves.toBeTruthy();
  });

  it('never uses KEYS or SCAN, in any operation or script', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix, pruneBatch: 1000 });
    const { commands } = await watch.record(async () => {
      for (let i = 0; i < 5; i++) await store.create(record({ namespace: 'n', expiresAt: T0 + 100 }));
      await store.create(record({ namespace: 'n', createdAt: T0 + 200, expiresAt: T0 + 60_000 })); // prunes
      const s = record({ namespace: 'm' });
      await store.create(s);
      await store.get(s.id, T0);
      await store.replace({ ...s, version: 2 }, 1, T0);
      await store.touch(s.id, T0, T0 + 90_000, T0);
      await store.listNamespace('n', T0 + 300);
      await store.revokeNamespaceAccess('n', T0 + 300);
      await store.deleteNamespace('n', T0 + 300);
      await store.delete(s.id, T0);
      await store.create(record());
      await store.deleteAll(T0);
    });
    // Other test files share this server (and may SCAN for their own cleanup): count only what the
    // store's connection sent, and the script-run commands that name the store's keys.
    const client = store.client as Redis;
    const own = `${client.stream.localAddress}:${client.stream.localPort}`;
    const mine = commands.filter((c) =>
      c.source.includes('lua') ? c.args.some((arg) => arg.startsWith(prefix)) : c.source === own,
    );
    const used = new Set(mine.map((c) => c.name));
    expect(used.size).toBeGreaterThan(5);
    for (const forbidden of ['keys', 'scan', 'sscan', 'hscan', 'zscan'])
      expect(used.has(forbidden)).toBe(false);
    // and nowhere in the source either
    const dir = join(import.meta.dirname, '../../src/stores/redis');
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      expect(source).not.toMatch(/['"`](KEYS|SCAN|SSCAN|HSCAN|ZSCAN)['"`]/i);
      expect(source).not.toMatch(/\b(client|redis|cluster|subscriber)\.(keys|scan|scanStream)\(/i);
    }
  });
});

describeRedis('RedisStore on standalone Redis: storage', () => {
  it('stores a session as one small hash with a TTL set with the data, relative to the caller clock', async () => {
    const store = open();
    const now = Date.now();
    // the caller's clock may be years behind Redis' (the contract suite's is): the TTL follows it
    const session = record({ namespace: 'n', createdAt: T0, lastUsedAt: T0, expiresAt: T0 + 120_000 });
    await store.create(session);
    const key = store.sessionKey(session.id);
    expect(await admin.hgetall(key)).toEqual({
      v: '1',
      c: String(T0),
      u: String(T0),
      e: String(T0 + 120_000),
      r: '0',
      n: 'n',
      d: session.data,
    });
    expect(['listpack', 'ziplist']).toContain(await admin.object('ENCODING', key));
    const bytes = Number(await admin.call('MEMORY', 'USAGE', key));
    console.info(
      `[redis] one session (key ${key.length} B, data ${session.data.length} B): MEMORY USAGE ${bytes} B`,
    );
    expect(bytes).toBeLessThan(256);
    const pttl = await admin.pttl(key);
    expect(pttl).toBeGreaterThan(110_000);
    expect(pttl).toBeLessThanOrEqual(120_000);
    const bucket = store.layout.bucketOf(session.id);
    expect(await admin.pttl(bucket.all)).toBeGreaterThan(110_000);
    expect(await admin.pttl(`${bucket.namespacePrefix}n`)).toBeGreaterThan(110_000);
    // touch and replace move the TTL with expiresAt
    await store.touch(session.id, T0 + 10, T0 + 600_000, T0 + 10);
    expect(await admin.pttl(key)).toBeGreaterThan(590_000);
    expect(await admin.pttl(bucket.all)).toBeGreaterThan(590_000);
    await store.replace({ ...session, version: 2, expiresAt: T0 + 30_000 }, 1, T0 + 20);
    const shrunk = await admin.pttl(key);
    expect(shrunk).toBeGreaterThan(25_000);
    expect(shrunk).toBeLessThanOrEqual(30_000);
    expect(Date.now() - now).toBeLessThan(5000);
  });

  it('Redis reclaims a session when its TTL runs out', async () => {
    const store = open();
    const now = Date.now();
    const session = record({ namespace: 'short', createdAt: now, lastUsedAt: now, expiresAt: now + 100 });
    await store.create(session);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await admin.exists(store.sessionKey(session.id))).toBe(0);
    const bucket = store.layout.bucketOf(session.id);
    expect(await admin.exists(bucket.all, `${bucket.namespacePrefix}short`)).toBe(0);
    expect(await store.get(session.id, Date.now())).toBeNull();
  });

  it('create reclaims expired sessions and index entries (bounded batch)', async () => {
    const store = open({ pruneBatch: 3 });
    const old = Array.from({ length: 5 }, () => record({ namespace: 'n', expiresAt: T0 + 100 }));
    for (const s of old) await store.create(s);
    const bucket = store.layout.bucketOf(old[0]!.id);
    await store.create(record({ createdAt: T0 + 1000, expiresAt: T0 + 60_000 }));
    expect(await admin.zcard(bucket.all)).toBe(3); // 5 expired - 3 reclaimed + 1 new
    expect(await admin.zcard(`${bucket.namespacePrefix}n`)).toBe(2); // reclaimed from both indexes
    await store.create(record({ namespace: 'n', createdAt: T0 + 1000, expiresAt: T0 + 60_000 }));
    expect(await admin.zcard(bucket.all)).toBe(2);
    expect(await admin.zcard(`${bucket.namespacePrefix}n`)).toBe(1);
    const left = await Promise.all(old.map((s) => admin.exists(store.sessionKey(s.id))));
    expect(left.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('deleteAll works in batches and removes every key of the prefix, nothing else', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix, deleteAllBatch: 7 });
    const other = open();
    const keep = record({ namespace: 'x' });
    await other.create(keep);
    for (let i = 0; i < 40; i++)
      await store.create(record({ namespace: `ns${i % 4}`, expiresAt: T0 + 1000 + i }));
    expect(await store.deleteAll(T0 + 1010)).toBe(29); // i = 11..39 are live at T0 + 1010
    expect(await keysUnder(admin, prefix)).toEqual([]);
    expect(await other.get(keep.id, T0)).toEqual(keep);
  });

  it('refuses an id clash, an ioredis keyPrefix and a prefix with braces', async () => {
    const store = open();
    const s = record();
    await store.create(s);
    await expect(store.create(s)).rejects.toThrow(/clash/);
    const prefixed = new Redis(URL, { keyPrefix: 'x:', lazyConnect: true });
    expect(() => new RedisStore(prefixed)).toThrow(/keyPrefix/);
    prefixed.disconnect();
    const plain = new Redis(URL, { lazyConnect: true });
    expect(() => new RedisStore(plain, { prefix: 'a{b}:' })).toThrow(/braces/);
    expect(() => new RedisStore(plain, { buckets: 0 })).toThrow(/buckets/);
    plain.disconnect();
  });

  it('does not close a client it was given', async () => {
    const client = createRedisClient(URL);
    const store = new RedisStore(client, { prefix: randomPrefix() });
    await store.create(record());
    await store.deleteAll(0);
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await expect(store.get('x', 0)).rejects.toThrow(/closed/);
    await client.quit();
  });
});

describeThrowaway('RedisStore failure behaviour (throwaway redis-server)', () => {
  let server: ThrowawayRedis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    server = await startRedisServer();
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.stop();
  });

  async function failsWithin(operation: () => Promise<unknown>, bound: number): Promise<number> {
    const started = performance.now();
    const error = await operation().then(
      () => null,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).code).toBe('store_unavailable');
    expect((error as StoreUnavailableError).status).toBe(503);
    expect(elapsed).toBeLessThan(bound);
    return elapsed;
  }

  it('server down: 503 within the timeout for every operation, engine included; recovers by itself', async () => {
    const timeout = 300;
    const store = open({ commandTimeout: timeout }, server.url);
    const sessions = createSessions({ keys: engineKeys, store });
    const pair = await sessions.login({ namespace: 'u' });
    await sessions.verifyAccess(pair.access);

    await server.stop();
    const s = record({ namespace: 'u' });
    const elapsed: number[] = [];
    const bound = timeout + 400; // the timeout plus scheduling slack on a loaded machine
    elapsed.push(await failsWithin(() => store.get(s.id, T0), bound));
    elapsed.push(await failsWithin(() => store.create(s), bound));
    elapsed.push(await failsWithin(() => store.replace({ ...s, version: 2 }, 1, T0), bound));
    elapsed.push(await failsWithin(() => store.touch(s.id, T0, T0 + 1, T0), bound));
    elapsed.push(await failsWithin(() => store.delete(s.id, T0), bound));
    elapsed.push(await failsWithin(() => store.listNamespace('u', T0), bound));
    elapsed.push(await failsWithin(() => store.revokeNamespaceAccess('u', T0), bound));
    elapsed.push(await failsWithin(() => store.deleteNamespace('u', T0), bound));
    elapsed.push(await failsWithin(() => store.deleteAll(T0), bound));
    elapsed.push(await failsWithin(() => sessions.verifyAccess(pair.access), bound));
    elapsed.push(await failsWithin(() => sessions.login(), bound));
    elapsed.push(await failsWithin(() => sessions.refresh(pair.refresh), bound));
    // a burst of concurrent requests during the outage: all fail in bounded time, none hang
    const burst = await Promise.allSettled(Array.from({ length: 200 }, () => store.get(s.id, T0)));
    expect(burst.every((r) => r.status === 'rejected' && r.reason instanceof StoreUnavailableError)).toBe(
      true,
    );
    console.info(
      `[redis] store_unavailable while down (timeout ${timeout} ms): max ${Math.max(...elapsed).toFixed(0)} ms over ${elapsed.length} operations`,
    );

    await server.start();
    const restarted = performance.now();
    await until(async () => {
      try {
        await store.get(s.id, T0);
        return true;
      } catch {
        return false;
      }
    }, 10_000);
    console.info(
      `[redis] recovered ${(performance.now() - restarted).toFixed(0)} ms after the server came back`,
    );
    // same store, same client: business as usual (the throwaway server kept no data)
    const again = await sessions.login({ namespace: 'u' });
    await expect(sessions.verifyAccess(again.access)).resolves.toBeTruthy();
    expect(unhandled).toEqual([]);
  });

  it('server stalled (SIGSTOP): 503 at the timeout, then fine once it answers again', async () => {
    const store = open({ commandTimeout: 250 }, server.url);
    const s = record();
    await store.create(s);
    server.pause();
    try {
      const elapsed = await failsWithin(() => store.get(s.id, T0), 250 + 250);
      expect(elapsed).toBeGreaterThanOrEqual(200);
      await failsWithin(() => store.replace({ ...s, version: 2 }, 1, T0), 500);
    } finally {
      server.resume();
    }
    await until(async () => (await store.get(s.id, T0).catch(() => undefined)) !== undefined);
    expect((await store.get(s.id, T0))?.id).toBe(s.id);
    expect(unhandled).toEqual([]);
  });

  it('a store created while the server is down fails within its timeout, then works when it starts', async () => {
    await server.stop();
    const store = open({ commandTimeout: 200 }, server.url);
    await failsWithin(() => store.get('x', T0), 450);
    await server.start();
    await until(async () => (await store.get('x', T0).catch(() => undefined)) === null);
    await store.create(record());
    expect(unhandled).toEqual([]);
  });

  it('live cache: fails closed while Redis is down, and is flushed when it comes back', async () => {
    const store = open({ commandTimeout: 200, liveCache: { heartbeatInterval: 100 } }, server.url);
    await until(() => store.cacheStats()!.live);
    const s = record({ expiresAt: Date.now() + 60_000 });
    await store.create(s); // cached as written
    expect(await store.get(s.id, T0)).not.toBeNull();
    expect(await store.get(s.id, T0)).not.toBeNull();
    expect(store.cacheStats()!.hits).toBe(2);
    await server.stop();
    await until(() => !store.cacheStats()!.live, 2000);
    // the cached session is not served: the lookup goes to Redis, which is down
    await failsWithin(() => store.get(s.id, T0), 450);
    await server.start();
    await until(() => store.cacheStats()!.live, 10_000);
    expect(store.cacheStats()!.size).toBe(0);
    expect(await store.get(s.id, T0)).toBeNull(); // the restarted server is empty
    expect(unhandled).toEqual([]);
  });
});

/**
 * A LiveCache on a stand-in subscriber that delivers what is published straight back, so a test
 * can order replies and invalidations at will (the races real Redis produces only by chance).
 */
async function loopbackCache() {
  const handlers: ((channel: string, message: string) => void)[] = [];
  const fake = {
    status: 'ready',
    on(event: string, handler: (channel: string, message: string) => void) {
      if (event === 'message') handlers.push(handler);
      return fake;
    },
    off: () => fake,
    subscribe: () => Promise.resolve(1),
    unsubscribe: () => Promise.resolve(0),
  };
  const publish = (message: string) => {
    for (const handler of handlers) handler('c', message);
    return Promise.resolve(1);
  };
  const cache = new LiveCache(fake as never, false, 'c', publish, {});
  await until(() => cache.live);
  return { cache, publish };
}

describeRedis('RedisStore live cache between two instances', () => {
  it('a revoke on instance A reaches instance B: converges, latency logged', async () => {
    const prefix = randomPrefix();
    const a = open({ prefix, liveCache: true });
    const b = open({ prefix, liveCache: true });
    await until(() => a.cacheStats()!.live && b.cacheStats()!.live);
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const s = record({ namespace: 'user', expiresAt: Date.now() + 60_000 });
      await a.create(s);
      expect(await b.get(s.id, T0)).not.toBeNull();
      const hitsBefore = b.cacheStats()!.hits;
      expect(await b.get(s.id, T0)).not.toBeNull();
      expect(b.cacheStats()!.hits).toBe(hitsBefore + 1); // served from B's cache
      const started = performance.now();
      const revoke = a.delete(s.id, T0);
      await until(async () => (await b.get(s.id, T0)) === null, 2000, 0);
      latencies.push(performance.now() - started);
      expect(await revoke).toBe(1);
    }
    latencies.sort((x, y) => x - y);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    console.info(
      `[redis] live cache propagation (delete on A -> B.get null): p50 ${p(0.5).toFixed(2)} ms, p95 ${p(0.95).toFixed(2)} ms, max ${p(1).toFixed(2)} ms`,
    );
    expect(p(1)).toBeLessThan(2000);
  });

  it('every kind of write invalidates the other instance: replace, touch, namespace revoke/delete, deleteAll', async () => {
    const prefix = randomPrefix();
    const a = open({ prefix, liveCache: true });
    const b = open({ prefix, liveCache: true });
    await until(() => a.cacheStats()!.live && b.cacheStats()!.live);
    const s = record({ namespace: 'ns', expiresAt: Date.now() + 60_000 });
    await a.create(s);
    const seen = async (check: (x: StoredSession | null) => boolean) =>
      until(async () => check(await b.get(s.id, T0)), 2000, 1);

    await seen((x) => x?.version === 1);
    await a.replace({ ...s, version: 2, data: 'v2' }, 1, T0);
    await seen((x) => x?.data === 'v2');
    await a.touch(s.id, T0 + 5, s.expiresAt + 1000, T0 + 5);
    await seen((x) => x?.lastUsedAt === T0 + 5);
    await a.revokeNamespaceAccess('ns', T0);
    await seen((x) => x?.accessRevoked === true && x.version === 3);
    await a.deleteNamespace('ns', T0);
    await seen((x) => x === null);
    const t = record({ expiresAt: Date.now() + 60_000 });
    await a.create(t);
    expect(await b.get(t.id, T0)).not.toBeNull();
    await a.deleteAll(T0);
    await until(async () => (await b.get(t.id, T0)) === null, 2000, 1);
  });

  it('a dropped subscription bypasses the cache at once and re-arms it after resubscribing', async () => {
    const prefix = randomPrefix();
    const name = `jwts-sub-${randomBytes(4).toString('hex')}`;
    const subscriber = createRedisClient(URL, { connectionName: name });
    const b = open({ prefix, liveCache: { subscriber, heartbeatInterval: 100 } });
    const a = open({ prefix });
    await until(() => b.cacheStats()!.live);
    const s = record({ expiresAt: Date.now() + 60_000 });
    await a.create(s);
    await b.get(s.id, T0);
    expect(b.cacheStats()!.size).toBe(1);

    const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const line = clients.split('\n').find((l) => l.includes(`name=${name} `));
    expect(line).toBeDefined();
    const addr = /addr=(\S+)/.exec(line!)![1]!;
    await admin.call('CLIENT', 'KILL', 'ADDR', addr);
    await until(() => !b.cacheStats()!.live, 1000, 1);
    expect(b.cacheStats()!.size).toBe(0);
    // while the subscription is down a write on A must not be missed: B goes to Redis
    await a.delete(s.id, T0);
    const bypassed = b.cacheStats()!.bypassed;
    expect(await b.get(s.id, T0)).toBeNull();
    expect(b.cacheStats()!.bypassed).toBe(bypassed + 1);

    await until(() => b.cacheStats()!.live, 5000);
    const u = record({ expiresAt: Date.now() + 60_000 });
    await a.create(u);
    await b.get(u.id, T0);
    await b.get(u.id, T0);
    expect(b.cacheStats()!.hits).toBeGreaterThan(0);
    await a.delete(u.id, T0);
    await until(async () => (await b.get(u.id, T0)) === null, 2000, 1);
    await subscriber.quit();
  });

  it('the cache is bounded and never serves an expired session', async () => {
    const store = open({ liveCache: { maxEntries: 5 } });
    await until(() => store.cacheStats()!.live);
    const now = Date.now();
    const sessions = Array.from({ length: 12 }, () => record({ expiresAt: now + 60_000 }));
    for (const s of sessions) {
      await store.create(s);
      await store.get(s.id, now);
    }
    expect(store.cacheStats()!.size).toBe(5);
    const last = sessions.at(-1)!;
    expect(await store.get(last.id, now)).not.toBeNull();
    expect(await store.get(last.id, last.expiresAt)).toBeNull();
  });

  it('a read overtaken by an invalidation is not cached (read/invalidate race)', async () => {
    const { cache, publish } = await loopbackCache();
    const s = record();
    const overtaken = cache.begin(s.id);
    publish(`i:${s.id}`); // the invalidation arrives before the read's reply
    cache.end(overtaken, s);
    expect(cache.stats().size).toBe(0);
    const flushed = cache.begin(s.id);
    publish('a');
    cache.end(flushed, s);
    expect(cache.stats().size).toBe(0);
    const clean = cache.begin(s.id);
    cache.end(clean, s);
    expect(cache.lookup(s.id, T0)).toEqual(s);
    publish(`i:${s.id}`);
    expect(cache.lookup(s.id, T0)).toBeUndefined();
    await cache.close();
  });

  it('invalidations are version-aware: own writes stay cached, any newer write evicts', async () => {
    const { cache, publish } = await loopbackCache();
    const v2 = { ...record(), version: 2 };
    const cached = () => cache.lookup(v2.id, T0);
    const install = (session: StoredSession) => cache.end(cache.beginWrite(session.id), session);

    install(v2); // this instance wrote version 2 ...
    publish(`w:2:${v2.id}`); // ... and its own invalidation comes back: kept
    publish(`w:1:${v2.id}`); // a late invalidation of an older write: kept
    publish(`t:1:${T0 + 9}:${T0 + 99}:${v2.id}`); // a touch before version 2 was written: kept
    publish(`t:2:${v2.lastUsedAt}:${v2.expiresAt}:${v2.id}`); // a touch that left it as cached: kept
    expect(cached()).toEqual(v2);
    publish(`t:2:${T0 + 9}:${v2.expiresAt}:${v2.id}`); // another instance touched version 2
    expect(cached()).toBeUndefined();
    install(v2);
    publish(`w:3:${v2.id}`); // another instance's refresh, or an access revocation
    expect(cached()).toBeUndefined();
    install(v2);
    publish(`i:${v2.id}`); // deleted
    expect(cached()).toBeUndefined();
    install(v2);
    publish(`w:x:${v2.id}`); // unreadable: flush, never trust
    expect(cached()).toBeUndefined();

    // An own write overtaken by a newer write's invalidation (its reply came later) is not cached.
    const writing = cache.beginWrite(v2.id);
    publish(`w:3:${v2.id}`);
    cache.end(writing, v2);
    expect(cached()).toBeUndefined();
    // Nor one overtaken by a touch of the version it wrote.
    const touched = cache.beginWrite(v2.id);
    publish(`t:2:${T0 + 5}:${T0 + 500}:${v2.id}`);
    cache.end(touched, v2);
    expect(cached()).toBeUndefined();
    // Its own invalidation arriving before its reply does not stop it.
    const own = cache.beginWrite(v2.id);
    publish(`w:2:${v2.id}`);
    cache.end(own, v2);
    expect(cached()).toEqual(v2);

    // A read that answers an older version than this instance's write never replaces the record
    // the write cached: whether it started before the write (spoiled by it) or after (dropped).
    const before = cache.begin(v2.id);
    const write = cache.beginWrite(v2.id);
    const after = cache.begin(v2.id);
    cache.end(write, { ...v2, version: 3 });
    cache.end(before, v2);
    cache.end(after, v2);
    expect(cached()).toMatchObject({ version: 3 });
    await cache.close();
  });

  it("a late echo of this instance's touch does not evict what its next touch cached", async () => {
    const { cache, publish } = await loopbackCache();
    const v2 = { ...record(), version: 2 };
    const cached = () => cache.lookup(v2.id, T0);
    const touch = (n: number) => {
      const times = { lastUsedAt: T0 + n, expiresAt: T0 + 1000 + n };
      return {
        record: { ...v2, ...times },
        change: { kind: 'touched', version: 2, ...times } as const,
        message: `t:2:${times.lastUsedAt}:${times.expiresAt}:${v2.id}`,
      };
    };
    cache.end(cache.beginWrite(v2.id), v2);
    const [first, second] = [touch(1), touch(2)];
    cache.end(cache.beginWrite(v2.id), first.record, first.change); // its echo is still on the way
    const readDuringSecond = cache.begin(v2.id); // begun before the second touch: spoiled by it
    const secondWrite = cache.beginWrite(v2.id);
    publish(first.message); // the first touch's echo arrives while the second is in flight
    cache.end(secondWrite, second.record, second.change);
    cache.end(readDuringSecond, first.record);
    expect(cached()).toEqual(second.record);
    publish(second.message); // its own echo
    expect(cached()).toEqual(second.record);
    // the same message again is no echo: another instance touched with those times after ours
    publish(first.message);
    expect(cached()).toBeUndefined();

    // A read begun before a touch was registered still sees the echo as a change.
    cache.end(cache.beginWrite(v2.id), v2);
    const third = touch(3);
    const thirdWrite = cache.beginWrite(v2.id);
    const readDuringThird = cache.begin(v2.id); // may run before the touch on the server
    cache.end(thirdWrite, third.record, third.change);
    publish(third.message);
    cache.end(readDuringThird, v2); // older times: outdated by the echo, not cached over the touch
    expect(cached()).toEqual(third.record);

    // Both echoes late: the next touch completed before the previous one's echo arrived.
    const [fourth, fifth] = [touch(4), touch(5)];
    cache.end(cache.beginWrite(v2.id), fourth.record, fourth.change);
    cache.end(cache.beginWrite(v2.id), fifth.record, fifth.change);
    publish(fourth.message);
    publish(fifth.message);
    expect(cached()).toEqual(fifth.record);
    publish(fourth.message); // no echo any more: someone else's later touch
    expect(cached()).toBeUndefined();
    await cache.close();
  });

  it('parses invalidations strictly', () => {
    expect(parseInvalidation('w:7:a:b')).toEqual({ id: 'a:b', change: { kind: 'written', version: 7 } });
    expect(parseInvalidation('t:7:10:20:id')).toEqual({
      id: 'id',
      change: { kind: 'touched', version: 7, lastUsedAt: 10, expiresAt: 20 },
    });
    expect(parseInvalidation('i:x')).toEqual({ id: 'x', change: { kind: 'ended' } });
    for (const bad of ['w:7:', 'w::id', 'w:1e3:id', 't:1:2:id', 'i:', 'x:1:id', 'w:9007199254740993:id'])
      expect(parseInvalidation(bad), bad).toBeNull();
    const s = record({ version: 4 });
    expect(outdates({ kind: 'written', version: 4 }, s)).toBe(false);
    expect(outdates({ kind: 'written', version: 5 }, s)).toBe(true);
    expect(outdates({ kind: 'ended' }, s)).toBe(true);
  });

  it("two instances refreshing a session in turn: each sees the other's writes, revocations included", async () => {
    const prefix = randomPrefix();
    const a = open({ prefix, liveCache: true });
    const b = open({ prefix, liveCache: true });
    const delays = await twoInstancesTakeTurns(a, b);
    console.info(
      `[redis] live cache, other instance refuses a superseded/revoked token after: max ${Math.max(...delays).toFixed(2)} ms over ${delays.length} changes`,
    );
  });
});

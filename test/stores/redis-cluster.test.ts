/**
 * RedisStore on a real 3-master Redis Cluster (`bash scripts/redis-cluster.sh start`): the shared
 * contract suite (with and without the live cache), then the cluster design: bucket hash tags spread
 * over the masters, every single-session operation one round trip on one slot, namespace operations
 * one script per bucket across nodes and still exact, the live cache across nodes.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js';
import { keySlot } from '../../src/stores/redis/keys.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { record, T0 } from '../support/records.js';
import { engineRoundTrips, twoInstancesTakeTurns, until } from '../support/redis-live-cache.js';
import { probeRedisCluster, scanKeys } from '../support/redis-probes.js';
import { CommandWatch, roundTrips } from '../support/redis-server.js';
import { clusterSeeds, describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

const NODES = clusterSeeds(SERVICE_URLS.redisCluster);

const available = await serviceAvailable('redis cluster', () => probeRedisCluster(NODES[0]!));
const describeCluster = describeWithService(available);

function randomPrefix(): string {
  return `jwts-ctest:${randomBytes(6).toString('hex')}:`;
}

/** One direct connection per master, for inspection and cleanup (tests may SCAN; the store never does). */
let masters: Redis[] = [];
/** Which master owns each slot. */
let slotOwner: number[] = [];
if (available) {
  beforeAll(async () => {
    masters = NODES.map((node) => new Redis(node));
    const slots = (await masters[0]!.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    slotOwner = new Array(16384).fill(-1);
    for (const [from, to, [, port]] of slots) {
      const owner = NODES.findIndex((n) => n.port === port);
      for (let slot = from; slot <= to; slot++) slotOwner[slot] = owner;
    }
  });
  afterAll(async () => {
    for (const master of masters) await master.quit();
  });
}

async function keysUnder(prefix: string): Promise<string[]> {
  return (await Promise.all(masters.map((master) => scanKeys(master, `${prefix}*`)))).flat();
}

async function dropKeys(keys: string[]): Promise<void> {
  for (const key of keys) await masters[slotOwner[keySlot(key)]!]!.del(key);
}

function factory(options: RedisStoreOptions = {}) {
  return async () => {
    const prefix = randomPrefix();
    const store = RedisStore.connectCluster(NODES, { prefix, ...options });
    return {
      store,
      cleanup: async () => {
        await store.deleteAll(0);
        await store.close();
        // Replay-cache entries are not sessions (deleteAll keeps them; their TTL reclaims them).
        await dropKeys(await keysUnder(`${prefix}p:`));
        const left = await keysUnder(prefix);
        if (left.length > 0) {
          await dropKeys(left);
          throw new Error(`deleteAll left keys behind: ${left.join(', ')}`);
        }
      },
      twin: async () => RedisStore.connectCluster(NODES, { prefix, ...options }),
    };
  };
}

describeCluster('RedisStore on Redis Cluster: shared contract', () => {
  describeStoreContract('RedisStore (cluster)', factory());
  describeStoreContract('RedisStore (cluster, live cache)', factory({ liveCache: true }));
});

const opened: { store: RedisStore; prefix: string }[] = [];
function open(options: RedisStoreOptions = {}): RedisStore {
  const prefix = options.prefix ?? randomPrefix();
  const store = RedisStore.connectCluster(NODES, { ...options, prefix });
  opened.push({ store, prefix });
  return store;
}
afterEach(async () => {
  for (const { store, prefix } of opened.splice(0)) {
    await store.deleteAll(0).catch(() => undefined);
    await store.close();
    const left = await keysUnder(prefix);
    if (left.length > 0) await dropKeys(left);
  }
});

describeCluster('RedisStore on Redis Cluster: layout', () => {
  it('the 16 default buckets spread over every master, and a session shares its slot with its indexes', async () => {
    const store = open();
    expect(store.layout.buckets).toHaveLength(16);
    const perNode = new Array(NODES.length).fill(0);
    for (const bucket of store.layout.buckets) perNode[slotOwner[keySlot(bucket.all)]!]++;
    expect(Math.min(...perNode)).toBeGreaterThanOrEqual(4);

    const s = record({ namespace: 'user:1' });
    await store.create(s);
    const bucket = store.layout.bucketOf(s.id);
    const keys = [store.sessionKey(s.id), bucket.all, `${bucket.namespacePrefix}user:1`];
    const slots = await Promise.all(keys.map((k) => masters[0]!.call('CLUSTER', 'KEYSLOT', k)));
    expect(new Set(slots).size).toBe(1);
    expect(Number(slots[0])).toBe(keySlot(keys[0]!));
    const owner = masters[slotOwner[Number(slots[0])]!]!;
    expect(await owner.exists(...keys)).toBe(3);
  });
});

describeCluster('RedisStore on Redis Cluster: cross-slot namespace operations', () => {
  it('list / revoke / delete a namespace whose sessions live on all three masters', async () => {
    const store = open();
    const mine = Array.from({ length: 60 }, (_, i) => record({ namespace: 'user:42', createdAt: T0 + i }));
    const theirs = Array.from({ length: 10 }, () => record({ namespace: 'user:7' }));
    const expired = record({ namespace: 'user:42', expiresAt: T0 + 5 });
    for (const s of [...mine, ...theirs, expired]) await store.create(s);

    const nodesUsed = new Set(mine.map((s) => slotOwner[keySlot(store.sessionKey(s.id))]));
    expect(nodesUsed.size).toBe(NODES.length);

    const listed = await store.listNamespace('user:42', T0 + 100);
    expect(listed.map((s) => s.id)).toEqual(mine.map((s) => s.id)); // creation order across buckets
    expect(await store.revokeNamespaceAccess('user:42', T0 + 100)).toBe(60);
    for (const s of mine)
      expect(await store.get(s.id, T0 + 100)).toMatchObject({ accessRevoked: true, version: 2 });
    for (const s of theirs)
      expect(await store.get(s.id, T0 + 100)).toMatchObject({ accessRevoked: false, version: 1 });

    expect(await store.deleteNamespace('user:42', T0 + 100)).toBe(60);
    expect(await store.listNamespace('user:42', T0 + 100)).toEqual([]);
    for (const s of mine) expect(await store.get(s.id, T0 + 100)).toBeNull();
    expect(await store.listNamespace('user:7', T0 + 100)).toHaveLength(10);
    expect(await store.deleteAll(T0 + 100)).toBe(10);
    expect(await keysUnder(store.layout.prefix)).toEqual([]);
  });

  it('single-session operations are one round trip on one node; namespace operations one script per bucket', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix });
    const watch = await CommandWatch.start(NODES);
    try {
      const warm = record({ namespace: 'n' });
      await store.create(warm);
      await store.listNamespace('warm', T0); // first use of a script on a connection is EVAL, then EVALSHA
      await store.revokeNamespaceAccess('warm', T0);
      await store.deleteNamespace('warm', T0);
      const s = record({ namespace: 'n' });
      const single: Record<string, { count: number; nodes: number }> = {};
      async function count(name: string, operation: () => Promise<unknown>) {
        const trips = roundTrips((await watch.record(operation)).commands, prefix);
        single[name] = { count: trips.length, nodes: new Set(trips.map((t) => t.node)).size };
        return trips;
      }
      await count('create', () => store.create(s));
      await count('get', () => store.get(s.id, T0));
      await count('replace', () => store.replace({ ...s, version: 2 }, 1, T0));
      await count('touch', () => store.touch(s.id, T0, T0 + 90_000, T0));
      await count('delete', () => store.delete(s.id, T0));
      for (const name of ['create', 'get', 'replace', 'touch', 'delete']) {
        expect(single[name], name).toEqual({ count: 1, nodes: 1 });
      }
      const list = await count('list', () => store.listNamespace('n', T0));
      expect(list).toHaveLength(16);
      expect(new Set(list.map((t) => t.node)).size).toBe(NODES.length);
      expect((await count('revoke', () => store.revokeNamespaceAccess('n', T0))).length).toBe(16);
      expect((await count('deleteNamespace', () => store.deleteNamespace('n', T0))).length).toBe(16);
      // nothing anywhere scans the keyspace
      const { commands } = await watch.record(() => store.deleteAll(T0));
      expect(commands.some((c) => /^(keys|scan)$/.test(c.name))).toBe(false);
    } finally {
      await watch.stop();
    }
  });

  it('a namespace delete racing refreshes of its sessions: nothing is resurrected', async () => {
    const store = open();
    for (let round = 0; round < 5; round++) {
      const sessions = Array.from({ length: 20 }, () => record({ namespace: `race${round}` }));
      for (const s of sessions) await store.create(s);
      const writes = sessions.map((s) => store.replace({ ...s, version: 2, data: 'after' }, 1, T0));
      const deleted = store.deleteNamespace(`race${round}`, T0);
      await Promise.all([...writes, deleted]);
      expect(await store.listNamespace(`race${round}`, T0)).toEqual([]);
      for (const s of sessions) expect(await store.get(s.id, T0)).toBeNull();
    }
  });
});

describeCluster('RedisStore on Redis Cluster: live cache', () => {
  it('a revoke on instance A reaches instance B across nodes: converges, latency logged', async () => {
    const prefix = randomPrefix();
    const a = open({ prefix, liveCache: true });
    const b = open({ prefix, liveCache: true });
    await until(() => a.cacheStats()!.live && b.cacheStats()!.live);
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = record({ namespace: 'u', expiresAt: Date.now() + 60_000 });
      await a.create(s);
      await b.get(s.id, T0);
      const hits = b.cacheStats()!.hits;
      await b.get(s.id, T0);
      expect(b.cacheStats()!.hits).toBe(hits + 1);
      const started = performance.now();
      const revoke = i % 2 === 0 ? a.delete(s.id, T0) : a.revokeNamespaceAccess('u', T0);
      await until(
        async () => {
          const seen = await b.get(s.id, T0);
          return seen === null || seen.accessRevoked;
        },
        2000,
        0,
      );
      latencies.push(performance.now() - started);
      await revoke;
    }
    latencies.sort((x, y) => x - y);
    console.info(
      `[redis-cluster] live cache propagation A -> B: p50 ${latencies[10]!.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`,
    );
  });

  it('through the engine: login 1 round trip, refresh 1 (the CAS only), strict verify 0', async () => {
    const prefix = randomPrefix();
    const store = open({ prefix, liveCache: true });
    const watch = await CommandWatch.start(NODES);
    try {
      // one script call each (EVAL on a node connection's first use of the script, then EVALSHA)
      const script = expect.stringMatching(/^eval(sha)?$/);
      expect(await engineRoundTrips(store, watch, prefix)).toEqual({
        login: [script],
        refresh: [[script], [script], [script]],
        verify: [],
        verifyAfterRefresh: [],
        // the touch is the only round trip: this instance keeps the record it touched cached
        verifyTouching: [script],
        verifyAfterTouch: [],
      });
    } finally {
      await watch.stop();
    }
  });

  it("two instances refreshing a session in turn: each sees the other's writes, revocations included", async () => {
    const prefix = randomPrefix();
    const delays = await twoInstancesTakeTurns(
      open({ prefix, liveCache: true }),
      open({ prefix, liveCache: true }),
    );
    console.info(
      `[redis-cluster] live cache, other instance refuses a superseded/revoked token after: max ${Math.max(...delays).toFixed(2)} ms over ${delays.length} changes`,
    );
  });

  it('uses a Cluster subscriber given explicitly', async () => {
    const subscriber = new Cluster(NODES);
    const store = open({ liveCache: { subscriber } });
    await until(() => store.cacheStats()!.live);
    await store.close();
    expect(subscriber.status).toBe('ready'); // not ours to close
    subscriber.disconnect();
  });
});

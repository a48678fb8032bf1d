/**
 * RedisStore through the session engine, on a real Redis (REDIS_URL, default redis://127.0.0.1:6379;
 * the cluster part uses REDIS_CLUSTER_NODES when reachable):
 * - round trips per login / strict verify / refresh, counted on the server with MONITOR (without and
 *   with the live cache);
 * - ops/s of login, refresh and strict verify (sequential awaits: one request at a time, so mostly
 *   round-trip latency; and 32 in flight);
 * - revoke-namespace / delete-namespace / list time for a namespace of 10 sessions while the
 *   database holds 0 vs 1,000,000 unrelated keys (in a separate db index, BENCH_REDIS_DB, default
 *   15; loaded with DEBUG POPULATE when allowed, else pipelined MSET; removed afterwards), with one
 *   full SCAN pass over the same database for contrast (what a KEYS/SCAN-based store would pay);
 * - live-cache propagation: revoke on instance A until instance B's get returns null.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createSessions, type Sessions } from '../src/session/engine.js';
import { RedisStore, type RedisStoreOptions } from '../src/stores/redis/index.js';
import { CommandWatch, roundTrips } from '../test/support/redis-server.js';
import {
  type BenchCase,
  type BenchContext,
  type BenchResult,
  type Check,
  compare,
  defineBenchmark,
  type Table,
} from './lib/harness.js';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLUSTER = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002')
  .split(',')
  .map((seed) => {
    const [host, port] = seed.trim().split(':');
    return { host: host!, port: Number(port) };
  });
const BENCH_DB = Number(process.env.BENCH_REDIS_DB ?? 15);
const FILLER = 1_000_000;
const KEYS = { signing: { alg: 'HS256', key: 'redis-bench-secret-0123456789abcdef', kid: 'b1' } } as const;

function prefix(): string {
  return `jwts-bench:${randomBytes(5).toString('hex')}:`;
}

function urlWithDb(url: string, db: number): string {
  const u = new globalThis.URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function reachable(make: () => Redis): Promise<boolean> {
  const probe = make();
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function stats(samples: number[]): { p50: number; p95: number; p99: number; max: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted.at(-1)!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

const ms = (x: number) => `${x.toFixed(x < 1 ? 3 : 2)} ms`;

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Round trips of one engine call, counted by MONITOR (client commands naming the store's prefix). */
async function countTrips(watch: CommandWatch, keyPrefix: string, operation: () => Promise<unknown>) {
  const { commands } = await watch.record(operation);
  return roundTrips(commands, keyPrefix).map((c) => c.name);
}

async function roundTripTable(
  watchNodes: { host: string; port: number }[],
  open: (options: RedisStoreOptions) => RedisStore,
  label: string,
): Promise<{ table: Table; counts: Record<string, number> }> {
  const watch = await CommandWatch.start(watchNodes);
  const counts: Record<string, number> = {};
  const rows: (string | number)[][] = [];
  try {
    const plainPrefix = prefix();
    const plain = open({ prefix: plainPrefix });
    let now = Date.now();
    const s = createSessions({ keys: KEYS, store: plain, clock: () => now });
    await s.login({ namespace: 'warm' }).then((p) => s.refresh(p.refresh)); // first-use EVALs
    const record = async (name: string, operation: () => Promise<unknown>, note: string) => {
      const trips = await countTrips(watch, plainPrefix, operation);
      counts[name] = trips.length;
      rows.push([name, String(trips.length), trips.join(', '), note]);
    };
    let pair = await s.login({ namespace: 'u' });
    await record('login', () => s.login({ namespace: 'u' }), 'create');
    await record('strict verify', () => s.verifyAccess(pair.access), 'get');
    now += 61_000;
    await record(
      'strict verify, lastUsed stale',
      () => s.verifyAccess(pair.access),
      'get + touch (once a minute)',
    );
    await record(
      'refresh',
      async () => {
        pair = await s.refresh(pair.refresh);
      },
      'get + compare-and-swap replace',
    );
    await record('revoke namespace', () => s.revokeNamespace('u'), 'one script per bucket');
    await plain.deleteAll(0);
    await plain.close();

    const cachedPrefix = prefix();
    const cached = open({ prefix: cachedPrefix, liveCache: true });
    await until(() => cached.cacheStats()!.live);
    const c = createSessions({ keys: KEYS, store: cached });
    await c.login({ namespace: 'warm' }).then((p) => c.refresh(p.refresh));
    let cpair = await c.login({ namespace: 'u' });
    await c.verifyAccess(cpair.access);
    const crecord = async (name: string, operation: () => Promise<unknown>, note: string) => {
      const trips = await countTrips(watch, cachedPrefix, operation);
      counts[name] = trips.length;
      rows.push([name, String(trips.length), trips.join(', ') || '-', note]);
    };
    await crecord('strict verify (live cache)', () => c.verifyAccess(cpair.access), 'served in process');
    await crecord(
      'refresh after a verify (live cache)',
      async () => {
        cpair = await c.refresh(cpair.refresh);
      },
      'get from cache + replace',
    );
    await cached.deleteAll(0);
    await cached.close();
  } finally {
    await watch.stop();
  }
  return {
    table: {
      title: `Round trips per engine call (${label}, counted with MONITOR)`,
      columns: ['call', 'round trips', 'commands', 'what'],
      rows,
    },
    counts,
  };
}

async function throughput(
  ctx: BenchContext,
  open: (options: RedisStoreOptions) => RedisStore,
): Promise<Table[]> {
  const store = open({ prefix: prefix() });
  const cachedStore = open({ prefix: prefix(), liveCache: true });
  await until(() => cachedStore.cacheStats()!.live);
  const plain: Sessions = createSessions({ keys: KEYS, store });
  const cached: Sessions = createSessions({ keys: KEYS, store: cachedStore });
  let n = 0;
  let current = await plain.login({ namespace: 'refresher' });
  const verified = await plain.login({ namespace: 'verifier' });
  const verifiedCached = await cached.login({ namespace: 'verifier' });
  await cached.verifyAccess(verifiedCached.access);
  const PAR = 32;
  const cases: BenchCase[] = [
    { label: 'login', async: true, fn: () => plain.login({ namespace: `user:${n++ % 1000}` }) },
    {
      label: 'refresh',
      async: true,
      fn: async () => {
        current = await plain.refresh(current.refresh);
      },
    },
    { label: 'strict verify', async: true, fn: () => plain.verifyAccess(verified.access) },
    {
      label: 'strict verify (live cache)',
      async: true,
      fn: () => cached.verifyAccess(verifiedCached.access),
    },
    {
      label: `login ×${PAR} in flight`,
      async: true,
      fn: () =>
        Promise.all(Array.from({ length: PAR }, () => plain.login({ namespace: `user:${n++ % 1000}` }))),
    },
    {
      label: `strict verify ×${PAR} in flight`,
      async: true,
      fn: () => Promise.all(Array.from({ length: PAR }, () => plain.verifyAccess(verified.access))),
    },
  ];
  ctx.log('measuring engine throughput over RedisStore ...');
  const results = await compare(cases, ctx.options);
  await store.deleteAll(0);
  await cachedStore.deleteAll(0);
  await store.close();
  await cachedStore.close();
  const rows = Object.values(results).map((m) => {
    const factor = m.label.includes('in flight') ? PAR : 1;
    return [
      m.label,
      m.opsPerSec * factor,
      `${(1000 / m.opsPerSec).toFixed(3)} ms`,
      `±${m.spreadPct.toFixed(0)}%`,
    ];
  });
  return [
    {
      title: 'Engine ops/s over RedisStore (standalone, loopback)',
      columns: ['operation', 'ops/s', 'time per call (per batch when in flight)', 'spread'],
      rows,
    },
  ];
}

async function loadFiller(client: Redis, fillerPrefix: string, count: number): Promise<string> {
  try {
    await client.call('DEBUG', 'POPULATE', String(count), fillerPrefix, '8');
    return 'DEBUG POPULATE';
  } catch {
    const perCommand = 1000;
    for (let base = 0; base < count; base += perCommand * 50) {
      const pipeline = client.pipeline();
      for (let chunk = base; chunk < Math.min(count, base + perCommand * 50); chunk += perCommand) {
        const args: string[] = [];
        for (let i = chunk; i < Math.min(count, chunk + perCommand); i++)
          args.push(`${fillerPrefix}:${i}`, 'xxxxxxxx');
        pipeline.mset(...args);
      }
      await pipeline.exec();
    }
    return 'pipelined MSET';
  }
}

async function dropFiller(client: Redis, fillerPrefix: string, count: number): Promise<void> {
  const perCommand = 1000;
  for (let base = 0; base < count; base += perCommand * 50) {
    const pipeline = client.pipeline();
    for (let chunk = base; chunk < Math.min(count, base + perCommand * 50); chunk += perCommand) {
      const keys: string[] = [];
      for (let i = chunk; i < Math.min(count, chunk + perCommand); i++) keys.push(`${fillerPrefix}:${i}`);
      pipeline.unlink(...keys);
    }
    await pipeline.exec();
  }
}

async function namespaceOps(store: RedisStore, reps: number) {
  const sessions = createSessions({ keys: KEYS, store });
  const revoke: number[] = [];
  const list: number[] = [];
  const del: number[] = [];
  for (let r = 0; r < reps; r++) {
    const ns = `victim:${r}`;
    for (let i = 0; i < 10; i++) await sessions.login({ namespace: ns });
    let t = performance.now();
    const listed = await sessions.listSessions(ns);
    list.push(performance.now() - t);
    t = performance.now();
    const revoked = await store.revokeNamespaceAccess(ns, Date.now());
    revoke.push(performance.now() - t);
    t = performance.now();
    const deleted = await store.deleteNamespace(ns, Date.now());
    del.push(performance.now() - t);
    if (listed.length !== 10 || revoked !== 10 || deleted !== 10) throw new Error('namespace op miscounted');
  }
  return { revoke: stats(revoke), list: stats(list), del: stats(del) };
}

async function bigDatabase(
  ctx: BenchContext,
): Promise<{ table: Table; checks: Check[]; data: unknown; notes: string[] }> {
  const dbUrl = urlWithDb(URL, BENCH_DB);
  const admin = new Redis(dbUrl);
  const reps = ctx.quick ? 30 : 200;
  const fillerPrefix = `jwts-bench-filler-${randomBytes(4).toString('hex')}`;
  const store = RedisStore.connect(dbUrl, { prefix: prefix() });
  try {
    const before = await admin.dbsize();
    const empty = await namespaceOps(store, reps);
    const t0 = performance.now();
    const method = await loadFiller(admin, fillerPrefix, FILLER);
    const loadMs = performance.now() - t0;
    const size = await admin.dbsize();
    ctx.log(
      `loaded ${FILLER} unrelated keys into db ${BENCH_DB} in ${(loadMs / 1000).toFixed(1)} s (${method})`,
    );
    const full = await namespaceOps(store, reps);
    // For contrast: one full SCAN pass over the same database (what a SCAN-based revoke would pay).
    const s0 = performance.now();
    let cursor = '0';
    let matched = 0;
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${store.layout.prefix}*`, 'COUNT', 1000);
      cursor = next;
      matched += keys.length;
    } while (cursor !== '0');
    const scanMs = performance.now() - s0;
    await dropFiller(admin, fillerPrefix, FILLER);
    await store.deleteAll(0);
    const ratio = full.revoke.p50 / empty.revoke.p50;
    const table: Table = {
      title: `Namespace of 10 sessions: time per operation (p50 / p95 over ${reps}), db ${BENCH_DB}`,
      columns: ['operation', `db with ${before} keys`, `db with ${size} keys`],
      rows: [
        [
          'revokeNamespaceAccess',
          `${ms(empty.revoke.p50)} / ${ms(empty.revoke.p95)}`,
          `${ms(full.revoke.p50)} / ${ms(full.revoke.p95)}`,
        ],
        [
          'deleteNamespace',
          `${ms(empty.del.p50)} / ${ms(empty.del.p95)}`,
          `${ms(full.del.p50)} / ${ms(full.del.p95)}`,
        ],
        [
          'listSessions (engine)',
          `${ms(empty.list.p50)} / ${ms(empty.list.p95)}`,
          `${ms(full.list.p50)} / ${ms(full.list.p95)}`,
        ],
        ['for contrast: one SCAN MATCH pass', '-', `${ms(scanMs)} (${matched} matches)`],
      ],
    };
    return {
      table,
      checks: [
        {
          name: 'revoke-namespace cost does not grow with the database',
          pass: ratio < 3,
          detail: `p50 with ${size} keys / p50 with ${before} keys = ${ratio.toFixed(2)}x (must be < 3x)`,
        },
      ],
      data: { empty, full, loadMs, loadMethod: method, scanMs, dbsizeBefore: before, dbsizeFull: size },
      notes: [
        `${FILLER} filler keys loaded with ${method} in ${(loadMs / 1000).toFixed(1)} s and removed afterwards.`,
      ],
    };
  } finally {
    await store.close();
    await admin.quit();
  }
}

async function propagation(
  open: (options: RedisStoreOptions) => RedisStore,
  iterations: number,
): Promise<ReturnType<typeof stats> & { afterReply: ReturnType<typeof stats> }> {
  const keyPrefix = prefix();
  const a = open({ prefix: keyPrefix, liveCache: true });
  const b = open({ prefix: keyPrefix, liveCache: true });
  await until(() => a.cacheStats()!.live && b.cacheStats()!.live);
  const total: number[] = [];
  const afterReply: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const now = Date.now();
    const id = randomBytes(16).toString('base64url');
    await a.create({
      id,
      namespace: 'p',
      version: 1,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + 60_000,
      accessRevoked: false,
      data: '{}',
    });
    await b.get(id, now);
    const hits = b.cacheStats()!.hits;
    await b.get(id, now);
    if (b.cacheStats()!.hits !== hits + 1) throw new Error('B did not serve from its cache');
    const started = performance.now();
    let replied = 0;
    const revoke = a.delete(id, now).then(() => {
      replied = performance.now();
    });
    while ((await b.get(id, now)) !== null) await new Promise((resolve) => setImmediate(resolve));
    const seen = performance.now();
    await revoke;
    total.push(seen - started);
    afterReply.push(Math.max(0, seen - replied));
  }
  await a.deleteAll(0);
  await a.close();
  await b.close();
  return { ...stats(total), afterReply: stats(afterReply) };
}

export default defineBenchmark({
  name: 'redis',
  description:
    'RedisStore: round trips, engine ops/s, namespace ops vs database size, live-cache propagation',
  async run(ctx): Promise<BenchResult> {
    const standalone = await reachable(
      () => new Redis(URL, { lazyConnect: true, retryStrategy: () => null }),
    );
    if (!standalone) {
      return {
        name: 'redis',
        title: 'RedisStore',
        tables: [],
        checks: [{ name: 'redis reachable', pass: false, detail: `${URL} did not answer` }],
      };
    }
    const { hostname, port } = new globalThis.URL(URL);
    const node = { host: hostname, port: Number(port || 6379) };
    const opened: RedisStore[] = [];
    const open = (options: RedisStoreOptions) => {
      const store = RedisStore.connect(URL, options);
      opened.push(store);
      return store;
    };
    const tables: Table[] = [];
    const checks: Check[] = [];
    const notes: string[] = [];
    const data: Record<string, unknown> = {};

    ctx.log('counting round trips ...');
    const trips = await roundTripTable([node], open, 'standalone');
    tables.push(trips.table);
    data.roundTrips = trips.counts;
    const want = (name: string, expected: number) =>
      checks.push({
        name: `round trips: ${name}`,
        pass: trips.counts[name] === expected,
        detail: `${trips.counts[name]} (expected ${expected})`,
      });
    want('login', 1);
    want('strict verify', 1);
    want('refresh', 2);
    want('revoke namespace', 1);
    want('strict verify (live cache)', 0);
    want('refresh after a verify (live cache)', 1);

    tables.push(...(await throughput(ctx, open)));

    ctx.log('namespace operations vs database size ...');
    const big = await bigDatabase(ctx);
    tables.push(big.table);
    checks.push(...big.checks);
    notes.push(...big.notes);
    data.namespaceOps = big.data;

    ctx.log('live-cache propagation ...');
    const iterations = ctx.quick ? 50 : 500;
    const prop = await propagation(open, iterations);
    const propRows: (string | number)[][] = [
      [
        'standalone: A.delete() called -> B.get() null',
        ms(prop.p50),
        ms(prop.p95),
        ms(prop.p99),
        ms(prop.max),
      ],
      [
        'standalone: A.delete() resolved -> B.get() null',
        ms(prop.afterReply.p50),
        ms(prop.afterReply.p95),
        ms(prop.afterReply.p99),
        ms(prop.afterReply.max),
      ],
    ];
    data.propagation = { standalone: prop };
    checks.push({
      name: 'live cache converges (standalone)',
      pass: prop.max < 1000,
      detail: `max ${ms(prop.max)}`,
    });

    const cluster = await reachable(
      () => new Redis({ ...CLUSTER[0]!, lazyConnect: true, retryStrategy: () => null }),
    );
    if (cluster) {
      ctx.log('cluster: round trips and propagation ...');
      const copen = (options: RedisStoreOptions) => {
        const store = RedisStore.connectCluster(CLUSTER, options);
        opened.push(store);
        return store;
      };
      const ctrips = await roundTripTable(CLUSTER, copen, 'cluster, 3 masters, 16 buckets');
      tables.push(ctrips.table);
      data.clusterRoundTrips = ctrips.counts;
      const cprop = await propagation(copen, iterations);
      propRows.push(
        [
          'cluster: A.delete() called -> B.get() null',
          ms(cprop.p50),
          ms(cprop.p95),
          ms(cprop.p99),
          ms(cprop.max),
        ],
        [
          'cluster: A.delete() resolved -> B.get() null',
          ms(cprop.afterReply.p50),
          ms(cprop.afterReply.p95),
          ms(cprop.afterReply.p99),
          ms(cprop.afterReply.max),
        ],
      );
      (data.propagation as Record<string, unknown>).cluster = cprop;
      checks.push({
        name: 'live cache converges (cluster)',
        pass: cprop.max < 1000,
        detail: `max ${ms(cprop.max)}`,
      });
      notes.push(
        'Cluster: namespace operations are one script per bucket (16), sent concurrently: one round trip per node.',
      );
    } else {
      notes.push(
        `Redis Cluster at ${CLUSTER.map((n) => `${n.host}:${n.port}`).join(',')} unreachable: cluster rows skipped.`,
      );
    }
    tables.push({
      title: `Live-cache propagation, revoke on instance A until instance B's get returns null (${iterations} runs, same process, loopback)`,
      columns: ['path', 'p50', 'p95', 'p99', 'max'],
      rows: propRows,
    });

    for (const store of opened) await store.close();
    notes.push(
      'Refresh is two store round trips by the Store contract (read, then compare-and-swap); with the live cache the read is usually served in process.',
      'Sequential ops/s are bounded by loopback round-trip latency; the "in flight" rows show throughput with concurrency.',
    );
    return {
      name: 'redis',
      title: 'RedisStore benchmark',
      description: `Redis at ${URL}: round trips, engine ops/s, namespace operations vs database size, live-cache propagation.`,
      tables,
      checks,
      notes,
      data,
    };
  },
});

/**
 * How cost grows with the work, through the engine (listSessions, revokeNamespaceAccess,
 * revokeNamespace), on MemoryStore and RedisStore:
 * (a) namespace operations vs sessions in the namespace (10, 100, 1,000, 10,000): should be linear;
 * (b) a 10-session namespace while the store holds unrelated data, vs an empty store, interleaved
 *     round by round: Redis with 0 vs 1,000,000 unrelated keys (another application's) and with
 *     10k / 100k / 1M unrelated sessions of the same store; MemoryStore with 10k / 100k / 1M
 *     unrelated sessions. The ratio should stay ~1: no operation scans the store. For contrast, one
 *     SCAN MATCH pass over the keyspace, which is what a SCAN-based store (jwt_sessions) pays per call;
 * (c) memory per live session: V8 heap after full GCs in a child process (`--expose-gc`) for
 *     MemoryStore, INFO used_memory for Redis, at 10k / 100k / 1M sessions (2 per user).
 *
 * Redis runs on two PRIVATE redis-servers on spare loopback ports (test/support/redis-server.ts; no
 * persistence), never the shared 6379: A stays small (the baseline), B is filled. Unrelated keys are
 * written by a Lua loop (50k keys per call); sessions by the store itself (pipelined creates), so
 * memory is what the store really writes. Quick mode stops at 100k (keys and sessions).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '../src/stores/memory.js';
import { createRedisClient, RedisStore } from '../src/stores/redis/index.js';
import { redisServerInstalled, startRedisServer, type ThrowawayRedis } from '../test/support/redis-server.js';
import {
  type Check,
  compareTimed,
  defineBenchmark,
  formatBytes,
  formatMs,
  formatRatio,
  type Table,
  type TimingOptions,
} from './lib/harness.js';
import {
  engineOver,
  NAMESPACE_OPS,
  type NamespaceOp,
  namespaceCases,
  SESSIONS_PER_USER,
  SessionFactory,
} from './lib/scaling-fixture.js';
import type { MemoryChildInput, MemoryChildOutput } from './lib/scaling-memory-child.js';
import { type UnrelatedTiming, unrelatedTiming } from './lib/scaling-unrelated.js';

const here = dirname(fileURLToPath(import.meta.url));
const STORES = ['MemoryStore', 'RedisStore'] as const;
type StoreName = (typeof STORES)[number];
const NAMESPACE_SIZES = [10, 100, 1_000, 10_000];
/** Largest acceptable loaded/empty time ratio for a 10-session namespace (1 = no effect at all). */
const MAX_UNRELATED_RATIO = 2;

/**
 * Largest acceptable growth exponent of time vs namespace size (least-squares slope in log-log over
 * all sizes: robust to one noisy point, unlike a ratio of two sizes; fixed costs pull it below 1).
 */
const MAX_SLOPE = 1.3;

function logLogSlope(xs: number[], ys: number[]): number {
  const lx = xs.map(Math.log10);
  const ly = ys.map(Math.log10);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  lx.forEach((x, i) => {
    num += (x - mx) * (ly[i]! - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** What scaling.json's `data` holds (read by bench/report.ts for the charts). */
export interface ScalingData {
  namespaceSizes: number[];
  /** (a) ms per call, per store and operation, one value per namespace size. */
  byNamespaceSize: Record<string, Record<NamespaceOp, number[]>>;
  /** (b) a 10-session namespace with the store holding `unrelated` sessions or keys. */
  unrelated: ({ store: StoreName; kind: 'sessions' | 'keys'; unrelated: number } & UnrelatedTiming)[];
  /** One SCAN MATCH pass over `keys` keys. */
  scan: { keys: number; ms: number } | null;
  /** (c) */
  memory: { store: StoreName; sessions: number; bytes: number; bytesPerSession: number }[];
  /** Engine data (JSON) per session, bytes: what any store must keep. */
  dataBytes: number;
  skipped: string[];
}

/** Runs the MemoryStore heap probe in its own process. */
function memoryChild(input: MemoryChildInput): Promise<MemoryChildOutput> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      join(here, 'lib', 'scaling-memory-child.ts'),
      JSON.stringify(input),
    ],
    { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory child exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as MemoryChildOutput);
      } catch (error) {
        reject(new Error(`memory child printed no result: ${(error as Error).message}`));
      }
    });
  });
}

function redisStoreOn(server: ThrowawayRedis): RedisStore {
  // A long timeout lets a 10k-session namespace script (and a bulk fill) finish on a busy machine.
  const client = createRedisClient(server.url, {}, 60_000);
  return new RedisStore(client, { ownsClient: true, commandTimeout: 60_000 });
}

async function usedMemory(store: RedisStore): Promise<number> {
  const info = await store.client.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/** Writes `count` plain string keys (another application's data) with a server-side Lua loop. */
async function fillUnrelatedKeys(store: RedisStore, count: number): Promise<void> {
  const chunk = 50_000;
  const lua = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  redis.call('SET', 'unrelated:' .. i, ARGV[3])
end
return 1`;
  const value = 'v'.repeat(48);
  for (let start = 0; start < count; start += chunk) {
    await store.client.eval(lua, 0, start, Math.min(count, start + chunk) - 1, value);
  }
  const keys = await store.client.dbsize();
  if (keys < count) throw new Error(`filled ${keys} keys, expected at least ${count}`);
}

/** One full SCAN MATCH pass, as a SCAN-based store pays to find a namespace's sessions. */
async function scanPass(store: RedisStore): Promise<number> {
  const started = performance.now();
  let cursor = '0';
  do {
    [cursor] = await store.client.scan(cursor, 'MATCH', 'jwt_sessions_*_user:42_*', 'COUNT', 1000);
  } while (cursor !== '0');
  return performance.now() - started;
}

async function byNamespaceSize(
  store: MemoryStore | RedisStore,
  name: StoreName,
  factory: SessionFactory,
  timing: TimingOptions,
  log: (m: string) => void,
): Promise<Record<NamespaceOp, number[]>> {
  const sessions = engineOver(store);
  const out: Record<NamespaceOp, number[]> = { list: [], 'revoke access': [], revoke: [] };
  for (const size of NAMESPACE_SIZES) {
    const c = namespaceCases(sessions, factory, size, `${name} ${size}`);
    await c.ready();
    const m = await compareTimed(
      NAMESPACE_OPS.map((op) => c.cases[op]),
      timing,
    );
    await c.dispose();
    for (const op of NAMESPACE_OPS) out[op].push(m[c.cases[op].label]!.msPerOp);
    log(
      `${name}, namespace of ${size}: ${NAMESPACE_OPS.map((op) => `${op} ${formatMs(m[c.cases[op].label]!.msPerOp)}`).join(', ')}`,
    );
  }
  return out;
}

export default defineBenchmark({
  name: 'scaling',
  description:
    'Namespace list/revoke cost vs namespace size and vs unrelated data in the store; memory per session (MemoryStore, Redis)',
  async run(ctx) {
    const { quick, log } = ctx;
    const bigSizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
    const unrelatedKeys = quick ? 100_000 : 1_000_000;
    // Redis calls are timed on the wall clock (the server does the work); MemoryStore calls on this
    // process's CPU clock, so other processes on a shared machine do not blur microsecond timings.
    const wall: TimingOptions = { rounds: quick ? 7 : 9, minRoundMs: quick ? 10 : 25 };
    const cpu: TimingOptions = { rounds: quick ? 9 : 11, minRoundMs: 25, clock: 'cpu' };
    const factory = await SessionFactory.create();
    const data: ScalingData = {
      namespaceSizes: NAMESPACE_SIZES,
      byNamespaceSize: {},
      unrelated: [],
      scan: null,
      memory: [],
      dataBytes: factory.dataBytes,
      skipped: [],
    };

    // MemoryStore: (a) here, (b) and (c) in a child process whose heap holds only the store.
    const memory = new MemoryStore();
    data.byNamespaceSize.MemoryStore = await byNamespaceSize(memory, 'MemoryStore', factory, cpu, log);
    await memory.close();
    log(`MemoryStore heap probe (child process): ${bigSizes.join(', ')} sessions`);
    const child = await memoryChild({ sizes: bigSizes, timing: cpu });
    for (const p of child.points) {
      data.memory.push({
        store: 'MemoryStore',
        sessions: p.sessions,
        bytes: p.heapBytes,
        bytesPerSession: p.heapBytes / p.sessions,
      });
      data.unrelated.push({ store: 'MemoryStore', kind: 'sessions', unrelated: p.sessions, ...p });
    }

    if (!redisServerInstalled()) {
      data.skipped.push('RedisStore: no redis-server on PATH');
      log('SKIPPING RedisStore: no redis-server on PATH');
    } else {
      const [serverA, serverB] = await Promise.all([startRedisServer(), startRedisServer()]);
      const small = redisStoreOn(serverA);
      const big = redisStoreOn(serverB);
      try {
        log(`private redis-servers on ports ${serverA.port} (baseline) and ${serverB.port} (filled)`);
        data.byNamespaceSize.RedisStore = await byNamespaceSize(small, 'RedisStore', factory, wall, log);

        let started = performance.now();
        await fillUnrelatedKeys(big, unrelatedKeys);
        log(
          `${unrelatedKeys} unrelated keys written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
        const keysTiming = await unrelatedTiming(big, small, factory, wall);
        data.unrelated.push({ store: 'RedisStore', kind: 'keys', unrelated: unrelatedKeys, ...keysTiming });
        const scans = [await scanPass(big), await scanPass(big), await scanPass(big)].sort((x, y) => x - y);
        data.scan = { keys: unrelatedKeys, ms: scans[1]! };
        await big.client.flushall('SYNC');

        // Progressive fill: B grows to each size; memory is measured before any other write.
        const base = await usedMemory(big);
        let filled = 0;
        for (const size of bigSizes) {
          started = performance.now();
          const offset = filled;
          await factory.fill(
            big,
            size - filled,
            (i) => `user:${Math.floor((offset + i) / SESSIONS_PER_USER)}`,
          );
          filled = size;
          const bytes = (await usedMemory(big)) - base;
          log(
            `RedisStore: ${size} sessions (filled in ${((performance.now() - started) / 1000).toFixed(1)} s), used_memory +${formatBytes(bytes)}`,
          );
          data.memory.push({ store: 'RedisStore', sessions: size, bytes, bytesPerSession: bytes / size });
          const t = await unrelatedTiming(big, small, factory, wall);
          data.unrelated.push({ store: 'RedisStore', kind: 'sessions', unrelated: size, ...t });
        }
      } finally {
        await small.close();
        await big.close();
        await Promise.all([serverA.stop(), serverB.stop()]);
      }
    }
    return summarise(data, quick);
  },
});

function summarise(data: ScalingData, quick: boolean) {
  const tables: Table[] = [];
  const checks: Check[] = [];
  const sizeRows: (string | number)[][] = [];
  for (const [store, ops] of Object.entries(data.byNamespaceSize)) {
    data.namespaceSizes.forEach((size, i) => {
      const ms = (op: NamespaceOp) => ops[op][i] ?? Number.NaN;
      sizeRows.push([
        store,
        size.toLocaleString('en-US'),
        formatMs(ms('list')),
        formatMs(ms('revoke access')),
        formatMs(ms('revoke')),
        formatMs(ms('list') / size),
        formatMs(ms('revoke') / size),
      ]);
    });
    for (const op of NAMESPACE_OPS) {
      const slope = logLogSlope(data.namespaceSizes, ops[op]);
      checks.push({
        name: `${store} ${op} grows about linearly with the namespace (log-log slope over ${data.namespaceSizes[0]}…${data.namespaceSizes.at(-1)} sessions ≤ ${MAX_SLOPE}; 1 = linear, 2 = quadratic)`,
        pass: slope <= MAX_SLOPE,
        detail: `slope ${slope.toFixed(2)} (${formatMs(ops[op][0]!)} → ${formatMs(ops[op].at(-1)!)})`,
      });
    }
  }
  tables.push({
    title: '(a) Namespace operations vs sessions in the namespace (time per call, median of rounds)',
    columns: ['store', 'sessions', 'list', 'revoke access', 'revoke', 'list / session', 'revoke / session'],
    rows: sizeRows,
  });

  const describe = (u: ScalingData['unrelated'][number]) =>
    `${u.unrelated.toLocaleString('en-US')} ${u.kind === 'keys' ? 'unrelated keys' : 'other sessions'}`;
  tables.push({
    title:
      '(b) A 10-session namespace while the store holds unrelated data (time per call; ratio = loaded / empty store, median of per-round ratios)',
    columns: [
      'store',
      'store also holds',
      'list',
      'revoke access',
      'revoke',
      'ratio list',
      'ratio revoke access',
      'ratio revoke',
    ],
    rows: data.unrelated.map((u) => [
      u.store,
      describe(u),
      formatMs(u.ms.list),
      formatMs(u.ms['revoke access']),
      formatMs(u.ms.revoke),
      formatRatio(u.ratio.list),
      formatRatio(u.ratio['revoke access']),
      formatRatio(u.ratio.revoke),
    ]),
  });
  const largest = new Map<string, ScalingData['unrelated'][number]>();
  for (const u of data.unrelated) {
    const key = `${u.store} ${u.kind}`;
    if ((largest.get(key)?.unrelated ?? -1) < u.unrelated) largest.set(key, u);
  }
  for (const u of largest.values()) {
    const worst = Math.max(...NAMESPACE_OPS.map((op) => u.ratio[op]));
    checks.push({
      name: `${u.store}: a 10-session namespace costs the same with ${describe(u)} (every ratio ≤ ${MAX_UNRELATED_RATIO}x)`,
      pass: worst <= MAX_UNRELATED_RATIO,
      detail: NAMESPACE_OPS.map((op) => `${op} ${formatRatio(u.ratio[op])}`).join(', '),
    });
  }

  tables.push({
    title: '(c) Memory per live session (MemoryStore: V8 heap after GC; Redis: INFO used_memory)',
    columns: ['store', 'sessions', 'total', 'per session', 'engine data', 'store overhead'],
    rows: data.memory.map((m) => [
      m.store,
      m.sessions.toLocaleString('en-US'),
      formatBytes(m.bytes),
      `${Math.round(m.bytesPerSession)} B`,
      `${data.dataBytes} B`,
      `${Math.round(m.bytesPerSession - data.dataBytes)} B`,
    ]),
  });

  const notes = [
    'All operations go through the engine (listSessions, revokeNamespaceAccess, revokeNamespace); "revoke" ends the sessions, so each round first fills fresh namespaces (untimed). Times per call are medians over rounds; each round repeats a call until it lasts ≥ 10-25 ms. MemoryStore times are this process\'s CPU time (immune to other processes on a shared machine); RedisStore times are wall-clock round trips.',
    `Records are cloned from a real login (payload with uid/roles/name, IP and a browser user agent; ${data.dataBytes} B of engine data) with fresh ids and CSRF secret each; unrelated sessions are ${SESSIONS_PER_USER} per user (namespace).`,
    'Redis: two private redis-servers (no persistence) on loopback; "empty" is the baseline server, which holds only the namespaces under test. MemoryStore (b)/(c) run in a child process (node --expose-gc) whose heap holds only the store.',
    "(b) asks whether cost grows with the unrelated data: a ratio below 1 says no more than a ratio of 1 (it is noise, or a tiny store's own overhead such as hash-table resizing); a SCAN-based design would grow with the keyspace (see the SCAN note).",
  ];
  if (data.scan) {
    const revoke = data.unrelated.find((u) => u.store === 'RedisStore' && u.kind === 'keys')?.ms.revoke;
    notes.push(
      `For contrast: one SCAN MATCH pass (COUNT 1000) over ${data.scan.keys.toLocaleString('en-US')} keys takes ${formatMs(data.scan.ms)}${revoke ? ` (${Math.round(data.scan.ms / revoke)}x this store's revoke of a 10-session namespace)` : ''}: what a SCAN-based store (jwt_sessions flush_namespaced) pays on every call, growing with the whole keyspace.`,
    );
  }
  if (quick) notes.push('Quick mode: sizes stop at 100k; the full run goes to 1M.');
  for (const s of data.skipped) notes.push(`Skipped: ${s}.`);
  return {
    name: 'scaling',
    title: 'Scaling: namespace operations and memory',
    description:
      'How the cost of namespace operations grows with the sessions in the namespace, whether it depends on anything else in the store, and memory per live session.',
    tables,
    checks,
    notes,
    data,
  };
}

/**
 * Soak: the reference server (src/server/server.ts, in process) under a bounded mixed load —
 * login, verify (GET /api/me), refresh, logout — on Redis (a private redis-server on a spare port)
 * and on PostgreSQL (a throwaway database on DATABASE_URL's server, dropped afterwards). Default 60 s
 * in all (half per store), `--quick` 10 s, or SOAK_SECONDS.
 *
 * Reported per store: requests by operation, the expected 401s (a logged-out session's token
 * presented again, counted apart), errors (anything else that is not a success: must be 0),
 * throughput and latency, and memory (RSS and heap after a forced GC) at the start and end of the
 * steady state: the heap must stay flat.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { type RunningServer, startServer } from '../src/server/server.js';
import type { StoreSpec } from '../src/server/store-url.js';
import { redisServerInstalled, startRedisServer } from '../test/support/redis-server.js';
import { type BenchResult, type Check, defineBenchmark, type Table } from './lib/harness.js';
import { forkServer } from './lib/http-bench.js';

const WORKERS = 16;
/** Heap growth tolerated between the start and the end of the steady state (after GC). */
const HEAP_GROWTH_LIMIT_MB = 16;
const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Memory {
  rssMb: number;
  heapMb: number;
}

function memory(): Memory {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 };
}

type Op = 'login' | 'verify' | 'refresh' | 'logout';

interface Tally {
  ops: Record<Op, number>;
  expected401: number;
  errors: number;
  errorSamples: string[];
  latencies: number[];
}

async function request(
  server: { url: string },
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: Record<string, string> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // the status tells
  }
  return { status: response.status, json, text };
}

/**
 * One simulated user: logs in, then mostly verifies, sometimes refreshes, now and then logs out
 * (and checks once that the old token is refused: the expected 401) and logs in again.
 */
async function user(server: RunningServer, until: number, tally: Tally): Promise<void> {
  let session: { access: string; refresh: string } | null = null;
  const fail = (what: string, reply: { status: number; text: string }) => {
    tally.errors++;
    if (tally.errorSamples.length < 5)
      tally.errorSamples.push(`${what}: ${reply.status} ${reply.text.slice(0, 120)}`);
  };
  const timed = async <T>(op: Op, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    tally.latencies.push(performance.now() - started);
    tally.ops[op]++;
    return result;
  };
  while (Date.now() < until) {
    if (session === null) {
      const reply = await timed('login', () => request(server, 'POST', '/auth/login', {}, DEMO));
      if (reply.status !== 200) fail('login', reply);
      else session = { access: reply.json.access_token!, refresh: reply.json.refresh_token! };
      continue;
    }
    const dice = Math.random();
    if (dice < 0.04) {
      const old = session;
      const reply = await timed('logout', () =>
        request(server, 'POST', '/auth/logout', { authorization: `Bearer ${old.access}` }, {}),
      );
      if (reply.status !== 200) fail('logout', reply);
      session = null;
      const after = await timed('verify', () =>
        request(server, 'GET', '/api/me', { authorization: `Bearer ${old.access}` }),
      );
      if (after.status === 401 && after.json.code === 'session_not_found') tally.expected401++;
      else fail('verify after logout', after);
    } else if (dice < 0.24) {
      const current = session;
      const reply = await timed('refresh', () =>
        request(server, 'POST', '/auth/refresh', { 'x-refresh-token': current.refresh }),
      );
      if (reply.status !== 200) fail('refresh', reply);
      else session = { access: reply.json.access_token!, refresh: reply.json.refresh_token! };
    } else {
      const current = session;
      const reply = await timed('verify', () =>
        request(server, 'GET', '/api/me', { authorization: `Bearer ${current.access}` }),
      );
      if (reply.status !== 200) fail('verify', reply);
    }
  }
}

/** Requests per second of the server process's CPU time, for one operation alone. */
interface CpuPhase {
  op: 'verify' | 'refresh';
  requests: number;
  errors: number;
  cpuSec: number;
}

/**
 * Verify-only, then refresh-only load (WORKERS users, each with its own session) against the
 * reference server in a child process (bench/lib/soak-server.ts), with the child's CPU time over
 * each phase: requests per server CPU-second of GET /api/me and of POST /auth/refresh.
 */
async function cpuPhases(store: StoreSpec, seconds: number): Promise<CpuPhase[]> {
  const script = new URL('./lib/soak-server.ts', import.meta.url).pathname;
  const server = await forkServer(script, store);
  try {
    const users: { access: string; refresh: string }[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const reply = await request(server, 'POST', '/auth/login', {}, DEMO);
      if (reply.status !== 200) throw new Error(`login: ${reply.status} ${reply.text.slice(0, 120)}`);
      users.push({ access: reply.json.access_token!, refresh: reply.json.refresh_token! });
    }
    const phase = async (op: CpuPhase['op'], durationSec: number): Promise<CpuPhase> => {
      let requests = 0;
      let errors = 0;
      const until = Date.now() + durationSec * 1000;
      const cpuBefore = await server.cpuMicros();
      await Promise.all(
        users.map(async (u) => {
          while (Date.now() < until) {
            const reply =
              op === 'verify'
                ? await request(server, 'GET', '/api/me', { authorization: `Bearer ${u.access}` })
                : await request(server, 'POST', '/auth/refresh', { 'x-refresh-token': u.refresh });
            requests++;
            if (reply.status !== 200) errors++;
            else if (op === 'refresh') {
              u.access = reply.json.access_token!;
              u.refresh = reply.json.refresh_token!;
            }
          }
        }),
      );
      return { op, requests, errors, cpuSec: ((await server.cpuMicros()) - cpuBefore) / 1e6 };
    };
    await phase('verify', 1); // warm-up (JIT) of both paths, not reported
    await phase('refresh', 1);
    return [await phase('verify', seconds), await phase('refresh', seconds)];
  } finally {
    await server.stop();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface StoreRun {
  label: string;
  seconds: number;
  tally: Tally;
  start: Memory;
  end: Memory;
  peakRssMb: number;
  cpu: CpuPhase[];
}

async function soak(
  label: string,
  store: StoreSpec,
  seconds: number,
  log: (m: string) => void,
): Promise<StoreRun> {
  const server = await startServer({ port: 0, logLevel: false, store });
  const tally: Tally = {
    ops: { login: 0, verify: 0, refresh: 0, logout: 0 },
    expected401: 0,
    errors: 0,
    errorSamples: [],
    latencies: [],
  };
  try {
    // Warm-up (JIT, pools, scrypt), excluded from the memory baseline.
    const warmTally: Tally = { ...tally, ops: { ...tally.ops }, latencies: [], errorSamples: [] };
    await Promise.all(Array.from({ length: WORKERS }, () => user(server, Date.now() + 1500, warmTally)));
    const start = memory();
    let peakRssMb = start.rssMb;
    const sampler = setInterval(() => {
      peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
    }, 250);
    const until = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: WORKERS }, () => user(server, until, tally)));
    clearInterval(sampler);
    const end = memory();
    tally.errors += warmTally.errors;
    tally.errorSamples.push(...warmTally.errorSamples);
    log(
      `${label}: ${Object.values(tally.ops).reduce((a, b) => a + b, 0)} requests in ${seconds} s, ${tally.errors} errors, ` +
        `heap ${start.heapMb.toFixed(1)} → ${end.heapMb.toFixed(1)} MB, RSS ${start.rssMb.toFixed(0)} → ${end.rssMb.toFixed(0)} MB`,
    );
    await server.sessions.revokeAll().catch(() => 0);
    await server.close();
    const cpu = await cpuPhases(store, Math.max(1, seconds / 5));
    log(
      `${label}: ${cpu.map((p) => `${p.op} ${Math.round(p.requests / p.cpuSec)} req/CPU-s (${p.errors} errors)`).join(', ')}`,
    );
    return { label, seconds, tally, start, end, peakRssMb, cpu };
  } finally {
    await server.sessions.revokeAll().catch(() => 0);
    await server.close();
  }
}

export default defineBenchmark({
  name: 'soak',
  description: 'bounded soak of the reference server (login/verify/refresh/logout) on Redis and PostgreSQL',
  async run(ctx): Promise<BenchResult> {
    const total = Number(process.env.SOAK_SECONDS ?? (ctx.quick ? 10 : 60));
    const perStore = Math.max(2, Math.round(total / 2));
    const runs: StoreRun[] = [];
    const notes: string[] = [];

    if (redisServerInstalled()) {
      const redis = await startRedisServer();
      try {
        runs.push(
          await soak('Redis (private redis-server)', { kind: 'redis', url: redis.url }, perStore, ctx.log),
        );
      } finally {
        await redis.stop();
      }
    } else {
      notes.push('Redis skipped: redis-server is not on PATH');
    }

    const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const database = `soak_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 3000 });
    let created = false;
    try {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      created = true;
      const url = new URL(baseUrl);
      url.pathname = `/${database}`;
      runs.push(
        await soak(
          'PostgreSQL (throwaway database)',
          { kind: 'postgres', url: url.toString() },
          perStore,
          ctx.log,
        ),
      );
    } catch (error) {
      if (!created) notes.push(`PostgreSQL skipped: ${(error as Error).message}`);
      else throw error;
    } finally {
      if (created)
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    }

    const table: Table = {
      title: `Mixed load, ${WORKERS} concurrent users per store`,
      columns: [
        'store',
        'seconds',
        'requests',
        'req/s',
        'login',
        'verify',
        'refresh',
        'logout',
        'expected 401',
        'errors',
        'p50 ms',
        'p99 ms',
      ],
      rows: runs.map((r) => {
        const count = Object.values(r.tally.ops).reduce((a, b) => a + b, 0);
        const sorted = [...r.tally.latencies].sort((a, b) => a - b);
        return [
          r.label,
          String(r.seconds),
          String(count),
          (count / r.seconds).toFixed(0),
          String(r.tally.ops.login),
          String(r.tally.ops.verify),
          String(r.tally.ops.refresh),
          String(r.tally.ops.logout),
          String(r.tally.expected401),
          String(r.tally.errors),
          percentile(sorted, 50).toFixed(1),
          percentile(sorted, 99).toFixed(1),
        ];
      }),
    };
    const memoryTable: Table = {
      title: 'Memory (after a forced GC), start and end of the steady state',
      columns: ['store', 'heap start MB', 'heap end MB', 'RSS start MB', 'RSS end MB', 'RSS peak MB'],
      rows: runs.map((r) => [
        r.label,
        r.start.heapMb.toFixed(1),
        r.end.heapMb.toFixed(1),
        r.start.rssMb.toFixed(0),
        r.end.rssMb.toFixed(0),
        r.peakRssMb.toFixed(0),
      ]),
    };
    const cpuTable: Table = {
      title: 'One operation at a time: requests per server CPU-second (the server in its own process)',
      columns: ['store', 'operation', 'requests', 'server CPU s', 'req/CPU-s', 'errors'],
      rows: runs.flatMap((r) =>
        r.cpu.map((p) => [
          r.label,
          p.op === 'verify' ? 'verify (GET /api/me)' : 'refresh (POST /auth/refresh)',
          String(p.requests),
          p.cpuSec.toFixed(2),
          Math.round(p.requests / p.cpuSec),
          String(p.errors),
        ]),
      ),
    };
    const checks: Check[] = [];
    for (const r of runs) {
      const phaseErrors = r.cpu.reduce((n, p) => n + p.errors, 0);
      checks.push({
        name: `${r.label}: the per-operation CPU phases answer only 200`,
        pass: phaseErrors === 0,
        detail: r.cpu.map((p) => `${p.op}: ${p.requests} requests, ${p.errors} errors`).join('; '),
      });
      checks.push({
        name: `${r.label}: no errors`,
        pass: r.tally.errors === 0,
        detail:
          r.tally.errors === 0
            ? '0 errors'
            : `${r.tally.errors} errors, e.g. ${r.tally.errorSamples.join(' | ')}`,
      });
      const growth = r.end.heapMb - r.start.heapMb;
      checks.push({
        name: `${r.label}: heap flat (growth < ${HEAP_GROWTH_LIMIT_MB} MB)`,
        pass: growth < HEAP_GROWTH_LIMIT_MB,
        detail: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB`,
      });
      checks.push({
        name: `${r.label}: every logged-out token refused (expected 401s counted)`,
        pass: r.tally.expected401 === r.tally.ops.logout,
        detail: `${r.tally.expected401} of ${r.tally.ops.logout}`,
      });
    }
    if (runs.length === 0)
      checks.push({ name: 'at least one store ran', pass: false, detail: notes.join('; ') });
    notes.push(
      'Login costs one scrypt hash (N=16384) by design, so logins dominate CPU; the mix is ~4% logout, ~20% refresh, the rest verify.',
      'req/CPU-s: after the mixed load, the reference server is started again in a child process on the same store; 16 users (one session each) send only GET /api/me, then only POST /auth/refresh (X-Refresh-Token, each user following its own rotation), for a fifth of the soak time each after a 1 s warm-up; the CPU time of the child process (user + system) over each phase is the server cost.',
      'Expected 401s: after each logout the old access token is presented once more and must be refused (session_not_found).',
    );
    return {
      name: 'soak',
      title: 'Soak: reference server under mixed load',
      description:
        'Bounded soak of login / verify / refresh / logout against the reference server on Redis and PostgreSQL.',
      tables: [table, cpuTable, memoryTable],
      checks,
      notes,
      data: runs.map((r) => ({ ...r, tally: { ...r.tally, latencies: undefined } })),
    };
  },
});

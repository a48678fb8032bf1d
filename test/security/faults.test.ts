/**
 * Failure behaviour (SECURITY.md F1–F3) under load: the reference server (src/server/server.ts) on
 * a PRIVATE Redis, PostgreSQL and MariaDB (never the shared services), with concurrent clients
 * verifying and refreshing, while the database is crashed and restarted (and, for Redis, frozen).
 *
 * Shown for each: requests fail closed with 503 store_unavailable within the store timeout plus
 * slack; a revoked session is never accepted (before, during or after); service resumes by itself;
 * with a durable database every session survives the crash; no unhandled rejection, no 500.
 * The figures (requests, errors by kind, sessions lost) are printed for docs/security.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/server.js';
import type { StoreSpec } from '../../src/server/store-url.js';
import { createSessions } from '../../src/session/engine.js';
import { SqliteStore } from '../../src/stores/sql/sqlite.js';
import { redisServerInstalled, startRedisServer, type ThrowawayRedis } from '../support/redis-server.js';
import { describeWithService, serviceAvailable } from '../support/services.js';
import {
  type PrivateDb,
  privateMariadbProblem,
  privatePostgresProblem,
  startPrivateMariadb,
  startPrivatePostgres,
} from './private-db.js';
import { engineKey, sleep, until, watchUnhandledRejections } from './support.js';

/** Extra time allowed over the store's own timeout (event loop under load, HTTP on 2 busy cores). */
const SLACK_MS = 1500;
const WORKERS = 8;
const HEALTHY_MS = 1500;
const OUTAGE_MS = 3000;
/**
 * After the first success, pooled connections that died with the server are found and replaced
 * one use each: within this time every request must succeed again.
 */
const SETTLE_MS = 2000;

const redisBinary = await serviceAvailable('redis-server binary (fault tests)', async () => {
  if (!redisServerInstalled()) throw new Error('redis-server is not on PATH');
});
const postgresTooling = await serviceAvailable('private PostgreSQL instance (fault tests)', async () => {
  const problem = privatePostgresProblem();
  if (problem !== null) throw new Error(problem);
});
const mariadbTooling = await serviceAvailable('private MariaDB instance (fault tests)', async () => {
  const problem = privateMariadbProblem();
  if (problem !== null) throw new Error(problem);
});

interface Client {
  access: string;
  refresh: string;
  sessionId: string;
}

interface Sample {
  kind: 'verify' | 'refresh' | 'revoked';
  status: number;
  code?: string;
  /** Epoch ms when the request was sent and when its answer was complete. */
  start: number;
  end: number;
  ms: number;
}

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

async function call(
  server: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const started = performance.now();
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: { code?: string; access_token?: string; refresh_token?: string; session_id?: string } = {};
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as an empty object, the status tells
  }
  return { status: response.status, json, text, ms: performance.now() - started };
}

async function login(server: RunningServer): Promise<Client> {
  const reply = await call(server, 'POST', '/auth/login', {}, DEMO);
  expect(reply.status, reply.text).toBe(200);
  return {
    access: reply.json.access_token!,
    refresh: reply.json.refresh_token!,
    sessionId: reply.json.session_id!,
  };
}

/**
 * Concurrent clients: each takes a session nobody else is using (a client is one browser tab: it
 * never races itself), verifies it (GET /api/me) or now and then refreshes it (POST /auth/refresh,
 * keeping the new pair); one worker keeps presenting a revoked session's token.
 */
function startLoad(server: RunningServer, clients: Client[], revoked: Client) {
  const samples: Sample[] = [];
  let running = true;
  const busy = new Set<number>();
  const record = (kind: Sample['kind'], start: number, r: Awaited<ReturnType<typeof call>>) =>
    samples.push({
      kind,
      status: r.status,
      start,
      end: Date.now(),
      ms: r.ms,
      ...(r.json.code && { code: r.json.code }),
    });
  const worker = async (n: number) => {
    while (running) {
      const start = Date.now();
      if (n === 0) {
        record(
          'revoked',
          start,
          await call(server, 'GET', '/api/me', { authorization: `Bearer ${revoked.access}` }),
        );
        continue;
      }
      const free = clients.map((_, i) => i).filter((i) => !busy.has(i));
      if (free.length === 0) {
        await sleep(2);
        continue;
      }
      const i = free[Math.floor(Math.random() * free.length)]!;
      busy.add(i);
      const client = clients[i]!;
      if (Math.random() < 0.2) {
        const r = await call(server, 'POST', '/auth/refresh', { 'x-refresh-token': client.refresh });
        if (r.status === 200)
          clients[i] = { ...client, access: r.json.access_token!, refresh: r.json.refresh_token! };
        record('refresh', start, r);
      } else {
        record(
          'verify',
          start,
          await call(server, 'GET', '/api/me', { authorization: `Bearer ${client.access}` }),
        );
      }
      busy.delete(i);
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n)));
  return {
    samples,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Counts by window (before / down / after) and outcome, for the log and the docs. */
function tally(samples: Sample[], downFrom: number, downTo: number) {
  const by: Record<string, number> = {};
  for (const s of samples) {
    const window =
      s.end < downFrom
        ? 'before'
        : s.start > downTo
          ? 'after'
          : s.start >= downFrom && s.end <= downTo
            ? 'down'
            : 'edge';
    const key = `${window} ${s.kind} ${s.status}${s.code ? ` ${s.code}` : ''}`;
    by[key] = (by[key] ?? 0) + 1;
  }
  return by;
}

interface FaultTarget {
  store: StoreSpec;
  /** The store's operation timeout (server defaults: Redis 1000 ms, SQL 2000 ms). */
  timeoutMs: number;
  durable: boolean;
  crash(): Promise<void>;
  restart(): Promise<void>;
  /** Optional "slow store" phase: frozen, then thawed. */
  freeze?: { pause(): void; resume(): void };
}

/** The whole scenario; returns the figures printed for the docs. */
async function runFaultScenario(name: string, target: FaultTarget) {
  const rejections = watchUnhandledRejections();
  const server = await startServer({ port: 0, logLevel: false, store: target.store, reuseGrace: 60 });
  try {
    const clients: Client[] = [];
    for (let i = 0; i < 6; i++) clients.push(await login(server));
    const revoked = await login(server);
    expect(
      (await call(server, 'POST', '/auth/logout', { authorization: `Bearer ${revoked.access}` }, {})).status,
    ).toBe(200);

    const load = startLoad(server, clients, revoked);
    await sleep(HEALTHY_MS);
    if (target.freeze) {
      target.freeze.pause();
      await sleep(OUTAGE_MS);
      target.freeze.resume();
      await sleep(HEALTHY_MS);
    }
    const crashing = Date.now();
    await target.crash();
    const crashedAt = Date.now();
    await sleep(OUTAGE_MS);
    const restarting = Date.now();
    await target.restart();
    const restartedAt = Date.now();
    // Recovers by itself: no server restart, no reconnect call. (A non-persistent store answers
    // 401 for the sessions it forgot: that is recovery too, and fail-closed.)
    await until(
      async () =>
        (await call(server, 'GET', '/api/me', { authorization: `Bearer ${clients[0]!.access}` })).status !==
        503,
      20_000,
      `${name}: service did not resume after the restart`,
    );
    const recoveredAt = Date.now();
    await sleep(SETTLE_MS + HEALTHY_MS);
    await load.stop();

    const samples = load.samples;
    const counts = tally(samples, crashedAt, restarting);
    console.info(
      `[faults] ${name}: ${samples.length} requests; crash took ${crashedAt - crashing} ms, restart ${restartedAt - restarting} ms, ` +
        `service back ${recoveredAt - restartedAt} ms after the restart; slowest 503 ` +
        `${Math.round(Math.max(0, ...samples.filter((x) => x.status === 503).map((x) => x.ms)))} ms; ` +
        `500s: ${samples.filter((x) => x.status >= 500 && x.status !== 503).length}; revoked accepted: ` +
        `${samples.filter((x) => x.kind === 'revoked' && x.status === 200).length}`,
      counts,
    );

    // [F1][F3] nothing but 200, 401 (revoked / forgotten) and 503 store_unavailable; never a 500
    for (const s of samples) {
      expect([200, 401, 503], `${name} ${JSON.stringify(s)}`).toContain(s.status);
      if (s.status === 503) {
        expect(s.code, name).toBe('store_unavailable');
        // [F1] within the store timeout plus slack (a frozen store included)
        expect(s.ms, `${name} ${JSON.stringify(s)}`).toBeLessThan(target.timeoutMs + SLACK_MS);
      }
    }
    // [F1] fail closed: the revoked session is never accepted, before, during or after
    const revokedSamples = samples.filter((s) => s.kind === 'revoked');
    expect(revokedSamples.length).toBeGreaterThan(5);
    expect(revokedSamples.filter((s) => s.status === 200)).toEqual([]);
    // [F1] while the database is down, every request (sent and answered inside the outage) is a 503
    const during = samples.filter((s) => s.start >= crashedAt && s.end <= restarting);
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((s) => s.status !== 503)).toEqual([]);
    const before = samples.filter((s) => s.end < crashing && s.kind !== 'revoked');
    expect(before.filter((s) => s.status === 200).length).toBeGreaterThan(0);
    const after = samples.filter((s) => s.start > recoveredAt + SETTLE_MS);
    expect(after.length).toBeGreaterThan(0);
    if (target.durable) {
      // [F2] no session lost: every live client's requests succeed after the crash. One exception,
      // not a loss: a refresh that committed just before the crash but whose answer was lost leaves
      // the client with the superseded access token (401 access_revoked) until its next refresh,
      // which the grace window answers with the committed generation.
      const failed = after.filter(
        (s) =>
          s.kind !== 'revoked' && s.status !== 200 && !(s.kind === 'verify' && s.code === 'access_revoked'),
      );
      expect(failed).toEqual([]);
    } else {
      // forgotten sessions are refused, never accepted; a new login works at once
      expect(after.filter((s) => s.status === 200)).toEqual([]);
      const fresh = await login(server);
      expect((await call(server, 'GET', '/api/me', { authorization: `Bearer ${fresh.access}` })).status).toBe(
        200,
      );
    }
    const finalStatuses: number[] = [];
    for (const client of clients) {
      // a client refreshes, then uses its new access token
      const refreshed = await call(server, 'POST', '/auth/refresh', { 'x-refresh-token': client.refresh });
      finalStatuses.push(refreshed.status);
      const access = refreshed.json.access_token ?? client.access;
      finalStatuses.push(
        (await call(server, 'GET', '/api/me', { authorization: `Bearer ${access}` })).status,
      );
    }
    const lost = clients.filter(
      (_, i) => finalStatuses[2 * i] !== 200 || finalStatuses[2 * i + 1] !== 200,
    ).length;
    if (target.durable) expect(finalStatuses, `${name}: sessions lost`).toEqual(finalStatuses.map(() => 200));
    else
      expect(finalStatuses, `${name}: a non-persistent store forgets, and says so`).toEqual(
        finalStatuses.map(() => 401),
      );
    // [F3] no unhandled rejection, the server still answers
    expect(rejections.stop()).toEqual([]);
    expect((await call(server, 'GET', '/api/me', {})).status).toBe(401);
    return { requests: samples.length, counts, lost };
  } finally {
    rejections.stop();
    await server.close();
  }
}

describeWithService(redisBinary)(
  '[F1][F3] private Redis: frozen, then killed and restarted under load',
  () => {
    let redis: ThrowawayRedis | undefined;
    afterAll(() => redis?.stop());

    it('[F1][F3] fails closed with 503 within the timeout, never accepts a revoked session, resumes by itself', async () => {
      redis = await startRedisServer();
      const r = redis;
      const figures = await runFaultScenario('Redis', {
        store: { kind: 'redis', url: r.url },
        timeoutMs: 1000,
        // The throwaway server runs without persistence: a restart empties it (sessions end, fail closed).
        durable: false,
        crash: () => r.stop(),
        restart: () => r.start(),
        freeze: { pause: () => r.pause(), resume: () => r.resume() },
      });
      expect(figures.requests).toBeGreaterThan(50);
    }, 60_000);
  },
);

/**
 * A private SQL server crashed and restarted under load: durable, so every session must survive.
 * PostgreSQL and MariaDB run the same scenario; only the instance and the store kind differ.
 */
function describeSqlCrash(
  available: boolean,
  title: string,
  name: string,
  kind: 'postgres' | 'mysql',
  startDb: () => Promise<PrivateDb>,
): void {
  describeWithService(available)(title, () => {
    let db: PrivateDb | undefined;
    afterAll(() => db?.destroy());

    it('[F1][F2][F3] fails closed with 503 within the timeout, loses no session, resumes by itself', async () => {
      db = await startDb();
      const d = db;
      const figures = await runFaultScenario(name, {
        store: { kind, url: d.url },
        timeoutMs: 2000,
        durable: true,
        crash: () => d.crash(),
        restart: () => d.start(),
      });
      expect(figures.lost).toBe(0);
    }, 90_000);
  });
}

describeSqlCrash(
  postgresTooling,
  '[F1][F2][F3] private PostgreSQL: crashed and restarted under load',
  'PostgreSQL',
  'postgres',
  startPrivatePostgres,
);
describeSqlCrash(
  mariadbTooling,
  '[F1][F2][F3] private MariaDB: killed (SIGKILL) and restarted under load',
  'MariaDB',
  'mysql',
  startPrivateMariadb,
);

describe('[F2][F3] SQLite: the application process killed (SIGKILL) in the middle of refreshes', () => {
  it('[F2] every session the killed process reported is still there and usable after reopening the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwts-sec-sqlite-'));
    const file = join(dir, 'sessions.db');
    const key = engineKey();
    const moduleUrl = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
    // The child logs in 40 sessions, then refreshes them round-robin forever, printing every
    // session id and refresh token it received (so after its commit); it is killed mid-flight.
    const source = `
      import { createSessions } from ${moduleUrl('session/engine.ts')};
      import { SqliteStore } from ${moduleUrl('stores/sql/sqlite.ts')};
      const store = new SqliteStore({ filename: process.env.FILE, tablePrefix: 'sec_' });
      await store.migrate();
      const sessions = createSessions({
        keys: { signing: { alg: 'ES256', key: process.env.KEY, kid: process.env.KID } },
        store, reuseGrace: 600,
      });
      const pairs = [];
      for (let i = 0; i < 40; i++) {
        const pair = await sessions.login({ namespace: 'crash' });
        pairs.push(pair);
        process.stdout.write(JSON.stringify({ id: pair.sessionId, refresh: pair.refresh }) + '\\n');
      }
      for (let n = 0; ; n++) {
        const i = n % pairs.length;
        pairs[i] = await sessions.refresh(pairs[i].refresh);
        process.stdout.write(JSON.stringify({ id: pairs[i].sessionId, refresh: pairs[i].refresh }) + '\\n');
      }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, FILE: file, KEY: key.privatePem!, KID: key.kid },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    await until(
      () => out.split('\n').length > 400 || child.exitCode !== null,
      30_000,
      `sqlite child: ${err}`,
    );
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    // Last token reported per session (lines are complete JSON up to the last newline).
    const latest = new Map<string, string>();
    for (const line of out.slice(0, out.lastIndexOf('\n')).split('\n')) {
      const { id, refresh } = JSON.parse(line) as { id: string; refresh: string };
      latest.set(id, refresh);
    }
    expect(latest.size).toBe(40);
    const store = new SqliteStore({ filename: file, tablePrefix: 'sec_' });
    const sessions = createSessions({
      keys: { signing: { alg: 'ES256', key: key.privateKey, kid: key.kid } },
      store,
      reuseGrace: 600,
    });
    try {
      expect(await store.listNamespace('crash', Date.now())).toHaveLength(40);
      let lost = 0;
      for (const refresh of latest.values()) {
        // the reported generation, or the one committed just before the kill (its predecessor is then
        // within the grace window): either way the session goes on
        const next = await sessions.refresh(refresh).catch(() => null);
        if (
          next === null ||
          !(await sessions.verifyAccess(next.access).then(
            () => true,
            () => false,
          ))
        )
          lost++;
      }
      console.info(
        `[faults] SQLite: ${out.split('\n').length - 1} operations reported before SIGKILL; sessions lost: ${lost}`,
      );
      expect(lost).toBe(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * Live-cache scenarios run on standalone Redis and on Redis Cluster (test/stores/redis*.test.ts):
 * round trips of the engine's calls counted with MONITOR, and two application instances on one key
 * prefix seeing each other's refreshes and revocations.
 */
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { RedisStore } from '../../src/stores/redis/index.js';
import { type CommandWatch, roundTrips } from './redis-server.js';

export const LIVE_CACHE_KEYS = {
  signing: { alg: 'HS256', key: 'live-cache-suite-secret-0123456789ab', kid: 'k1' },
} as const;

/** Polls `condition` until true; throws past `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
  stepMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/**
 * Round trips (client commands naming `prefix`, as MONITOR saw them on every watched node) of
 * login, a chain of refreshes and strict verifies (one of them due to record last use, i.e. to
 * touch the session), through the engine on a live-cache store.
 */
export async function engineRoundTrips(
  store: RedisStore,
  watch: CommandWatch,
  prefix: string,
): Promise<{
  login: string[];
  refresh: string[][];
  verify: string[];
  verifyAfterRefresh: string[];
  verifyTouching: string[];
  verifyAfterTouch: string[];
}> {
  await until(() => store.cacheStats()!.live);
  let skew = 0;
  const sessions = createSessions({
    keys: LIVE_CACHE_KEYS,
    store,
    clock: () => Date.now() + skew,
    touchInterval: 60,
  });
  // Warm-up: a script's first use on a connection is an EVAL (then EVALSHA).
  const warm = await sessions.refresh((await sessions.login({ namespace: 'warm' })).refresh);
  skew += 61_000;
  await sessions.verifyAccess(warm.access, { mode: 'strict' }); // touches
  const names = async (operation: () => Promise<unknown>) =>
    roundTrips((await watch.record(operation)).commands, prefix).map((c) => c.name);

  let pair = await sessions.login({ namespace: 'u' });
  const login = await names(async () => {
    pair = await sessions.login({ namespace: 'u' });
  });
  const verify = await names(async () => {
    for (let i = 0; i < 10; i++) await sessions.verifyAccess(pair.access, { mode: 'strict' });
  });
  const refresh: string[][] = [];
  for (let i = 0; i < 3; i++) {
    refresh.push(
      await names(async () => {
        pair = await sessions.refresh(pair.refresh);
      }),
    );
  }
  const verifyAfterRefresh = await names(async () => {
    for (let i = 0; i < 10; i++) await sessions.verifyAccess(pair.access, { mode: 'strict' });
  });
  // Last-used is recorded at most once a minute: past it, a verify also touches the session.
  skew += 61_000;
  const verifyTouching = await names(() => sessions.verifyAccess(pair.access, { mode: 'strict' }));
  const verifyAfterTouch = await names(async () => {
    for (let i = 0; i < 10; i++) await sessions.verifyAccess(pair.access, { mode: 'strict' });
  });
  return { login, refresh, verify, verifyAfterRefresh, verifyTouching, verifyAfterTouch };
}

/** Resolves once `check` throws a SessionError with `code` (the change reached this instance). */
async function refusedWithin(
  check: () => Promise<unknown>,
  code: string,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  await until(
    () =>
      check().then(
        () => false,
        (error: { code?: string }) => {
          if (error.code !== code) throw error;
          return true;
        },
      ),
    timeoutMs,
    0,
  );
  return performance.now() - started;
}

/**
 * Instances A and B (live cache each) on one prefix, each with its engine. Refreshes alternate
 * between them: every refresh is cached by the instance that wrote it, and the other instance
 * must stop accepting the superseded access token (propagation delay bounded by `timeoutMs`) and
 * be able to refresh next (a stale cached record would only cost a failed compare-and-swap and a
 * re-read). Then B revokes access and A refuses; then A revokes the session and B refuses.
 * Resolves the propagation delays measured (ms).
 */
export async function twoInstancesTakeTurns(
  a: RedisStore,
  b: RedisStore,
  timeoutMs = 2000,
): Promise<number[]> {
  await until(() => a.cacheStats()!.live && b.cacheStats()!.live);
  const engines: [Sessions, Sessions] = [
    createSessions({ keys: LIVE_CACHE_KEYS, store: a }),
    createSessions({ keys: LIVE_CACHE_KEYS, store: b }),
  ];
  const delays: number[] = [];
  let pair = await engines[0].login({ namespace: 'turns' });
  await engines[1].verifyAccess(pair.access, { mode: 'strict' }); // B caches it too
  for (let turn = 0; turn < 6; turn++) {
    const writer = engines[turn % 2]!;
    const other = engines[(turn + 1) % 2]!;
    const before = pair;
    await other.verifyAccess(before.access, { mode: 'strict' }); // the other instance holds it cached
    pair = await writer.refresh(before.refresh);
    // the writer refuses the old token at once (it cached what it wrote), the other within the delay
    await expect(writer.verifyAccess(before.access, { mode: 'strict' })).rejects.toMatchObject({
      code: 'access_revoked',
    });
    delays.push(
      await refusedWithin(
        () => other.verifyAccess(before.access, { mode: 'strict' }),
        'access_revoked',
        timeoutMs,
      ),
    );
    await expect(other.verifyAccess(pair.access, { mode: 'strict' })).resolves.toBeTruthy();
    await expect(writer.verifyAccess(pair.access, { mode: 'strict' })).resolves.toBeTruthy();
  }
  // Access revocation on B reaches A (the refresh token keeps working, on A).
  await engines[0].verifyAccess(pair.access, { mode: 'strict' });
  expect(await engines[1].revokeNamespaceAccess('turns')).toBe(1);
  delays.push(
    await refusedWithin(
      () => engines[0].verifyAccess(pair.access, { mode: 'strict' }),
      'access_revoked',
      timeoutMs,
    ),
  );
  pair = await engines[0].refresh(pair.refresh);
  await expect(engines[1].verifyAccess(pair.access, { mode: 'strict' })).resolves.toBeTruthy();
  // Session revocation on A reaches B.
  expect(await engines[0].revokeSession(pair.sessionId)).toBe(1);
  delays.push(
    await refusedWithin(
      () => engines[1].verifyAccess(pair.access, { mode: 'strict' }),
      'session_not_found',
      timeoutMs,
    ),
  );
  await expect(engines[1].refresh(pair.refresh)).rejects.toMatchObject({ code: 'session_not_found' });
  return delays;
}

/**
 * The server under test, run in its own process by bench/http.bench.ts (argv[2] = a `ServerSpec`
 * as JSON). Builds the case's jwt-sessions engine (or none), starts the app, logs the user in and
 * reports the credentials to send; on stop, deletes what it stored in Redis and exits.
 */
import { createHook } from 'node:async_hooks';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { RedisStore } from '../../src/stores/redis/index.js';
import { serveForParent } from '../lib/http-bench.js';
import { startApp } from './apps.js';
import {
  appAuth,
  guardedByJwtSessions,
  SIGNING_KEYS as KEYS,
  ROUTE,
  type ServerSpec,
  USER,
  type UserProfile,
} from './spec.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;

/**
 * Keeps one of Node's per-tick objects (`process.nextTick`'s, one per argument count) alive for
 * the life of the process. Without a live one, a full GC may clear the transitions of their map;
 * `nextTick` then meets new maps, its object literal's inline cache goes megamorphic and every
 * later tick object is built in the V8 runtime: the whole server runs 15-25 % slower for good
 * (Fastify with any plugin registered, idle for ~10 s before its first requests: 51-54k vs 65-66k
 * req per CPU-second; see bench/results/profile.md, session 10). Which process falls into that
 * state is luck (a bare no-auth app never did, a case could mid-run), so every server here, the
 * ceilings included, holds its tick objects: the shares measure code, not that lottery.
 */
function holdTickObjects(): void {
  const held: object[] = [];
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject') held.push(resource);
    },
  });
  hook.enable();
  const noop = () => {};
  process.nextTick(noop);
  process.nextTick(noop, 1);
  process.nextTick(noop, 1, 2);
  process.nextTick(noop, 1, 2, 3);
  hook.disable();
  (globalThis as { heldTickObjects?: object[] }).heldTickObjects = held;
}
holdTickObjects();

/** The live cache serves nothing until its subscription and heartbeat work: wait for that. */
async function waitForLiveCache(redis: RedisStore, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!redis.cacheStats()!.live) {
    if (Date.now() > deadline) {
      throw new Error(
        `the live cache is not live after ${timeoutMs} ms: ${JSON.stringify(redis.cacheStats())}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The case's engine; the JWT peers and `none` get a memory one only to mint the same token. */
async function engineFor(): Promise<{ sessions: Sessions<UserProfile>; redis: RedisStore | null }> {
  if (spec.auth === 'strict-redis' || spec.auth === 'strict-redis-cache') {
    // Imported on demand: the other cases do not load ioredis.
    const { RedisStore } = await import('../../src/stores/redis/index.js');
    const redis = RedisStore.connect(spec.redisUrl, {
      prefix: spec.redisPrefix,
      liveCache: spec.auth === 'strict-redis-cache',
    });
    return { sessions: createSessions<UserProfile>({ keys: KEYS, store: redis }), redis };
  }
  return {
    sessions: createSessions<UserProfile>({
      keys: KEYS,
      store: new MemoryStore(),
      verifyMode: spec.auth.startsWith('stateless') ? 'stateless' : 'strict',
      ...(spec.auth === 'stateless-uncached' && { verifiedCacheSize: 0 }),
    }),
    redis: null,
  };
}

await serveForParent(async () => {
  const { sessions, redis } = await engineFor();
  const pair = await sessions.login({ payload: { ...USER }, namespace: `user:${USER.user_id}` });
  const app = await startApp(
    { ...spec, auth: appAuth(spec.auth) },
    guardedByJwtSessions(spec.auth) ? (sessions as Sessions) : null,
  );
  const headers = app.login ? await app.login() : { authorization: `Bearer ${pair.access}` };
  if (redis?.cacheStats()) await waitForLiveCache(redis);
  return {
    url: `${app.url}${ROUTE}`,
    headers,
    stats: () => (redis ? { liveCache: redis.cacheStats() } : null),
    async close() {
      await app.close();
      if (redis) await sessions.revokeAll();
      await sessions.close();
    },
  };
});

/**
 * `jwt-sessions/stores/redis`: the Redis store (ioredis, an optional peer dependency).
 *
 *   import { RedisStore } from 'jwt-sessions/stores/redis';
 *   const store = RedisStore.connect('redis://127.0.0.1:6379');            // owns its client
 *   const store = new RedisStore(new Redis(url, redisClientOptions()));     // your client
 *   const store = RedisStore.connectCluster([{ host: '10.0.0.1', port: 7000 }]);
 *   const store = new RedisStore(client, { liveCache: true });              // cached strict verify
 */
export {
  createRedisClient,
  createRedisCluster,
  DEFAULT_COMMAND_TIMEOUT,
  type RedisClient,
  redisClientOptions,
  redisClusterOptions,
} from './client.js';
export type { LiveCacheOptions, LiveCacheStats } from './live-cache.js';
export { RedisStore, type RedisStoreOptions } from './store.js';

/**
 * Addresses of the real services the store tests and the store benchmarks use, each from an
 * environment variable with a local default. No test-framework import: the benchmarks load it too.
 */
export const SERVICE_URLS = {
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  /** Comma-separated loopback host:port seeds of a Redis Cluster. */
  redisCluster: process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002',
  postgres: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
} as const;

/** Under CI=true a missing service fails the run instead of being skipped. */
export const IN_CI = process.env.CI === 'true';

/** `host:port,host:port` (SERVICE_URLS.redisCluster) as ioredis cluster seeds. */
export function clusterSeeds(list: string = SERVICE_URLS.redisCluster): { host: string; port: number }[] {
  return list.split(',').map((seed) => {
    const [host, port] = seed.trim().split(':');
    return { host: host!, port: Number(port) };
  });
}

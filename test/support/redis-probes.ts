/**
 * Redis probes for serviceAvailable (one short-lived connection that never retries, so a missing
 * server is reported at once) and a SCAN helper for tests that inspect what a store wrote.
 */
import { Redis, type RedisOptions } from 'ioredis';

const PROBE_OPTIONS: RedisOptions = { lazyConnect: true, retryStrategy: () => null, connectTimeout: 2000 };

async function withProbe(probe: Redis, check: (probe: Redis) => Promise<void>): Promise<void> {
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await check(probe);
  } finally {
    probe.disconnect();
  }
}

/** Resolves when a standalone Redis at `url` answers PING; rejects otherwise. */
export function probeRedis(url: string): Promise<void> {
  return withProbe(new Redis(url, PROBE_OPTIONS), async (probe) => {
    await probe.ping();
  });
}

/** Resolves when the cluster node `seed` reports cluster_state:ok; rejects otherwise. */
export function probeRedisCluster(seed: { host: string; port: number }): Promise<void> {
  return withProbe(new Redis({ ...seed, ...PROBE_OPTIONS }), async (probe) => {
    const info = String(await probe.call('CLUSTER', 'INFO'));
    if (!info.includes('cluster_state:ok')) throw new Error('cluster_state is not ok');
  });
}

/** Every key on one server matching `pattern` (tests may SCAN; the stores never do). */
export async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

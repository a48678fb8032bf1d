/**
 * Real services for store tests. Each is named by an environment variable with a local default.
 * Under CI=true an unreachable service FAILS the suite (`.ci/run` makes sure they run); elsewhere
 * the suite is skipped loudly: a banner on stderr and vitest's skipped count.
 */
import { describe } from 'vitest';

export const SERVICE_URLS = {
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  /** Comma-separated loopback host:port seeds of a Redis Cluster. */
  redisCluster: process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002',
  postgres: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
} as const;

export const IN_CI = process.env.CI === 'true';

/**
 * Probes a service once, before the suite is defined (top-level await in the test file), so a
 * missing service becomes either a hard failure (CI) or a counted skip (elsewhere).
 */
export async function serviceAvailable(name: string, probe: () => Promise<void>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    if (IN_CI) {
      throw new Error(`${name} is required under CI=true but unreachable: ${(error as Error).message}`);
    }
    process.stderr.write(
      `\n*** SKIPPING ${name} tests: service unreachable (${(error as Error).message}). ` +
        'Start it (see .ci/run) to run them. ***\n\n',
    );
    return false;
  }
}

/** `describe` when the service is up, a counted `describe.skip` otherwise. */
export function describeWithService(available: boolean): typeof describe | typeof describe.skip {
  return available ? describe : describe.skip;
}

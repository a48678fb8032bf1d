/**
 * Real services for store tests. Each is named by an environment variable with a local default.
 * Under CI=true an unreachable service FAILS the suite (`.ci/run` makes sure they run); elsewhere
 * the suite is skipped loudly: a banner on stderr and vitest's skipped count.
 */
import { describe } from 'vitest';
import { IN_CI } from './service-urls.js';

export { clusterSeeds, IN_CI, SERVICE_URLS } from './service-urls.js';

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

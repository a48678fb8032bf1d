/**
 * The reference server in its own process for the soak's per-operation CPU phases (argv[2] = a
 * StoreSpec as JSON): its CPU time is then the server's alone, not the load generator's too.
 */
import { startServer } from '../../src/server/server.js';
import type { StoreSpec } from '../../src/server/store-url.js';
import { serveForParent } from './http-bench.js';

const store = JSON.parse(process.argv[2] ?? '{}') as StoreSpec;

await serveForParent(async () => {
  const server = await startServer({ port: 0, logLevel: false, store });
  return {
    url: server.url,
    headers: {},
    async close() {
      await server.sessions.revokeAll().catch(() => 0);
      await server.close();
    },
  };
});

#!/usr/bin/env node
/**
 * `npm start`: the reference server, configured by environment variables (SPEC §5). A bad value
 * stops it with one line on stderr and exit code 1; SIGTERM/SIGINT stop it gracefully (in-flight
 * requests finish, the store is closed), a second signal at once.
 */
import { configFromEnv, ServerConfigError } from './config.js';
import { StartupError, startServer } from './server.js';

const GRACE_MS = 10_000;

function fail(message: string): never {
  process.stderr.write(`jwt-sessions server: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(configFromEnv(process.env));
  } catch (error) {
    if (error instanceof ServerConfigError || error instanceof StartupError) fail(error.message);
    throw error;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.app.log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    server.app.log.info(`${signal}: shutting down (in-flight requests finish, then the store closes)`);
    const timer = setTimeout(() => {
      server.app.log.error(`shutdown took over ${GRACE_MS / 1000} s: exiting`);
      process.exit(1);
    }, GRACE_MS);
    timer.unref();
    server.close().then(
      () => {
        server.app.log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  fail(
    `unexpected error at start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
});

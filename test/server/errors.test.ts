/**
 * The reference server's errors (SPEC §5 last paragraph; SECURITY.md "HTTP" and "Failure
 * behaviour", last rules): a store it cannot use stops the start with the store's own reason, and
 * its log carries one line per event, never a stack below level error.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, StartupError, startServer } from '../../src/server/server.js';
import { parseStoreUrl } from '../../src/server/store-url.js';
import { describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino destination that keeps the parsed lines. */
function logCapture(): { stream: Writable; lines: LogLine[] } {
  const lines: LogLine[] = [];
  let buffered = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) if (part.trim() !== '') lines.push(JSON.parse(part) as LogLine);
      done();
    },
  });
  return { stream, lines };
}

const WARN = 40;
const ERROR = 50;

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function startFailure(storeUrl: string) {
  const log = logCapture();
  const error = await startServer(
    { port: 0, logLevel: 'info', store: parseStoreUrl(storeUrl) },
    { logStream: log.stream },
  ).then(
    (server) => {
      running.push(server);
      return null;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StartupError);
  return { message: (error as Error).message, lines: log.lines };
}

/** No log line below level error carries a stack or spans lines. */
function expectNoStacks(lines: LogLine[]): void {
  for (const line of lines.filter((l) => l.level < ERROR)) {
    expect(JSON.stringify(line)).not.toMatch(/\\n\s+at |"stack"/);
    expect(line.msg).not.toContain('\n');
  }
}

const postgresUp = await serviceAvailable('PostgreSQL (server errors)', async () => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
  await client.connect();
  await client.end();
});

describe('start-up on a store it cannot use', () => {
  it('unreachable Redis: the driver’s reason in the error; one warn line for the store, no stack', async () => {
    const { message, lines } = await startFailure('redis://127.0.0.1:1');
    expect(message).toMatch(/^cannot use the store redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED 127\.0\.0\.1:1/);
    // The client reconnects every few hundred ms for the 3 s of the probe: one line, not one per attempt.
    const storeLines = lines.filter((line) => line.level === WARN && line.msg.startsWith('session store'));
    expect(storeLines).toHaveLength(1);
    expect(storeLines[0]!.msg).toBe('session store redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    expectNoStacks(lines);
  });

  describeWithService(postgresUp)('PostgreSQL', () => {
    it('a database that does not exist: a configuration problem with the driver’s reason, at once', async () => {
      const url = Object.assign(new URL(SERVICE_URLS.postgres), { pathname: '/no_such_db_jwts' }).toString();
      const { message, lines } = await startFailure(url);
      expect(message).toContain('(a configuration problem)');
      expect(message).toContain(
        'database "no_such_db_jwts" does not exist; create the database, or correct the store URL',
      );
      expectNoStacks(lines);
    });
  });
});

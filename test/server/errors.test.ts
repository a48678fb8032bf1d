/**
 * The reference server's errors (SPEC §5 last paragraph; SECURITY.md "HTTP" and "Failure
 * behaviour", last rules): a store it cannot use stops the start with the store's own reason, and
 * its log carries one line per event, never a stack below level error.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { type RunningServer, StartupError, startServer, storeErrorLog } from '../../src/server/server.js';
import { parseStoreUrl } from '../../src/server/store-url.js';
import { expectRawContractError, rawExchange } from '../support/raw-http.js';
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

describe("the framework's own refusals", () => {
  const MARKER = 'ECHOMARKER';

  it('over-long parameter 414, malformed URL 400, oversized headers 431, malformed request 400: shape, no-store, no echo, a log line each', async () => {
    const log = logCapture();
    const server = await startServer({ port: 0, logLevel: 'info' }, { logStream: log.stream });
    running.push(server);
    const cases: [string, string, number, string][] = [
      ['DELETE', `/auth/sessions/${MARKER}${'a'.repeat(91)}`, 414, 'uri_too_long'],
      ['GET', `/assets/%ZZ${MARKER}`, 400, 'bad_request'],
      ['DELETE', `/auth/sessions/%ZZ${MARKER}`, 400, 'bad_request'],
    ];
    for (const [method, path, status, code] of cases) {
      const response = await fetch(`${server.url}${path}`, { method });
      const text = await response.text();
      expect(response.status, path).toBe(status);
      expect(JSON.parse(text)).toEqual({ error: expect.any(String), code });
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(text).not.toContain(MARKER);
    }
    const big = await rawExchange(
      server.port,
      `GET /api/me HTTP/1.1\r\nHost: x\r\nX-${MARKER}: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectRawContractError(big, 431, 'headers_too_large', MARKER);
    const malformed = await rawExchange(
      server.port,
      `GET /api/me HTTP/1.1\r\nHost: x\r\nX-A: ${MARKER}\u0001\r\n\r\n`,
    );
    expectRawContractError(malformed, 400, 'bad_request', MARKER);

    // One log line for each of these requests, with its status and code.
    await new Promise((resolve) => setImmediate(resolve));
    const refusals = log.lines.filter((line) => typeof line.status === 'number' && line.status >= 400);
    expect(refusals.map((line) => [line.status, line.code])).toEqual([
      [414, 'uri_too_long'],
      [400, 'bad_request'],
      [400, 'bad_request'],
      [431, 'headers_too_large'],
      [400, 'bad_request'],
    ]);
    for (const line of refusals.slice(0, 3)) expect(line.method).toBeDefined();
    expectNoStacks(log.lines);
  });
});

describe('storeErrorLog', () => {
  it('one line per distinct error; repeats within a minute are counted, not written', () => {
    vi.useFakeTimers();
    try {
      const lines: string[] = [];
      const log = storeErrorLog((line) => lines.push(line));
      const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
      const timeout = new StoreUnavailableError(
        'redis did not answer within 1000 ms: connect ECONNREFUSED 127.0.0.1:6379',
      );
      for (let i = 0; i < 5; i++) {
        log(refused);
        log(timeout);
      }
      expect(lines).toEqual([refused.message, timeout.message]);
      vi.advanceTimersByTime(61_000);
      log(refused);
      expect(lines.at(-1)).toBe(`${refused.message} (repeated 4 more times in the last minute)`);
      expect(lines).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

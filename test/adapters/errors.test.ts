/**
 * Errors every adapter must answer in the contract's shape (SPEC §5 last paragraph, SECURITY.md
 * "HTTP" last rule): validation messages that name the field and the limit, and the framework's own
 * refusals (malformed URL, over-long path parameter, oversized headers, body parser), each as
 * `{error, code}` with `Cache-Control: no-store`, never echoing the request.
 */
import express from 'express';
import express4 from 'express4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressSessions } from '../../src/adapters/express.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { clientErrorListener } from '../../src/http/errors.js';
import { expectRawContractError, rawExchange } from '../support/raw-http.js';
import { startExpressOn, startFastify, startHono } from './apps.js';
import { createFixture, MAX_HEADER_SIZE, type RunningApp, type StartApp } from './harness.js';

const ADAPTERS: [string, StartApp][] = [
  ['express 5', startExpressOn(express)],
  ['express 4', startExpressOn(express4)],
  ['fastify', startFastify],
  ['hono', startHono],
];

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

async function send(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { ...init, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** The contract's error shape: the status, exactly `{error, code}`, no-store, nothing echoed. */
function expectContractError(reply: Reply, status: number, code: string, notEchoed?: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body, reply.text).toEqual({ error: expect.any(String), code });
  expect(reply.headers.get('cache-control')).toBe('no-store');
  if (notEchoed !== undefined) expect(reply.text).not.toContain(notEchoed);
}

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

/** A marker that must never come back in a response body. */
const MARKER = 'ECHOMARKER';

for (const [adapter, start] of ADAPTERS) {
  describe(`${adapter}: errors`, () => {
    let app: RunningApp;
    const fixture = createFixture();
    beforeAll(async () => {
      app = await start(fixture);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('login validation names the field and the limit', async () => {
      const cases: [unknown, RegExp][] = [
        [{ login: DEMO.login }, /^password is required$/],
        [{ password: DEMO.password }, /^login is required$/],
        [{ login: 1, password: DEMO.password }, /^login must be a string$/],
        [{ login: DEMO.login, password: ['x'] }, /^password must be a string$/],
        [{ login: '', password: DEMO.password }, /^login must not be empty$/],
        [{ login: 'a'.repeat(1025), password: DEMO.password }, /^login must be at most 1024 characters/],
        [{ login: DEMO.login, password: 'p'.repeat(8192) }, /^password must be at most 4096 characters/],
      ];
      for (const [json, message] of cases) {
        const reply = await send(`${app.url}/auth/login`, { method: 'POST', json });
        expectContractError(reply, 400, 'bad_request');
        expect((reply.body as { error: string }).error).toMatch(message);
      }
      // At the limits the login is only a wrong one.
      const atLimit = await send(`${app.url}/auth/login`, {
        method: 'POST',
        json: { login: 'a'.repeat(1024), password: 'p'.repeat(4096) },
      });
      expectContractError(atLimit, 401, 'invalid_credentials');
    });

    it("Node's parser refusals: oversized headers 431, a malformed header 400, in the contract's shape", async () => {
      const big = await rawExchange(
        Number(new URL(app.url).port),
        `GET /public HTTP/1.1\r\nHost: x\r\nX-${MARKER}: ${'a'.repeat(MAX_HEADER_SIZE + 1024)}\r\n\r\n`,
      );
      expectRawContractError(big, 431, 'headers_too_large', MARKER);
      expect(JSON.parse(big.body).error).toBe('request headers are too large');
      const malformed = await rawExchange(
        Number(new URL(app.url).port),
        `GET /public HTTP/1.1\r\nHost: x\r\nX-A: ${MARKER}\u0001\r\n\r\n`,
      );
      expectRawContractError(malformed, 400, 'bad_request', MARKER);
      expect(JSON.parse(malformed.body).error).toBe('malformed HTTP request');
    });

    it('a malformed or over-long path parameter: the shape, no-store, the path never echoed', async () => {
      const login = await send(`${app.url}/auth/login`, { method: 'POST', json: DEMO });
      const authorization = `Bearer ${(login.body as { access_token: string }).access_token}`;
      // 101 characters: over Fastify's maxParamLength (414); elsewhere simply no such session (404).
      const long = await send(`${app.url}/auth/sessions/${MARKER}${'a'.repeat(91)}`, {
        method: 'DELETE',
        headers: { authorization },
      });
      expectContractError(
        long,
        adapter === 'fastify' ? 414 : 404,
        adapter === 'fastify' ? 'uri_too_long' : 'not_found',
        MARKER,
      );
      const malformed = await send(`${app.url}/auth/sessions/%ZZ${MARKER}`, {
        method: 'DELETE',
        headers: { authorization },
      });
      expect(malformed.status).toBeGreaterThanOrEqual(400);
      expectContractError(malformed, malformed.status, (malformed.body as { code: string }).code, MARKER);
      // A parameter of the application's own route, which the framework decodes.
      const item = await send(`${app.url}/api/items/%ZZ${MARKER}`);
      if (adapter === 'hono') {
        // Hono hands the undecodable parameter to the route as it is: no error to shape.
        expect(item.status).toBe(200);
      } else {
        expectContractError(item, 400, 'bad_request', MARKER);
        expect((item.body as { error: string }).error).toBe('malformed URL (invalid percent-encoding)');
      }
    });

    it("the framework's own body parser: the shape, no-store, nothing echoed", async () => {
      const invalid = await send(`${app.url}/api/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"${MARKER}": nope`,
      });
      expectContractError(invalid, 400, adapter === 'hono' ? 'bad_request' : 'invalid_json', MARKER);
      if (adapter === 'fastify') {
        const xml = await send(`${app.url}/api/json`, {
          method: 'POST',
          headers: { 'content-type': 'text/xml' },
          body: `<${MARKER}/>`,
        });
        expectContractError(xml, 415, 'unsupported_media_type', MARKER);
      }
      if (adapter.startsWith('express')) {
        // express.json()'s 100 kB default limit.
        const big = await send(`${app.url}/api/json`, {
          method: 'POST',
          json: { [MARKER]: 'x'.repeat(200_000) },
        });
        expectContractError(big, 413, 'payload_too_large', MARKER);
      }
    });

    it('a store error: 503 with a fixed message, the error itself reported to onError', async () => {
      const before = fixture.reported.length;
      fixture.store.down = true;
      let reply: Reply;
      try {
        reply = await send(`${app.url}/auth/login`, { method: 'POST', json: DEMO });
      } finally {
        fixture.store.down = false;
      }
      expectContractError(reply, 503, 'store_unavailable');
      expect(reply.body).toEqual({ error: 'session store unavailable', code: 'store_unavailable' });
      expect(fixture.reported.slice(before)).toEqual([expect.any(StoreUnavailableError)]);
    });

    it('refresh validation names the field and the limit', async () => {
      const tooLong = await send(`${app.url}/auth/refresh`, {
        method: 'POST',
        json: { refresh_token: 'a'.repeat(8193) },
      });
      expectContractError(tooLong, 401, 'token_too_large');
      expect((tooLong.body as { error: string }).error).toBe('refresh_token is longer than 8192 bytes');
      const header = await send(`${app.url}/auth/refresh`, {
        method: 'POST',
        headers: { 'x-refresh-token': 'a'.repeat(9000) },
      });
      expectContractError(header, 401, 'token_too_large');
      expect((header.body as { error: string }).error).toMatch(
        /^x-refresh-token header is longer than \d+ bytes$/,
      );
    });
  });
}

for (const [name, createApp] of [
  ['express 5', express],
  ['express 4', express4],
] as const) {
  describe(`${name}: express.json() mounted before the routes`, () => {
    let url: string;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const fixture = createFixture();
      const auth = expressSessions(fixture.sessions, fixture.httpOptions);
      const app = createApp();
      app.use(createApp.json());
      app.use('/auth', auth.routes(fixture.routeOptions));
      app.use(auth.errorHandler());
      const server = app.listen(0, '127.0.0.1');
      server.on('clientError', clientErrorListener());
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as { port: number };
      url = `http://127.0.0.1:${port}`;
      close = () => new Promise((done) => server.close(() => done()));
    });
    afterAll(() => close?.());

    it("the body parser's refusals reach the client in the contract's shape; a good body still logs in", async () => {
      const invalid = await send(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"login": "${MARKER}`,
      });
      expectContractError(invalid, 400, 'invalid_json', MARKER);
      const big = await send(`${url}/auth/login`, {
        method: 'POST',
        json: { login: MARKER, password: 'x'.repeat(200_000) },
      });
      expectContractError(big, 413, 'payload_too_large', MARKER);
      const ok = await send(`${url}/auth/login`, { method: 'POST', json: DEMO });
      expect(ok.status).toBe(200);
    });
  });
}

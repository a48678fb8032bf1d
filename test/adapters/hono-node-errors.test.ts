/**
 * Hono on Node: requests @hono/node-server cannot turn into a Web Request never reach the app, so
 * `app.onError` cannot shape them. With `auth.requestErrorResponse` as the listener's
 * `errorHandler`, they get the contract's `{error, code}` 400 with no-store, echo nothing, and
 * reach `onError` (the log); without it, @hono/node-server answers an empty 400.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { honoSessions } from '../../src/adapters/hono.js';
import { createSessions } from '../../src/index.js';
import { expectRawContractError, rawExchange } from '../support/raw-http.js';

const MARKER = 'EchoMarker7q';

describe('Hono on @hono/node-server: requests that cannot become a Web Request', () => {
  const reported: unknown[] = [];
  let shaped: Server;
  let bare: Server;

  beforeAll(async () => {
    const sessions = createSessions({ keys: { signing: { alg: 'HS256', key: 'k'.repeat(43) } } });
    const auth = honoSessions(sessions, { onError: (error) => reported.push(error) });
    const app = new Hono();
    app.get('/api/ping', (c) => c.json({ ok: true }));
    shaped = createServer(getRequestListener(app.fetch, { errorHandler: auth.requestErrorResponse }));
    bare = createServer(getRequestListener(app.fetch));
    for (const server of [shaped, bare]) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
  });

  afterAll(async () => {
    for (const server of [shaped, bare]) await new Promise((resolve) => server.close(resolve));
  });

  const port = (server: Server) => (server.address() as AddressInfo).port;
  const badHost = `GET /api/ping HTTP/1.1\r\nHost: bad host[${MARKER}\r\nConnection: close\r\n\r\n`;
  const noHost = 'GET /api/ping HTTP/1.0\r\n\r\n';

  it('without the handler, @hono/node-server answers an empty 400 (what the handler replaces)', async () => {
    const reply = await rawExchange(port(bare), badHost);
    expect(reply.status).toBe(400);
    // An empty chunked body: no JSON, no code.
    expect(reply.body.trim()).toBe('0');
  });

  it('a malformed Host header: 400 bad_request in the shape, no-store, nothing echoed, reported', async () => {
    const before = reported.length;
    expectRawContractError(await rawExchange(port(shaped), badHost), 400, 'bad_request', MARKER);
    expect(reported.length).toBe(before + 1);
  });

  it('no Host header at all: the same', async () => {
    const before = reported.length;
    expectRawContractError(await rawExchange(port(shaped), noHost), 400, 'bad_request', MARKER);
    expect(reported.length).toBe(before + 1);
  });

  it('a well-formed request still reaches the app', async () => {
    const reply = await rawExchange(
      port(shaped),
      'GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true });
  });
});

/**
 * What is Express-specific about the adapter: the routes mounted inside nested routers, a body
 * parser (`express.json()`) that ran before them, the error handler passing foreign errors on,
 * and options checked when the middleware is built.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressSessions } from '../../src/adapters/express.js';
import { ConfigurationError } from '../../src/errors.js';
import { createFixture } from './harness.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

describe('Express adapter in a real application', () => {
  const fixture = createFixture();
  const auth = expressSessions(fixture.sessions, fixture.httpOptions);
  const server = createServer();
  let base = '';

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '1mb' })); // an application-wide body parser, before the routes
    app.use(express.text());
    const v1 = express.Router();
    v1.use('/auth', auth.routes(fixture.routeOptions));
    v1.get('/me', auth.requireAccess({ transport: 'header' }), (req, res) => {
      res.json({ sid: req.jwtSession?.sessionId });
    });
    app.use('/v1', v1);
    app.get('/boom', () => {
      throw new Error('not ours');
    });
    app.use(auth.errorHandler());
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ passedOn: error.message });
    });
    server.on('request', app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('routes inside a nested router, using what express.json() parsed', async () => {
    const login = await post('/v1/auth/login', JSON.stringify(DEMO));
    expect(login.status).toBe(200);
    const { access_token, session_id } = await login.json();
    const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await me.json()).toEqual({ sid: session_id });
    const unknown = await fetch(`${base}/v1/auth/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not found', code: 'not_found' });
  });

  it('[H5] a text body parsed by express.text() is still 415; an oversized declared body is 413', async () => {
    const text = await post('/v1/auth/login', JSON.stringify(DEMO), 'text/plain');
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ code: 'unsupported_media_type' });
    const big = await post('/v1/auth/login', JSON.stringify({ ...DEMO, pad: 'x'.repeat(20_000) }));
    expect(big.status).toBe(413);
  });

  it('the error handler passes errors that are not the library’s on', async () => {
    const reply = await fetch(`${base}/boom`);
    expect(reply.status).toBe(500);
    expect(await reply.json()).toEqual({ passedOn: 'not ours' });
    expect(fixture.reported).toEqual([]);
  });

  it('bad middleware options fail when the middleware is built', () => {
    expect(() => auth.requireAccess({ transport: 'url' as 'header' })).toThrow(ConfigurationError);
    expect(() => auth.requireAccess({ mode: 'lenient' as 'strict' })).toThrow(ConfigurationError);
    expect(() => auth.routes({} as Parameters<typeof auth.routes>[0])).toThrow(ConfigurationError);
  });
});

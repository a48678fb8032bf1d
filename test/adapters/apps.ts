/**
 * The same test app (see harness.ts) built on each framework, listening on 127.0.0.1, port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { type Context, Hono } from 'hono';
import { validator } from 'hono/validator';
import { expressSessions } from '../../src/adapters/express.js';
import {
  fastifyClientErrorHandler,
  fastifyFrameworkErrors,
  jwtSessionRoutes,
  jwtSessions,
  sendFastifyResponse,
} from '../../src/adapters/fastify.js';
import { honoSessions, type JwtSessionsEnv, toWebResponse } from '../../src/adapters/hono.js';
import { RequestError } from '../../src/errors.js';
import { clientErrorListener } from '../../src/http/errors.js';
import { createSessionHttp } from '../../src/http/session-http.js';
import type { AuthorizeOptions, JwtSession } from '../../src/http/types.js';
import { INTERNAL_DETAIL, MAX_HEADER_SIZE, type RunningApp, type StartApp } from './harness.js';

export function listen(server: Server): Promise<RunningApp> {
  // Requests Node's parser refuses (oversized headers, malformed lines) in the {error, code} shape.
  server.on('clientError', clientErrorListener());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * The Express app on a given Express (5 by default; the Express 4 suite passes its own), its guarded
 * routes as `require*` middleware in front of a handler, or (`handler`) each one `withSession`.
 */
export function startExpressOn(createApp: typeof express, form: GuardForm = 'middleware'): StartApp {
  return (fixture) => startExpressApp(createApp, fixture, form);
}

export const startExpress: StartApp = startExpressOn(express);

/** How a test app guards its routes: middleware in front of the handler, or one guarded handler. */
export type GuardForm = 'middleware' | 'handler';

/** The `require*` middleware of an adapter for a route's authorize options (`kind` picks which). */
function middlewareFor<Middleware>(
  guards: {
    requireAccess(options: Omit<AuthorizeOptions, 'kind'>): Middleware;
    requireRefresh(options: Omit<AuthorizeOptions, 'kind'>): Middleware;
    requireRefreshByAccess(options: Omit<AuthorizeOptions, 'kind'>): Middleware;
  },
  { kind = 'access', ...rest }: AuthorizeOptions,
): Middleware {
  if (kind === 'refresh') return guards.requireRefresh(rest);
  if (kind === 'refresh_by_access') return guards.requireRefreshByAccess(rest);
  return guards.requireAccess(rest);
}

async function startExpressApp(
  createApp: typeof express,
  fixture: Parameters<StartApp>[0],
  form: GuardForm,
): Promise<RunningApp> {
  const auth = expressSessions(fixture.sessions, fixture.httpOptions);
  const app = createApp();
  type Answer = (req: express.Request, res: express.Response, session: JwtSession) => unknown;
  const guarded = (method: 'get' | 'post', path: string, options: AuthorizeOptions, answer: Answer) => {
    if (form === 'handler') {
      app[method](path, auth.withSession(answer, options));
      return;
    }
    app[method](path, middlewareFor(auth, options), (req, res, next) => {
      const result = answer(req, res, req.jwtSession!);
      if (result instanceof Promise) result.catch(next);
    });
  };
  app.use(fixture.prefix, auth.routes(fixture.routeOptions));
  guarded('get', '/api/me', {}, (_req, res, session) => {
    res.json({ claims: session.claims, transport: session.transport });
  });
  guarded('post', '/api/echo', {}, (req, res) => {
    res.json({ ok: true, transport: req.jwtSession!.transport });
  });
  guarded('get', '/api/stateless', { mode: 'stateless' }, (_req, res, session) => {
    res.json({ claims: session.claims });
  });
  guarded('get', '/api/header-only', { transport: 'header' }, (_req, res) => {
    res.json({ ok: true });
  });
  guarded('get', '/api/cookie-only', { transport: 'cookie' }, (_req, res) => {
    res.json({ ok: true });
  });
  guarded('post', '/api/refresh-check', { kind: 'refresh' }, (_req, res, session) => {
    res.json({ session_id: session.sessionId, transport: session.transport });
  });
  // A typed error thrown here (rejected) reaches auth.errorHandler() through next(error).
  guarded('post', '/api/refresh-by-access', { kind: 'refresh_by_access' }, async (_req, res, session) => {
    const pair = await auth.sessions.refreshByAccess(session.token);
    const response = auth.http.tokenResponse(pair, session.transport);
    res.status(response.status).set(response.headers);
    for (const cookie of response.cookies) res.append('set-cookie', cookie);
    res.json(response.body);
  });
  app.get('/api/throws-typed', () => {
    throw new RequestError('not_found', 'no such note');
  });
  app.get('/api/throws-plain', () => {
    throw new Error(INTERNAL_DETAIL);
  });
  app.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  // A route parameter (Express decodes it: malformed percent-encoding is its URIError).
  app.get('/api/items/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  // The framework's own body parser (its errors reach auth.errorHandler()).
  app.post('/api/json', createApp.json(), (req, res) => {
    res.json({ body: req.body as unknown });
  });
  app.use(auth.errorHandler());
  // What an application's last error handler does with everything the library passes on.
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'app error handler' });
  });
  return listen(createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app));
}

export const startFastify: StartApp = async (fixture) => {
  const app = Fastify({
    http: { maxHeaderSize: MAX_HEADER_SIZE },
    frameworkErrors: fastifyFrameworkErrors,
    clientErrorHandler: fastifyClientErrorHandler,
  });
  await app.register(jwtSessions, { sessions: fixture.sessions, ...fixture.httpOptions });
  await app.register(jwtSessionRoutes, { prefix: fixture.prefix, ...fixture.routeOptions });
  app.setErrorHandler(app.sessionErrorHandler);
  app.get('/api/me', { onRequest: app.requireAccess() }, async (req) => ({
    claims: req.jwtSession!.claims,
    transport: req.jwtSession!.transport,
  }));
  app.post('/api/echo', { onRequest: app.requireAccess() }, async (req) => ({
    ok: true,
    transport: req.jwtSession!.transport,
  }));
  app.get('/api/stateless', { onRequest: app.requireAccess({ mode: 'stateless' }) }, async (req) => ({
    claims: req.jwtSession!.claims,
  }));
  app.get('/api/header-only', { onRequest: app.requireAccess({ transport: 'header' }) }, async () => ({
    ok: true,
  }));
  app.get('/api/cookie-only', { onRequest: app.requireAccess({ transport: 'cookie' }) }, async () => ({
    ok: true,
  }));
  app.post('/api/refresh-check', { onRequest: app.requireRefresh() }, async (req) => ({
    session_id: req.jwtSession!.sessionId,
    transport: req.jwtSession!.transport,
  }));
  app.post('/api/refresh-by-access', { preHandler: app.requireRefreshByAccess() }, async (req, reply) => {
    // A typed error thrown here reaches app.sessionErrorHandler.
    const pair = await app.sessions.refreshByAccess(req.jwtSession!.token);
    return sendFastifyResponse(reply, app.sessionHttp.tokenResponse(pair, req.jwtSession!.transport));
  });
  app.get('/api/throws-typed', async () => {
    throw new RequestError('not_found', 'no such note');
  });
  app.get('/api/throws-plain', async () => {
    throw new Error(INTERNAL_DETAIL);
  });
  app.get('/public', async () => ({ ok: true }));
  app.get<{ Params: { id: string } }>('/api/items/:id', async (req) => ({ id: req.params.id }));
  app.post('/api/json', async (req) => ({ body: req.body }));
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: address, close: () => app.close() };
};

/**
 * The Hono app, its guarded routes as `require*` middleware in front of a handler, or (`withSession`)
 * as one guarded handler each: the scenario suite runs on both forms.
 */
function startHonoApp(form: GuardForm): StartApp {
  return async (fixture) => {
    const http = createSessionHttp(fixture.sessions, fixture.httpOptions);
    const auth = honoSessions(http);
    const app = new Hono<JwtSessionsEnv>();
    type Answer = (c: Context<JwtSessionsEnv>, session: JwtSession) => Response | Promise<Response>;
    const guarded = (method: 'GET' | 'POST', path: string, options: AuthorizeOptions, answer: Answer) => {
      if (form === 'handler') {
        app.on(method, path, auth.withSession(answer, options));
        return;
      }
      app.on(method, path, middlewareFor(auth, options), (c) => answer(c, c.get('jwtSession')));
    };
    app.route(fixture.prefix, auth.routes(fixture.routeOptions));
    app.onError(auth.errorResponse);
    guarded('GET', '/api/me', {}, (c, session) =>
      c.json({ claims: session.claims, transport: session.transport }),
    );
    guarded('POST', '/api/echo', {}, (c, session) => c.json({ ok: true, transport: session.transport }));
    guarded('GET', '/api/stateless', { mode: 'stateless' }, (c, session) =>
      c.json({ claims: session.claims }),
    );
    guarded('GET', '/api/header-only', { transport: 'header' }, (c) => c.json({ ok: true }));
    guarded('GET', '/api/cookie-only', { transport: 'cookie' }, (c) => c.json({ ok: true }));
    guarded('POST', '/api/refresh-check', { kind: 'refresh' }, (c, session) =>
      c.json({ session_id: session.sessionId, transport: session.transport }),
    );
    guarded('POST', '/api/refresh-by-access', { kind: 'refresh_by_access' }, async (c) => {
      // A typed error thrown here reaches app.onError(auth.errorResponse).
      const session = c.get('jwtSession');
      const pair = await auth.sessions.refreshByAccess(session.token);
      return toWebResponse(auth.http.tokenResponse(pair, session.transport));
    });
    app.get('/api/throws-typed', () => {
      throw new RequestError('not_found', 'no such note');
    });
    app.get('/api/throws-plain', () => {
      throw new Error(INTERNAL_DETAIL);
    });
    app.get('/public', (c) => c.json({ ok: true }));
    app.get('/api/items/:id', (c) => c.json({ id: c.req.param('id') }));
    // Hono's validator throws an HTTPException(400) on a malformed body.
    app.post(
      '/api/json',
      validator('json', (value) => value),
      (c) => c.json({ body: c.req.valid('json') }),
    );
    return new Promise((resolve) => {
      const server = serve(
        {
          fetch: app.fetch,
          port: 0,
          hostname: '127.0.0.1',
          serverOptions: { maxHeaderSize: MAX_HEADER_SIZE },
        },
        (info) => {
          server.on('clientError', clientErrorListener());
          resolve({
            url: `http://127.0.0.1:${info.port}`,
            close: () =>
              new Promise<void>((done) => {
                (server as Server).closeAllConnections();
                server.close(() => done());
              }),
          });
        },
      );
    });
  };
}

export const startHono = startHonoApp('middleware');
export const startHonoHandlers = startHonoApp('handler');

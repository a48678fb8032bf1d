/** The adapter test app (see harness.ts) on Koa 3 with @koa/router, listening on 127.0.0.1, port 0. */
import { createServer } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { type JwtSessionState, koaSessions } from '../../src/adapters/koa.js';
import { RequestError } from '../../src/errors.js';
import { listen } from './apps.js';
import { INTERNAL_DETAIL, MAX_HEADER_SIZE, type StartApp } from './harness.js';

export const startKoa: StartApp = async (fixture) => {
  const auth = koaSessions(fixture.sessions, fixture.httpOptions);
  const app = new Koa<JwtSessionState>();
  // What an application's outermost error handler does with everything the library passes on.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch {
      ctx.status = 500;
      ctx.body = { error: 'app error handler' };
    }
  });
  app.use(auth.errorHandler());
  app.use(auth.routes({ prefix: fixture.prefix, ...fixture.routeOptions }));
  const router = new Router<JwtSessionState>();
  router.get('/api/me', auth.requireAccess(), (ctx) => {
    ctx.body = { claims: ctx.state.jwtSession.claims, transport: ctx.state.jwtSession.transport };
  });
  router.post('/api/echo', auth.requireAccess(), (ctx) => {
    ctx.body = { ok: true, transport: ctx.state.jwtSession.transport };
  });
  router.get('/api/stateless', auth.requireAccess({ mode: 'stateless' }), (ctx) => {
    ctx.body = { claims: ctx.state.jwtSession.claims };
  });
  router.get('/api/header-only', auth.requireAccess({ transport: 'header' }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/api/cookie-only', auth.requireAccess({ transport: 'cookie' }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.post('/api/refresh-check', auth.requireRefresh(), (ctx) => {
    ctx.body = { session_id: ctx.state.jwtSession.sessionId, transport: ctx.state.jwtSession.transport };
  });
  router.post('/api/refresh-by-access', auth.requireRefreshByAccess(), async (ctx) => {
    // A typed error thrown here reaches auth.errorHandler().
    const session = ctx.state.jwtSession;
    const pair = await auth.sessions.refreshByAccess(session.token);
    auth.send(ctx, auth.http.tokenResponse(pair, session.transport));
  });
  router.get('/api/throws-typed', () => {
    throw new RequestError('not_found', 'no such note');
  });
  router.get('/api/throws-plain', () => {
    throw new Error(INTERNAL_DETAIL);
  });
  router.get('/public', (ctx) => {
    ctx.body = { ok: true };
  });
  app.use(router.routes());
  app.silent = true;
  return listen(createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app.callback()));
};

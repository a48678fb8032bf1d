/**
 * The adapter test app (see harness.ts) on a real Next.js server: the route files of
 * test/fixtures/next-app hand each request to the handlers registered here, built with
 * `jwt-sessions/next` from src/ on the scenario's own engine (so its clock, store switch and error
 * reports are the test's). Next does the routing, the request/response plumbing and `proxy`.
 */
import { type NextSessions, nextSessions, toWebResponse } from '../../src/adapters/next.js';
import { RequestError } from '../../src/errors.js';
import { createSessionHttp } from '../../src/http/session-http.js';
import { INTERNAL_DETAIL, type StartApp } from './harness.js';
import { ensureNextBuild, startNextServer } from './next-server.js';

type Handler = (request: Request, context: unknown) => Response | Promise<Response>;

interface NextFixtureApp {
  handle(key: string, request: Request, context: unknown): Response | Promise<Response>;
  proxy(request: Request, next: () => Response): Promise<Response>;
  /** The server action of app/action: the user, or the code of the refusal. */
  action(...args: unknown[]): Promise<{ user: unknown } | { refused: string }>;
}

declare global {
  var __jwtSessionsNextFixture: NextFixtureApp | undefined;
}

function buildHandlers(
  auth: NextSessions,
  prefix: string,
  routes: Parameters<NextSessions['routeHandlers']>[0],
) {
  const handlers = new Map<string, Handler>();
  for (const [method, handler] of Object.entries(auth.routeHandlers({ ...routes, prefix })))
    handlers.set(`${prefix} ${method}`, handler);
  const json = (body: unknown) => Response.json(body);
  handlers.set(
    '/api/me GET',
    auth.withSession((_request, session) => json({ claims: session.claims, transport: session.transport })),
  );
  handlers.set(
    '/api/echo POST',
    auth.withSession((_request, session) => json({ ok: true, transport: session.transport })),
  );
  handlers.set(
    '/api/stateless GET',
    auth.withSession((_request, session) => json({ claims: session.claims }), { mode: 'stateless' }),
  );
  handlers.set(
    '/api/header-only GET',
    auth.withSession(() => json({ ok: true }), { transport: 'header' }),
  );
  handlers.set(
    '/api/cookie-only GET',
    auth.withSession(() => json({ ok: true }), { transport: 'cookie' }),
  );
  handlers.set(
    '/api/refresh-check POST',
    auth.withSession(
      (_request, session) => json({ session_id: session.sessionId, transport: session.transport }),
      { kind: 'refresh' },
    ),
  );
  handlers.set(
    '/api/refresh-by-access POST',
    // A typed error thrown here is answered by withSession.
    auth.withSession(
      async (_request, session) => {
        const pair = await auth.sessions.refreshByAccess(session.token);
        return toWebResponse(auth.http.tokenResponse(pair, session.transport));
      },
      { kind: 'refresh_by_access' },
    ),
  );
  handlers.set(
    '/api/throws-typed GET',
    auth.withErrors(() => {
      throw new RequestError('not_found', 'no such note');
    }),
  );
  handlers.set('/api/throws-plain GET', () => {
    throw new Error(INTERNAL_DETAIL);
  });
  handlers.set('/public GET', () => json({ ok: true }));
  handlers.set('/api/gated GET', () => json({ gated: true }));
  handlers.set('/api/gated POST', () => json({ gated: true }));
  return handlers;
}

export const startNext: StartApp = async (fixture) => {
  await ensureNextBuild();
  const auth = nextSessions(createSessionHttp(fixture.sessions, fixture.httpOptions));
  const handlers = buildHandlers(auth, fixture.prefix, fixture.routeOptions);
  const whoAmI = auth.withSessionAction(async (session, ..._args: unknown[]) => ({
    user: session.claims.user_id,
  }));
  globalThis.__jwtSessionsNextFixture = {
    async action(...args) {
      try {
        return await whoAmI(...args);
      } catch (error) {
        return { refused: (error as { code?: string }).code ?? 'unknown' };
      }
    },
    handle(key, request, context) {
      const handler = handlers.get(key);
      if (handler === undefined) return Response.json({ error: `no handler for ${key}` }, { status: 404 });
      return handler(request, context);
    },
    proxy: (request, next) =>
      auth.middleware({ next, protect: (r) => new URL(r.url).pathname === '/api/gated' })(request),
  };
  const server = await startNextServer();
  return {
    url: server.url,
    async close() {
      await server.close();
      globalThis.__jwtSessionsNextFixture = undefined;
    },
  };
};

/**
 * Hono adapter — Web `Request`/`Response`, so it runs wherever Hono does (Node, Bun, Deno,
 * Cloudflare Workers…).
 *
 * ```ts
 * const auth = honoSessions(sessions);
 * const app = new Hono<JwtSessionsEnv>();
 * app.route('/auth', auth.routes({ authenticate }));
 * app.get('/api/me', auth.withSession((c, session) => c.json(session.claims)));  // one handler
 * app.use('/admin/*', auth.requireAccess());                                        // or a middleware
 * ```
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { checkAuthorizeOptions, patchIsEmpty } from '../http/authorize.js';
import { mergeHeaderList } from '../http/cors.js';
import { refusedRequest, reportError } from '../http/errors.js';
import type { HttpOptions } from '../http/options.js';
import { createSessionRoutes, type SessionRoutesOptions } from '../http/routes.js';
import { type SessionHttp, toSessionHttp } from '../http/session-http.js';
import type {
  Authorized,
  AuthorizeOptions,
  HttpRequest,
  JwtSession,
  RawBody,
  ResponsePatch,
} from '../http/types.js';
import type { Sessions } from '../session/engine.js';
import { readNodeHeader } from './node.js';
import { readWebRequestBody, toWebResponse } from './web.js';

/** Hono environment of routes guarded by the middleware: `c.get('jwtSession')` is typed. */
export type JwtSessionsEnv = { Variables: { jwtSession: JwtSession } };

/** How to learn the client address; Hono leaves it to the runtime. */
export type IpResolver = (c: Context) => string | null | undefined;

export interface HonoSessionsOptions extends HttpOptions {
  /**
   * Client address for device metadata. Default: the Node socket when running on
   * `@hono/node-server` (no proxy headers are trusted).
   */
  getIp?: IpResolver;
}

const nodeSocketIp: IpResolver = (c) => {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
};

/**
 * A Hono context as an `HttpRequest`, one object per request (no closures). On
 * `@hono/node-server` the headers are read from Node's own request: a Fetch `Headers` object costs
 * more to build and query than the whole token verification. Elsewhere, the Web `Request`'s.
 */
class HonoHttpRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly #c: Context;
  readonly #getIp: IpResolver;
  readonly #incoming: IncomingMessage | undefined;

  constructor(c: Context, getIp: IpResolver) {
    const raw = c.req.raw;
    this.method = raw.method;
    this.url = raw.url;
    this.#c = c;
    this.#getIp = getIp;
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    this.#incoming =
      incoming?.headers !== undefined && Array.isArray(incoming.rawHeaders) ? incoming : undefined;
  }

  header(name: string): string | undefined {
    if (this.#incoming !== undefined) return readNodeHeader(this.#incoming, name);
    return this.#c.req.raw.headers.get(name) ?? undefined;
  }

  get ip(): string | null {
    try {
      return this.#getIp(this.#c) ?? null;
    } catch {
      return null;
    }
  }

  readBody(limit: number): Promise<RawBody> {
    return readWebRequestBody(this.#c.req.raw, limit);
  }
}

/** A Hono context as an `HttpRequest`. */
export function honoHttpRequest(c: Context, getIp: IpResolver = nodeSocketIp): HttpRequest {
  return new HonoHttpRequest(c, getIp);
}

export { toWebResponse };

/**
 * Hono's own refusals (an `HTTPException` with a 4xx status, e.g. from its validator on a malformed
 * body) as the library's typed error, so they get the `{error, code}` shape without their message
 * (which may echo the request). An `HTTPException` carrying its own `res` is the application's
 * chosen response and stays as it is.
 */
function honoErrorResponse(http: SessionHttp, error: unknown, request: HttpRequest): Response {
  if (
    error instanceof HTTPException &&
    error.res === undefined &&
    error.status >= 400 &&
    error.status < 500
  ) {
    return toWebResponse(http.errorResponse(refusedRequest(error.status), request));
  }
  if (error instanceof HTTPException && error.res !== undefined) return error.getResponse();
  return toWebResponse(http.errorResponse(error, request));
}

function applyHonoPatch(c: Context, patch: ResponsePatch): void {
  for (const [name, value] of Object.entries(patch.headers)) {
    if (name === 'vary' || name === 'access-control-expose-headers') {
      c.header(name, mergeHeaderList(c.res.headers.get(name) ?? undefined, value));
    } else {
      c.header(name, value);
    }
  }
  for (const cookie of patch.cookies) c.header('set-cookie', cookie, { append: true });
}

/** Builds a middleware: authorize, `c.set('jwtSession')`, patch the response — or answer the error. */
export function createHonoMiddleware(
  http: SessionHttp,
  options: AuthorizeOptions = {},
  getIp: IpResolver = nodeSocketIp,
): MiddlewareHandler<JwtSessionsEnv> {
  checkAuthorizeOptions(options);
  return async (c, next) => {
    const request = honoHttpRequest(c, getIp);
    let patch: ResponsePatch;
    try {
      const answer = http.authorizeEager(request, options);
      // Answered at once (stateless, or the store had the session at hand): no await.
      const authorized = answer instanceof Promise ? await answer : answer;
      c.set('jwtSession', authorized.session);
      patch = authorized.patch;
    } catch (error) {
      return toWebResponse(http.errorResponse(error, request));
    }
    await next();
    if (!patchIsEmpty(patch)) applyHonoPatch(c, patch);
    return undefined;
  };
}

/** A route handler that receives the session; see `HonoSessions.withSession`. */
export type SessionHandler = (
  c: Context<JwtSessionsEnv>,
  session: JwtSession,
) => Response | Promise<Response>;

/** Hands a finished response the authorization's headers and cookies, as the middleware does. */
function withPatch(c: Context, response: Response, patch: ResponsePatch): Response {
  if (patchIsEmpty(patch)) return response;
  c.res = response;
  applyHonoPatch(c, patch);
  return c.res;
}

/**
 * Builds a guarded route handler: authorize, then `handler(c, session)` — or answer the error.
 * The route stays a single handler, which Hono calls directly; a middleware in front of it makes
 * every request go through Hono's async middleware chain, which costs about as much CPU as the
 * token verification itself. When the session is at hand and the handler answers at once, no
 * promise is made.
 */
export function createHonoHandler(
  http: SessionHttp,
  handler: SessionHandler,
  options: AuthorizeOptions = {},
  getIp: IpResolver = nodeSocketIp,
): Handler<JwtSessionsEnv> {
  checkAuthorizeOptions(options);
  const answer = (c: Context<JwtSessionsEnv>, { session, patch }: Authorized) => {
    c.set('jwtSession', session);
    const response = handler(c, session);
    return response instanceof Promise
      ? response.then((value) => withPatch(c, value, patch))
      : withPatch(c, response, patch);
  };
  return (c) => {
    const request = honoHttpRequest(c, getIp);
    let authorized: Authorized | Promise<Authorized>;
    try {
      authorized = http.authorizeEager(request, options);
    } catch (error) {
      return toWebResponse(http.errorResponse(error, request));
    }
    if (!(authorized instanceof Promise)) return answer(c, authorized);
    return authorized.then(
      (value) => answer(c, value),
      (error: unknown) => toWebResponse(http.errorResponse(error, request)),
    );
  };
}

/** The ready-made routes as a Hono app: `app.route('/auth', sessionRoutes(http, { authenticate }))`. */
export function sessionRoutes(
  source: Sessions | SessionHttp,
  options: SessionRoutesOptions & { http?: HttpOptions; getIp?: IpResolver },
): Hono {
  const http = toSessionHttp(source, options.http);
  const getIp = options.getIp ?? nodeSocketIp;
  const routes = createSessionRoutes(http, options);
  const app = new Hono();
  for (const route of routes.routes) {
    app.on(route.method, route.path, async (c) =>
      toWebResponse(await route.handle(honoHttpRequest(c, getIp), c.req.param() as Record<string, string>)),
    );
  }
  for (const path of routes.paths.keys()) {
    app.options(path, (c) => toWebResponse(routes.preflight(honoHttpRequest(c, getIp), path)));
  }
  app.all('*', (c) => toWebResponse(routes.notFound(honoHttpRequest(c, getIp))));
  app.onError((error, c) => honoErrorResponse(http, error, honoHttpRequest(c, getIp)));
  return app;
}

export interface HonoSessions {
  readonly http: SessionHttp;
  readonly sessions: Sessions;
  /** jwt_sessions `authorize_access_request!`; `transport` picks `_by_access_header!`/`_cookie!`. */
  requireAccess(options?: Omit<AuthorizeOptions, 'kind'>): MiddlewareHandler<JwtSessionsEnv>;
  /** jwt_sessions `authorize_refresh_request!`. */
  requireRefresh(options?: Pick<AuthorizeOptions, 'transport'>): MiddlewareHandler<JwtSessionsEnv>;
  /** jwt_sessions `authorize_refresh_by_access_request!`. */
  requireRefreshByAccess(
    options?: Pick<AuthorizeOptions, 'transport' | 'claims'>,
  ): MiddlewareHandler<JwtSessionsEnv>;
  /**
   * A guarded route handler, the fastest form: `app.get('/api/me', auth.withSession((c, session) =>
   * c.json(session.claims)))`. The same authorization as the `require*` middleware (default
   * `kind: 'access'`), with the session also in `c.get('jwtSession')`; the route stays one handler,
   * so Hono skips its middleware chain.
   */
  withSession(handler: SessionHandler, options?: AuthorizeOptions): Handler<JwtSessionsEnv>;
  /** The ready-made JSON routes, for `app.route(prefix, …)`. */
  routes(options: SessionRoutesOptions): Hono;
  /**
   * Maps an error (e.g. thrown by `sessions.refreshByAccess` in your handler, or a 4xx
   * `HTTPException` from Hono itself) to a Response; for `app.onError`.
   */
  errorResponse(error: unknown, c: Context): Response;
  /**
   * For `getRequestListener(app.fetch, { errorHandler: auth.requestErrorResponse })` of
   * `@hono/node-server` (its `serve()` takes no error handler): a request it cannot turn into a
   * Web `Request` (a malformed Host header, say) gets a 400 in the `{error, code}` shape with
   * `no-store` instead of an empty 400, and the cause goes to `onError` for the log.
   */
  requestErrorResponse(error: unknown): Response;
}

export function honoSessions(
  source: Sessions | SessionHttp,
  options: HonoSessionsOptions = {},
): HonoSessions {
  const { getIp = nodeSocketIp, ...httpOptions } = options;
  const http = toSessionHttp(source, httpOptions);
  return {
    http,
    sessions: http.sessions,
    requireAccess: (opts = {}) => createHonoMiddleware(http, { ...opts, kind: 'access' }, getIp),
    requireRefresh: (opts = {}) => createHonoMiddleware(http, { ...opts, kind: 'refresh' }, getIp),
    requireRefreshByAccess: (opts = {}) =>
      createHonoMiddleware(http, { ...opts, kind: 'refresh_by_access' }, getIp),
    withSession: (handler, opts = {}) => createHonoHandler(http, handler, opts, getIp),
    routes: (routeOptions) => sessionRoutes(http, { ...routeOptions, getIp }),
    errorResponse: (error, c) => honoErrorResponse(http, error, honoHttpRequest(c, getIp)),
    requestErrorResponse(error) {
      reportError(http.config, error);
      return toWebResponse(http.errorResponse(refusedRequest(400)));
    },
  };
}

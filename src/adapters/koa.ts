/**
 * Koa adapter (Koa 2 and 3): middleware only, no router needed.
 *
 * ```ts
 * const auth = koaSessions(sessions);                       // or koaSessions(sessions, httpOptions)
 * app.use(auth.errorHandler());                             // typed errors from your handlers → JSON
 * app.use(auth.routes({ prefix: '/auth', authenticate }));  // the ready-made JSON routes
 * router.get('/api/me', auth.requireAccess(), (ctx) => { ctx.body = ctx.state.jwtSession.claims; });
 * ```
 *
 * The routes read their own bodies (16 KiB JSON cap, 415 on form posts); if a body parser already
 * ran (`ctx.request.body` set and the stream consumed), its result is used.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware, Next } from 'koa';
import { RequestError } from '../errors.js';
import { checkAuthorizeOptions, patchIsEmpty } from '../http/authorize.js';
import { readNodeStream } from '../http/body.js';
import { mergeHeaderList } from '../http/cors.js';
import { createRouteDispatcher } from '../http/dispatch.js';
import { isAnsweredError } from '../http/errors.js';
import type { HttpOptions } from '../http/options.js';
import { createSessionRoutes, type SessionRoutesOptions } from '../http/routes.js';
import { type SessionHttp, toSessionHttp } from '../http/session-http.js';
import type {
  Authorized,
  AuthorizeOptions,
  HttpRequest,
  HttpResponse,
  JwtSession,
  RawBody,
  ResponsePatch,
} from '../http/types.js';
import type { Sessions } from '../session/engine.js';
import { type SessionGuards, sessionGuards } from './guards.js';
import { readNodeHeader } from './node.js';

/** What the middleware puts in `ctx.state`: `ctx.state.jwtSession`. */
export interface JwtSessionState {
  jwtSession: JwtSession;
}

/** A Koa context as an `HttpRequest`: a class, so nothing per request is a closure. */
class KoaHttpRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.method = ctx.req.method ?? 'GET';
    this.url = ctx.originalUrl ?? ctx.req.url ?? '/';
  }

  header(name: string): string | undefined {
    return readNodeHeader(this.#ctx.req, name);
  }

  // Lazy: Koa's `ip` honours `app.proxy`; only login/refresh record it.
  get ip(): string | null {
    const ctx = this.#ctx;
    return ctx.request.ip || ctx.req.socket?.remoteAddress || null;
  }

  async readBody(limit: number): Promise<RawBody> {
    const ctx = this.#ctx;
    const req: IncomingMessage = ctx.req;
    const parsed = (ctx.request as { body?: unknown }).body;
    // A body parser (e.g. @koa/bodyparser) consumed the stream already: use what it produced.
    if (req.readableEnded) return parsed === undefined ? null : { parsed };
    const bytes = await readNodeStream(req, limit);
    return bytes.length === 0 ? null : { bytes };
  }
}

/** A Koa context as an `HttpRequest`. */
export function koaHttpRequest(ctx: Context): HttpRequest {
  return new KoaHttpRequest(ctx);
}

/** Adds a patch's headers (merging list headers) and cookies to the Koa response. */
export function applyKoaPatch(ctx: Context, patch: ResponsePatch): void {
  if (patchIsEmpty(patch)) return;
  for (const [name, value] of Object.entries(patch.headers)) {
    if (name === 'vary' || name === 'access-control-expose-headers') {
      const existing: unknown = ctx.response.get(name);
      ctx.set(name, mergeHeaderList(existing ? String(existing) : undefined, value));
    } else {
      ctx.set(name, value);
    }
  }
  for (const cookie of patch.cookies) ctx.append('set-cookie', cookie);
}

/** Writes a complete response (JSON body, or none) through Koa. */
export function sendKoaResponse(ctx: Context, response: HttpResponse): void {
  ctx.status = response.status;
  applyKoaPatch(ctx, response);
  if (response.body === undefined) {
    ctx.body = null;
    // Koa turns a null body into 204 unless the status was set: it was, keep it (204 preflight).
    ctx.status = response.status;
    return;
  }
  ctx.body = JSON.stringify(response.body);
  ctx.type = 'application/json; charset=utf-8';
}

/**
 * Koa's own client errors (http-errors with status 400, 404, 413 or 415: a body parser, a router,
 * `ctx.throw`) as the library's typed errors, so they get the `{error, code}` shape without
 * echoing the request. Everything else is returned unchanged. The one place Koa errors meet the
 * error contract.
 */
export function fromKoaError(error: unknown): unknown {
  if (isAnsweredError(error) || typeof error !== 'object' || error === null) return error;
  const status = (error as { status?: unknown; statusCode?: unknown }).status;
  if (status === 400) return new RequestError('bad_request', 'bad request');
  if (status === 404) return new RequestError('not_found', 'not found');
  if (status === 413) return new RequestError('payload_too_large', 'request body too large');
  if (status === 415) return new RequestError('unsupported_media_type', 'unsupported content type');
  // 401, 403, 409, 422…: the application's own answers (`ctx.throw(403)`), left to it.
  return error;
}

/** Builds a middleware: authorize, set `ctx.state.jwtSession`, patch the response — or answer the error. */
export function createKoaMiddleware(http: SessionHttp, options: AuthorizeOptions = {}): Middleware {
  checkAuthorizeOptions(options);
  return (ctx: Context, next: Next) => {
    const request = koaHttpRequest(ctx);
    let answer: Authorized | Promise<Authorized>;
    try {
      answer = http.authorizeEager(request, options);
    } catch (error) {
      return sendKoaResponse(ctx, http.errorResponse(error, request));
    }
    // Answered at once (stateless, or the store had the session at hand): no promise hop, and no
    // closure made for a path not taken.
    if (!(answer instanceof Promise)) return proceed(ctx, answer, next);
    return answer.then(
      (authorized) => proceed(ctx, authorized, next),
      (error: unknown) => sendKoaResponse(ctx, http.errorResponse(error, request)),
    );
  };
}

/** An authorized request: its session on `ctx.state`, the patch on the response, then the route. */
function proceed(ctx: Context, authorized: Authorized, next: Next): Promise<unknown> {
  ctx.state.jwtSession = authorized.session;
  applyKoaPatch(ctx, authorized.patch);
  return next();
}

export interface KoaRoutesOptions extends SessionRoutesOptions {
  /** Where the routes live. Default `/auth`. */
  prefix?: string;
}

/** The ready-made routes as one middleware: answers requests under `prefix`, passes the rest on. */
export function createKoaRoutes(http: SessionHttp, options: KoaRoutesOptions): Middleware {
  const { prefix: rawPrefix = '/auth', ...routeOptions } = options;
  const prefix = rawPrefix.endsWith('/') ? rawPrefix.slice(0, -1) : rawPrefix;
  const dispatch = createRouteDispatcher(createSessionRoutes(http, routeOptions));
  return async (ctx: Context, next: Next) => {
    const path = ctx.path;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return next();
    const request = koaHttpRequest(ctx);
    let response: HttpResponse;
    try {
      response = await dispatch(request, ctx.method, path.slice(prefix.length));
    } catch (error) {
      response = http.errorResponse(error, request);
    }
    sendKoaResponse(ctx, response);
  };
}

/**
 * Put it first: answers the library's typed errors (and Koa's own 4xx errors) thrown further down
 * with the JSON error shape; anything else is rethrown to Koa (or your own handler).
 */
export function createKoaErrorHandler(http: SessionHttp): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      const mapped = fromKoaError(error);
      if (ctx.headerSent || !isAnsweredError(mapped)) throw error;
      sendKoaResponse(ctx, http.errorResponse(mapped, koaHttpRequest(ctx)));
    }
  };
}

export interface KoaSessions extends SessionGuards<Middleware> {
  /** The ready-made JSON routes under `prefix` (default `/auth`). */
  routes(options: KoaRoutesOptions): Middleware;
  /** Answers typed errors thrown further down the middleware chain. */
  errorHandler(): Middleware;
  /** Writes a response from the HTTP layer (e.g. `http.tokenResponse(...)`) to the context. */
  send(ctx: Context, response: HttpResponse): void;
}

export function koaSessions(source: Sessions | SessionHttp, options?: HttpOptions): KoaSessions {
  const http = toSessionHttp(source, options);
  return {
    ...sessionGuards(http, createKoaMiddleware),
    routes: (routeOptions) => createKoaRoutes(http, routeOptions),
    errorHandler: () => createKoaErrorHandler(http),
    send: sendKoaResponse,
  };
}

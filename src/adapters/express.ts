/**
 * Express adapter, for Express 5 and Express 4: nothing here imports Express at run time, and every
 * middleware catches its own errors instead of relying on Express 5's promise handling. The scenario
 * suite runs on both (Express 4 through the `express4` alias in the dev dependencies).
 *
 * ```ts
 * const auth = expressSessions(sessions);                 // or expressSessions(sessions, httpOptions)
 * app.use('/auth', auth.routes({ authenticate }));        // the ready-made JSON routes
 * app.get('/api/me', auth.withSession((req, res, session) => res.json(session.claims)));
 * app.use('/admin', auth.requireAccess());                  // or as a middleware
 * ```
 *
 * The routes read their own bodies; mount them before (or instead of) `express.json()` for the
 * 16 KiB cap and the 415 on form posts. If a body parser already ran, its result is used.
 */
import type { IncomingMessage } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { checkAuthorizeOptions } from '../http/authorize.js';
import { readNodeStream } from '../http/body.js';
import { createRouteDispatcher } from '../http/dispatch.js';
import { frameworkRequestError, isAnsweredError } from '../http/errors.js';
import type { HttpOptions } from '../http/options.js';
import { createSessionRoutes, type SessionRoutes, type SessionRoutesOptions } from '../http/routes.js';
import { type SessionHttp, toSessionHttp } from '../http/session-http.js';
import type { Authorized, AuthorizeOptions, HttpRequest, JwtSession, RawBody } from '../http/types.js';
import type { Sessions } from '../session/engine.js';
import { type SessionGuards, sessionGuards } from './guards.js';
import { applyNodePatch, readNodeHeader, sendNodeResponse } from './node.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by the jwt-sessions middleware on the routes it guards. */
      jwtSession?: JwtSession;
    }
  }
}

/** The parts of an Express request the adapter reads (Express 4 and 5 alike). */
type ExpressLikeRequest = IncomingMessage & { ip?: string | undefined; body?: unknown; originalUrl?: string };

/** An Express request as an `HttpRequest`: a class, so nothing per request is a closure. */
class ExpressHttpRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly #req: ExpressLikeRequest;

  constructor(req: ExpressLikeRequest) {
    this.#req = req;
    this.method = req.method ?? 'GET';
    this.url = req.originalUrl ?? req.url ?? '/';
  }

  header(name: string): string | undefined {
    return readNodeHeader(this.#req, name);
  }

  // Lazy: Express's `ip` getter runs proxy-addr each time, and only login/refresh record it.
  get ip(): string | null {
    return this.#req.ip ?? this.#req.socket?.remoteAddress ?? null;
  }

  async readBody(limit: number): Promise<RawBody> {
    const req = this.#req;
    // A body parser (express.json()) consumed the stream already: use what it produced.
    if (req.readableEnded || (req as { _body?: unknown })._body === true) {
      return req.body === undefined ? null : { parsed: req.body };
    }
    const bytes = await readNodeStream(req, limit);
    return bytes.length === 0 ? null : { bytes };
  }
}

/** An Express request as an `HttpRequest`. */
export function expressHttpRequest(req: ExpressLikeRequest): HttpRequest {
  return new ExpressHttpRequest(req);
}

/** What a guard does with an authorized request (the middleware: `next()`; the handler: run it). */
type OnAuthorized = (req: Request, res: Response, next: NextFunction, authorized: Authorized) => void;

/** Authorize, then `onAuthorized` — or answer the error; validated options, checked once. */
function guard(http: SessionHttp, options: AuthorizeOptions, onAuthorized: OnAuthorized): RequestHandler {
  checkAuthorizeOptions(options);
  return (req: Request, res: Response, next: NextFunction) => {
    const httpRequest = expressHttpRequest(req);
    let authorized: Authorized | Promise<Authorized>;
    try {
      authorized = http.authorizeEager(httpRequest, options);
    } catch (error) {
      sendNodeResponse(res, http.errorResponse(error, httpRequest));
      return;
    }
    // Answered at once (stateless, or the store had the session at hand): no promise hop.
    if (!(authorized instanceof Promise)) {
      onAuthorized(req, res, next, authorized);
      return;
    }
    authorized.then(
      (value) => onAuthorized(req, res, next, value),
      (error: unknown) => sendNodeResponse(res, http.errorResponse(error, httpRequest)),
    );
  };
}

/** Builds a middleware: authorize, set `req.jwtSession`, patch the response — or answer the error. */
export function createExpressMiddleware(http: SessionHttp, options: AuthorizeOptions = {}): RequestHandler {
  return guard(http, options, proceed);
}

/** The authorized session onto the request, the patch onto the response (both guard forms). */
function attach(req: Request, res: Response, { session, patch }: Authorized): void {
  req.jwtSession = session;
  applyNodePatch(res, patch);
}

function proceed(req: Request, res: Response, next: NextFunction, authorized: Authorized): void {
  attach(req, res, authorized);
  next();
}

/** A route handler that receives the session; see `ExpressSessions.withSession`. */
export type SessionHandler = (req: Request, res: Response, session: JwtSession) => unknown;

/**
 * Builds a guarded route handler: authorize, then `handler(req, res, session)` — or answer the
 * error. The route keeps one handler: a middleware in front of it costs Express one more layer
 * and `next()` per request. What the handler throws or rejects with goes to `next(error)`, on
 * Express 4 as on 5.
 */
export function createExpressHandler(
  http: SessionHttp,
  handler: SessionHandler,
  options: AuthorizeOptions = {},
): RequestHandler {
  return guard(http, options, (req, res, next, authorized) => {
    attach(req, res, authorized);
    let result: unknown;
    try {
      result = handler(req, res, authorized.session);
    } catch (error) {
      next(error);
      return;
    }
    if (result instanceof Promise) result.then(undefined, next);
  });
}

/** Express middleware for the ready-made routes; mount it under a prefix: `app.use('/auth', …)`. */
export function createExpressRoutes(routes: SessionRoutes): RequestHandler {
  const dispatch = createRouteDispatcher(routes);
  return (req: Request, res: Response) => {
    const httpRequest = expressHttpRequest(req);
    dispatch(httpRequest, req.method ?? 'GET', req.url ?? '/').then(
      (response) => sendNodeResponse(res, response),
      (error: unknown) => sendNodeResponse(res, routes.http.errorResponse(error, httpRequest)),
    );
  };
}

/**
 * An error handler that answers the library's typed errors (thrown by your handlers, e.g. from
 * `sessions.refreshByAccess`) and Express's own refusals (a body parser such as `express.json()`
 * rejecting a body, a route parameter with malformed percent-encoding) with the JSON error shape,
 * without echoing the request; anything else is passed on.
 */
export function createExpressErrorHandler(http: SessionHttp): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent || !isAnsweredError(frameworkRequestError(error) ?? error)) return next(error);
    sendNodeResponse(res, http.errorResponse(error, expressHttpRequest(req)));
  };
}

export interface ExpressSessions extends SessionGuards<RequestHandler> {
  /**
   * A guarded route handler, the fastest form: `app.get('/api/me', auth.withSession((req, res,
   * session) => res.json(session.claims)))`. The same authorization as the `require*` middleware
   * (default `kind: 'access'`; `req.jwtSession` is set too), without Express's extra layer.
   */
  withSession(handler: SessionHandler, options?: AuthorizeOptions): RequestHandler;
  /** The ready-made JSON routes, to mount under a prefix. */
  routes(options: SessionRoutesOptions): RequestHandler;
  /** Answers the library's typed errors thrown by your own handlers. */
  errorHandler(): ErrorRequestHandler;
}

export function expressSessions(source: Sessions | SessionHttp, options?: HttpOptions): ExpressSessions {
  const http = toSessionHttp(source, options);
  return {
    ...sessionGuards(http, createExpressMiddleware),
    withSession: (handler, handlerOptions = {}) => createExpressHandler(http, handler, handlerOptions),
    routes: (routeOptions) => createExpressRoutes(createSessionRoutes(http, routeOptions)),
    errorHandler: () => createExpressErrorHandler(http),
  };
}

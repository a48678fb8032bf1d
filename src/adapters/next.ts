/**
 * Next.js App Router adapter (Node.js runtime): route handlers, protected route handlers, server
 * actions and `proxy` / `middleware`, all on Web `Request`/`Response`.
 *
 * ```ts
 * // lib/auth.ts
 * export const auth = nextSessions(sessions);
 * // app/auth/[...route]/route.ts — POST /auth/login, /auth/refresh, /auth/logout, GET /auth/sessions…
 * export const { GET, POST, DELETE, OPTIONS } = auth.routeHandlers({ prefix: '/auth', authenticate });
 * // app/api/me/route.ts
 * export const GET = auth.withSession((request, session) => Response.json(session.claims));
 * ```
 *
 * Runtime: the token layer is `node:crypto`, so everything here runs on the Node.js runtime (the
 * default for route handlers and server actions; Next 16's `proxy.ts`; `middleware.ts` with
 * `runtime: 'nodejs'` on Next 15.5+). The Edge runtime cannot verify a token with this library.
 */
import { ConfigurationError, RequestError } from '../errors.js';
import { checkAuthorizeOptions, patchIsEmpty } from '../http/authorize.js';
import { createRouteDispatcher } from '../http/dispatch.js';
import { isAnsweredError } from '../http/errors.js';
import type { HttpOptions } from '../http/options.js';
import { createSessionRoutes, type SessionRoutesOptions } from '../http/routes.js';
import { type SessionHttp, toSessionHttp } from '../http/session-http.js';
import type { AuthorizeOptions, HttpRequest, JwtSession, ResponsePatch } from '../http/types.js';
import type { Sessions } from '../session/engine.js';
import { applyWebPatch, toWebResponse, webHttpRequest } from './web.js';

export { toWebResponse };

/** How to learn the client address from a request. */
export type NextIpResolver = (request: Request) => string | null | undefined;

export interface NextSessionsOptions extends HttpOptions {
  /**
   * Client address for device metadata. Default: the first `X-Forwarded-For` entry, which
   * `next start` sets from the socket when the client sent none, and a proxy in front (Vercel,
   * nginx) sets for you. Without such a proxy a client can write it: it is display data only.
   */
  getIp?: NextIpResolver;
}

const forwardedIp: NextIpResolver = (request) => {
  const forwarded = request.headers.get('x-forwarded-for');
  if (forwarded === null) return null;
  const first = forwarded.split(',', 1)[0]!.trim();
  return first === '' ? null : first;
};

/** A route handler: `export const GET = …` in `route.ts`. */
export type NextRouteHandler = (request: Request) => Promise<Response>;

/** The ready-made routes as route handlers, one per method, for `app/<prefix>/[...route]/route.ts`. */
export interface NextRouteHandlers {
  GET: NextRouteHandler;
  HEAD: NextRouteHandler;
  POST: NextRouteHandler;
  PUT: NextRouteHandler;
  PATCH: NextRouteHandler;
  DELETE: NextRouteHandler;
  OPTIONS: NextRouteHandler;
}

export interface NextRoutesOptions extends SessionRoutesOptions {
  /** The folder the catch-all route lives in (`app/auth/[...route]` → `/auth`). Default `/auth`. */
  prefix?: string;
}

/** Options of `withSession`: which token, how verified. */
export type WithSessionOptions = AuthorizeOptions;

export interface NextMiddlewareOptions extends Omit<AuthorizeOptions, 'kind'> {
  /** What to answer when the request may go on: `() => NextResponse.next()`. */
  next: () => Response;
  /**
   * Which matched requests need a valid access token. Default all. Requests it lets through
   * unchecked (e.g. the `/auth` routes) still get the URL check.
   */
  protect?: (request: Request) => boolean;
}

/** The path a request arrived on, without Next's `basePath` when Next tells it (`nextUrl`). */
function requestPath(request: Request): string {
  const nextUrl = (request as { nextUrl?: { pathname?: unknown } }).nextUrl;
  if (typeof nextUrl?.pathname === 'string') return nextUrl.pathname;
  return new URL(request.url).pathname;
}

/**
 * Next.js answers a path whose percent-encoding does not decode with its own 500 text page before
 * any route handler runs; `proxy` runs first, so it refuses such a path in the JSON shape.
 */
function malformedUrl(request: Request): RequestError | null {
  try {
    decodeURIComponent(requestPath(request));
    return null;
  } catch {
    return new RequestError('bad_request', 'malformed URL');
  }
}

/** Adds a patch to a handler's response; a response with immutable headers is copied first. */
function patchResponse(response: Response, patch: ResponsePatch): Response {
  if (patchIsEmpty(patch)) return response;
  try {
    applyWebPatch(response.headers, patch);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    applyWebPatch(copy.headers, patch);
    return copy;
  }
}

/**
 * A route handler whose typed errors (the library's, e.g. from `sessions.refreshByAccess`) are
 * answered as `{error, code}` JSON; anything else is rethrown to Next (its error page, its logs).
 * The one place Next.js handler failures meet the error contract.
 */
export function createWithErrors(http: SessionHttp, getIp: NextIpResolver = forwardedIp) {
  return function withErrors<Context = unknown>(
    handler: (request: Request, context: Context) => Response | Promise<Response>,
  ): (request: Request, context: Context) => Promise<Response> {
    return async (raw, context) => {
      try {
        return await handler(raw, context);
      } catch (error) {
        if (!isAnsweredError(error)) throw error;
        return toWebResponse(
          http.errorResponse(
            error,
            webHttpRequest(raw, () => getIp(raw)),
          ),
        );
      }
    };
  };
}

/** The verified session of a request, or the error response to send. */
async function authorizeRequest(
  http: SessionHttp,
  request: HttpRequest,
  options: AuthorizeOptions,
): Promise<{ session: JwtSession; patch: ResponsePatch } | { response: Response }> {
  try {
    // Options were checked when the handler was made.
    return await http.authorizeEager(request, options);
  } catch (error) {
    return { response: toWebResponse(http.errorResponse(error, request)) };
  }
}

export function createNextRouteHandlers(
  http: SessionHttp,
  options: NextRoutesOptions,
  getIp: NextIpResolver = forwardedIp,
): NextRouteHandlers {
  const { prefix: rawPrefix = '/auth', ...routeOptions } = options;
  const prefix = rawPrefix.endsWith('/') ? rawPrefix.slice(0, -1) : rawPrefix;
  const routes = createSessionRoutes(http, routeOptions);
  const dispatch = createRouteDispatcher(routes);
  const handle: NextRouteHandler = async (raw) => {
    const request = webHttpRequest(raw, () => getIp(raw));
    const path = requestPath(raw);
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return toWebResponse(routes.notFound(request));
    try {
      return toWebResponse(await dispatch(request, raw.method, path.slice(prefix.length)));
    } catch (error) {
      return toWebResponse(http.errorResponse(error, request));
    }
  };
  return {
    GET: handle,
    HEAD: handle,
    POST: handle,
    PUT: handle,
    PATCH: handle,
    DELETE: handle,
    OPTIONS: handle,
  };
}

/**
 * A protected route handler: authorizes the request, calls `handler` with the verified session,
 * adds the sliding-expiration patch to its response. Refusals and the library's typed errors
 * thrown by `handler` are answered as `{error, code}` JSON; other errors go on to Next.
 */
export function createWithSession(http: SessionHttp, getIp: NextIpResolver = forwardedIp) {
  const withErrors = createWithErrors(http, getIp);
  return function withSession<Context = unknown>(
    handler: (request: Request, session: JwtSession, context: Context) => Response | Promise<Response>,
    options: WithSessionOptions = {},
  ): (request: Request, context: Context) => Promise<Response> {
    checkAuthorizeOptions(options);
    return withErrors(async (raw, context: Context) => {
      const authorized = await authorizeRequest(
        http,
        webHttpRequest(raw, () => getIp(raw)),
        options,
      );
      if ('response' in authorized) return authorized.response;
      return patchResponse(await handler(raw, authorized.session, context), authorized.patch);
    });
  };
}

/**
 * For Next's `proxy` (Next 16) or Node.js-runtime `middleware`: refuses requests without a valid
 * token with the `{error, code}` JSON; lets the others go on (`options.next()`), with the sliding
 * renewal on the response. A gate only: route handlers that need the claims use `withSession`.
 */
export function createNextMiddleware(
  http: SessionHttp,
  options: NextMiddlewareOptions,
  getIp: NextIpResolver = forwardedIp,
): (request: Request) => Promise<Response> {
  const { next, protect = () => true, ...authorizeOptions } = options ?? ({} as NextMiddlewareOptions);
  if (typeof next !== 'function')
    throw new ConfigurationError('middleware needs { next: () => NextResponse.next() }');
  const checked: AuthorizeOptions = { ...authorizeOptions, kind: 'access' };
  checkAuthorizeOptions(checked);
  return async (raw) => {
    const request = webHttpRequest(raw, () => getIp(raw));
    const malformed = malformedUrl(raw);
    if (malformed !== null) return toWebResponse(http.errorResponse(malformed, request));
    if (!protect(raw)) return next();
    const authorized = await authorizeRequest(http, request, checked);
    if ('response' in authorized) return authorized.response;
    return patchResponse(next(), authorized.patch);
  };
}

/** A server action's arguments may carry the CSRF token as a form field (`<input name="csrf">`). */
function csrfFromArguments(args: readonly unknown[]): string | undefined {
  for (const arg of args) {
    if (typeof FormData !== 'undefined' && arg instanceof FormData) {
      const value = arg.get('csrf');
      if (typeof value === 'string') return value;
    }
  }
  return undefined;
}

/**
 * A server action that needs a session. The token comes from the action request's headers and
 * cookies (`next/headers`); a cookie session needs its CSRF token, in the `X-CSRF-Token` header or a
 * form field named `csrf`. A refusal is thrown as the library's typed error (`err.code`).
 */
export function createWithSessionAction(http: SessionHttp) {
  return function withSessionAction<Args extends unknown[], Result>(
    action: (session: JwtSession, ...args: Args) => Promise<Result>,
    options: Omit<AuthorizeOptions, 'kind'> = {},
  ): (...args: Args) => Promise<Result> {
    const checked: AuthorizeOptions = { ...options, kind: 'access' };
    checkAuthorizeOptions(checked);
    return async (...args) => {
      const { headers } = await import('next/headers.js');
      const incoming = await headers();
      const csrfHeader = http.config.csrfHeader;
      const csrf = incoming.get(csrfHeader) ?? csrfFromArguments(args);
      const request: HttpRequest = {
        // Server actions are POSTs: a cookie session passes the CSRF (and origin) check.
        method: 'POST',
        url: '/',
        header: (name) => (name === csrfHeader ? csrf : (incoming.get(name) ?? undefined)),
        ip: forwardedIp(new Request('http://action.invalid', { headers: incoming })),
      };
      const { session } = await http.authorize(request, checked);
      return action(session, ...args);
    };
  };
}

export interface NextSessions {
  readonly http: SessionHttp;
  readonly sessions: Sessions;
  /** The ready-made routes: `export const { GET, POST, DELETE, OPTIONS } = auth.routeHandlers(…)`. */
  routeHandlers(options: NextRoutesOptions): NextRouteHandlers;
  /** A protected route handler (any `kind`, `transport`, `mode`, `claims`). */
  withSession: ReturnType<typeof createWithSession>;
  /** A route handler whose typed errors are answered as `{error, code}` JSON (no session needed). */
  withErrors: ReturnType<typeof createWithErrors>;
  /** A server action that needs a session. */
  withSessionAction: ReturnType<typeof createWithSessionAction>;
  /** `export const proxy = auth.middleware({ next: () => NextResponse.next() })`. */
  middleware(options: NextMiddlewareOptions): (request: Request) => Promise<Response>;
  /** Maps an error (e.g. thrown by `sessions.refreshByAccess`) to a Response. */
  errorResponse(error: unknown, request?: Request): Response;
}

export function nextSessions(
  source: Sessions | SessionHttp,
  options: NextSessionsOptions = {},
): NextSessions {
  const { getIp = forwardedIp, ...httpOptions } = options;
  const http = toSessionHttp(source, httpOptions);
  return {
    http,
    sessions: http.sessions,
    routeHandlers: (routeOptions) => createNextRouteHandlers(http, routeOptions, getIp),
    withSession: createWithSession(http, getIp),
    withErrors: createWithErrors(http, getIp),
    withSessionAction: createWithSessionAction(http),
    middleware: (middlewareOptions) => createNextMiddleware(http, middlewareOptions, getIp),
    errorResponse: (error, request) =>
      toWebResponse(
        http.errorResponse(
          error,
          request === undefined ? undefined : webHttpRequest(request, () => getIp(request)),
        ),
      ),
  };
}

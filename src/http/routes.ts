/**
 * The ready-made JSON routes (Rodauth-style), framework-neutral. Each adapter mounts
 * `routes[i].handle` for `routes[i].method` + `routes[i].path` under a prefix (default `/auth`),
 * answers `OPTIONS` on those paths with `preflight`, and unknown paths under the prefix with
 * `notFound`. Handlers never throw: every failure is already a response.
 *
 *   POST   /login          {login, password, transport?}        → tokens (header or cookie transport)
 *   POST   /refresh        X-Refresh-Token | body refresh_token | refresh cookie + X-CSRF-Token
 *   POST   /logout         {refresh_token?: token | "all"}       → {revoked}
 *   GET    /sessions       ?limit=1..100 (50) &cursor=           → {sessions: [...], next_cursor}
 *   DELETE /sessions/:id                                        → {revoked: 1} | 404
 *   GET    /csrf           a fresh masked CSRF token for the session (cookie clients after a reload)
 *   GET    /session        the session's state + a fresh CSRF token (browser clients resuming after a
 *                          reload); only a refresh token left: claims and access expiry null
 */
import {
  ConfigurationError,
  InvalidPayloadError,
  RequestError,
  SessionError,
  TokenFormatError,
  UnauthorizedError,
} from '../errors.js';
import type { ListSessionsOptions, Payload, SessionInfo, TokenPair } from '../session/types.js';
import { isTokenChars, parseTokenHeader } from './bearer.js';
import { readJsonBody } from './body.js';
import { type CorsOptions, createCors } from './cors.js';
import { csrfForCookieRequest, needsCsrf } from './csrf.js';
import { findDpopAccessToken, loginDpop, nonceHeader, sessionDpop } from './dpop.js';
import { jsonResponse } from './errors.js';
import { findAccessToken, findRefreshToken, readTokenCookie } from './extract.js';
import type { SessionHttp } from './session-http.js';
import type { Authorized, HttpRequest, HttpResponse, JwtSession, TokenTransport } from './types.js';

export interface AuthenticateInput {
  login: string;
  password: string;
  /** The whole JSON body (for extra fields such as a TOTP code). */
  body: Record<string, unknown>;
  request: HttpRequest;
}

export interface AuthenticateResult {
  /** Access token claims (e.g. `{ user_id }`). */
  payload?: Payload;
  /** Groups the user's sessions (e.g. the user id): needed for listing and "logout all". */
  namespace?: string;
  /** Refresh token claims (default none). */
  refreshPayload?: Payload;
  /** Per-session lifetimes (seconds), at most the engine's. */
  accessTtl?: number;
  refreshTtl?: number;
}

export interface SessionRoutesOptions {
  /** Checks credentials; null (or undefined) → 401 `invalid_credentials`. */
  authenticate(
    input: AuthenticateInput,
  ): AuthenticateResult | null | undefined | Promise<AuthenticateResult | null | undefined>;
  /** Transports a login may ask for. Default both. */
  transports?: TokenTransport[];
  /** Transport when the login body names none. Default `header`. */
  defaultTransport?: TokenTransport;
  /**
   * Sessions created by login may be refreshed by access token (jwt_sessions
   * `refresh_by_access_allowed`): POST /refresh without a refresh token then uses the access token.
   */
  refreshByAccess?: boolean;
  /** CORS for these routes (Rodauth jwt_cors). Default off (same-origin clients need none). */
  cors?: CorsOptions | false;
}

export type RouteMethod = 'GET' | 'POST' | 'DELETE';

export interface RouteDefinition {
  method: RouteMethod;
  /** Relative to the prefix; `:id` is a path parameter (Express, Fastify and Hono syntax). */
  path: string;
  handle(request: HttpRequest, params: Record<string, string | undefined>): Promise<HttpResponse>;
}

export interface SessionRoutes {
  readonly http: SessionHttp;
  readonly routes: readonly RouteDefinition[];
  /** Every route path with its methods (for preflight routes). */
  readonly paths: ReadonlyMap<string, readonly RouteMethod[]>;
  /** The answer to `OPTIONS` on a route path. */
  preflight(request: HttpRequest, path: string): HttpResponse;
  /** 404 JSON for an unknown path under the prefix. */
  notFound(request: HttpRequest): HttpResponse;
}

const MAX_LOGIN_LENGTH = 1024;
const MAX_PASSWORD_LENGTH = 4096;
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

const json = (status: number, body: unknown): HttpResponse => jsonResponse(status, body);

/** `login` / `password` of a login body: a string within its limit, or a 400 naming the field and the limit. */
function checkCredential(body: Record<string, unknown>, field: 'login' | 'password', max: number): string {
  const value = body[field];
  if (value === undefined || value === null) throw new RequestError('bad_request', `${field} is required`);
  if (typeof value !== 'string') throw new RequestError('bad_request', `${field} must be a string`);
  if (field === 'login' && value.length === 0)
    throw new RequestError('bad_request', 'login must not be empty');
  if (value.length > max) {
    throw new RequestError('bad_request', `${field} must be at most ${max} characters (got ${value.length})`);
  }
  return value;
}

/** `?limit=&cursor=` of GET /sessions: a limit must be digits; both are checked by the engine. */
function pageQuery(url: string): ListSessionsOptions {
  const query = url.indexOf('?');
  if (query === -1) return {};
  const params = new URLSearchParams(url.slice(query + 1));
  const page: ListSessionsOptions = {};
  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d{1,4}$/.test(limit))
      throw new RequestError('bad_request', 'limit must be a whole number from 1 to 100');
    page.limit = Number(limit);
  }
  const cursor = params.get('cursor');
  if (cursor !== null) page.cursor = cursor;
  return page;
}

function isoSession(info: SessionInfo, currentId: string) {
  return {
    id: info.id,
    created_at: info.createdAt.toISOString(),
    last_used_at: info.lastUsedAt.toISOString(),
    expires_at: info.expiresAt.toISOString(),
    ip: info.ip,
    user_agent: info.userAgent,
    jkt: info.jkt,
    current: info.id === currentId,
  };
}

/** Whether two sessions belong to the same user: same namespace, or the very same session when there is none. */
function sameOwner(
  a: { sessionId: string; namespace: string | null },
  b: { sessionId: string; namespace: string | null },
) {
  return a.namespace !== null ? a.namespace === b.namespace : a.sessionId === b.sessionId;
}

function withPatch(
  response: HttpResponse,
  session: { patch: { headers: Record<string, string>; cookies: string[] } },
) {
  return {
    ...response,
    headers: { ...session.patch.headers, ...response.headers },
    cookies: [...session.patch.cookies, ...response.cookies],
  };
}

export function createSessionRoutes(http: SessionHttp, options: SessionRoutesOptions): SessionRoutes {
  if (typeof options !== 'object' || options === null || typeof options.authenticate !== 'function') {
    throw new ConfigurationError('session routes need an authenticate function');
  }
  const { sessions, config } = http;
  const transports = new Set<TokenTransport>(options.transports ?? ['header', 'cookie']);
  const defaultTransport = options.defaultTransport ?? 'header';
  if ([...transports].some((t) => t !== 'header' && t !== 'cookie') || transports.size === 0) {
    throw new ConfigurationError("transports must list 'header' and/or 'cookie'");
  }
  if (!transports.has(defaultTransport))
    throw new ConfigurationError('defaultTransport must be one of transports');
  const exposed = ['Authorization'];
  if (config.slidingHeader !== 'authorization') exposed.push(config.slidingHeaderName);
  // DPoP clients send the proof header and read the nonce and the challenge.
  if (config.dpop !== null) exposed.push('DPoP-Nonce', 'WWW-Authenticate');
  const corsOptions =
    options.cors && config.dpop !== null
      ? { ...options.cors, allowHeaders: [...(options.cors.allowHeaders ?? []), 'DPoP'] }
      : options.cors;
  const cors = corsOptions ? createCors(corsOptions, exposed) : null;
  const device = (request: HttpRequest) => ({
    ip: request.ip ? request.ip.slice(0, 100) : null,
    userAgent: request.header('user-agent') ?? null,
  });

  const dpopOption = (request: HttpRequest) => {
    const dpop = sessionDpop(request, config);
    return dpop === undefined ? {} : { dpop };
  };

  const login = async (request: HttpRequest): Promise<HttpResponse> => {
    const body = await readJsonBody(request, config.maxBodyBytes);
    const login = checkCredential(body, 'login', MAX_LOGIN_LENGTH);
    const password = checkCredential(body, 'password', MAX_PASSWORD_LENGTH);
    const transport = body.transport ?? defaultTransport;
    if (transport !== 'header' && transport !== 'cookie') {
      throw new RequestError('bad_request', 'transport must be "header" or "cookie"');
    }
    if (!transports.has(transport))
      throw new RequestError('bad_request', `transport "${transport}" is not enabled`);
    const dpop = loginDpop(request, config);
    const result = await options.authenticate({ login, password, body, request });
    if (result === null || result === undefined) {
      throw new SessionError('invalid_credentials', 'invalid login or password');
    }
    if (typeof result !== 'object')
      throw new ConfigurationError('authenticate must resolve an object or null');
    let pair: TokenPair;
    try {
      pair = await sessions.login({
        ...(result.payload !== undefined && { payload: result.payload }),
        ...(result.refreshPayload !== undefined && { refreshPayload: result.refreshPayload }),
        ...(result.namespace !== undefined && { namespace: result.namespace }),
        ...(result.accessTtl !== undefined && { accessTtl: result.accessTtl }),
        ...(result.refreshTtl !== undefined && { refreshTtl: result.refreshTtl }),
        ...(options.refreshByAccess && { refreshByAccess: true }),
        device: device(request),
        ...(dpop !== undefined && { dpop }),
      });
    } catch (error) {
      // What authenticate returned is the application's doing, not the client's: a 500 it gets
      // reported (onError), never a 400 telling the client about the app's claims.
      if (error instanceof InvalidPayloadError) {
        throw new ConfigurationError(`authenticate returned an invalid session: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    return http.tokenResponse(pair, transport);
  };

  const refresh = async (request: HttpRequest): Promise<HttpResponse> => {
    const body = await readJsonBody(request, config.maxBodyBytes);
    const bodyToken = body.refresh_token;
    if (bodyToken !== undefined && typeof bodyToken !== 'string') {
      throw new RequestError('bad_request', 'refresh_token must be a string');
    }
    // 1. X-Refresh-Token (a malformed one ends the search).
    const headerValue = request.header(config.refreshHeader);
    if (headerValue !== undefined && headerValue.length > config.maxHeaderBytes) {
      throw new TokenFormatError(
        'token_too_large',
        `${config.refreshHeader} header is longer than ${config.maxHeaderBytes} bytes`,
      );
    }
    const header = parseTokenHeader(headerValue);
    if (header.kind === 'malformed') throw new TokenFormatError('token_malformed', header.reason);
    let token: string | undefined = header.kind === 'token' ? header.token : undefined;
    // 2. The body.
    if (token === undefined && bodyToken !== undefined && bodyToken !== '') {
      if (bodyToken.length > config.maxTokenBytes)
        throw new TokenFormatError(
          'token_too_large',
          `refresh_token is longer than ${config.maxTokenBytes} bytes`,
        );
      if (!isTokenChars(bodyToken))
        throw new TokenFormatError('token_malformed', 'refresh_token is malformed');
      token = bodyToken;
    }
    if (token !== undefined) {
      if (token.length > config.maxTokenBytes)
        throw new TokenFormatError('token_too_large', 'token is too large');
      const pair = await sessions.refresh(token, { device: device(request), ...dpopOption(request) });
      return http.tokenResponse(pair, 'header');
    }
    // 3. The refresh cookie, with the CSRF token.
    const cookieToken = readTokenCookie(request, config, config.refreshCookie);
    if (cookieToken !== undefined) {
      // One verification and one session read: the engine checks the CSRF token on the record
      // it renews (a rotated-out token still revokes the session, whatever the CSRF token).
      const csrf = csrfForCookieRequest(request, config);
      const pair = await sessions.refresh(cookieToken, {
        device: device(request),
        ...dpopOption(request),
        csrf,
      });
      return http.tokenResponse(pair, 'cookie');
    }
    // 4. Refresh by access token, when enabled.
    if (options.refreshByAccess) {
      const { session } = await http.authorize(request, { kind: 'refresh_by_access', transport: 'any' });
      const dpop =
        config.dpop === null ? undefined : findDpopAccessToken(request, config, config.dpop, 'any').dpop;
      const pair = await sessions.refreshByAccess(session.token, {
        device: device(request),
        ...(dpop !== undefined && { dpop }),
      });
      return http.tokenResponse(pair, session.transport);
    }
    throw new TokenFormatError('token_missing', 'refresh token missing');
  };

  const logout = async (request: HttpRequest): Promise<HttpResponse> => {
    const body = await readJsonBody(request, config.maxBodyBytes);
    const target = body.refresh_token;
    if (target !== undefined && typeof target !== 'string') {
      throw new RequestError('bad_request', 'refresh_token must be a refresh token or "all"');
    }
    if (target === undefined || target === '' || target === 'all') {
      // Any signature-valid access token of a live session ends it, even one a racing refresh
      // has just superseded: never "401 while the session lives on" (SECURITY.md).
      const found = findAccessToken(request, config, 'any');
      const csrf = needsCsrf(request, found.transport) ? csrfForCookieRequest(request, config) : undefined;
      const { revoked } = await sessions.logout(found.token, {
        scope: target === 'all' ? 'all' : 'session',
        ...(csrf !== undefined && { csrf }),
      });
      const response = json(200, { revoked });
      response.cookies.push(...http.clearCookies());
      return response;
    }
    const { session } = await http.authorize(request, { mode: 'strict' });
    if (!isTokenChars(target) || target.length > config.maxTokenBytes) {
      throw new RequestError('bad_request', 'refresh_token must be a refresh token or "all"');
    }
    let other: Awaited<ReturnType<typeof sessions.verifyRefresh>>;
    try {
      other = await sessions.verifyRefresh(target);
    } catch (error) {
      if (error instanceof TokenFormatError)
        throw new RequestError('bad_request', 'refresh_token is not a valid refresh token');
      // Expired, revoked or rotated out: no live session of that token to end (never 200 with 0).
      if (error instanceof UnauthorizedError) throw new RequestError('not_found', 'session not found');
      throw error;
    }
    if (!sameOwner(other, session)) throw new RequestError('not_found', 'session not found');
    const revoked = await sessions.revokeSession(other.sessionId);
    if (revoked === 0) throw new RequestError('not_found', 'session not found');
    const response = json(200, { revoked });
    if (other.sessionId === session.sessionId) response.cookies.push(...http.clearCookies());
    return response;
  };

  const list = async (request: HttpRequest): Promise<HttpResponse> => {
    const authorized = await http.authorize(request, { mode: 'strict' });
    const { session } = authorized;
    const page = pageQuery(request.url);
    let infos: SessionInfo[];
    let nextCursor: string | null = null;
    if (session.namespace === null) {
      const own = await sessions.getSession(session.sessionId);
      infos = own === null ? [] : [own];
    } else {
      try {
        ({ sessions: infos, nextCursor } = await sessions.listSessions(session.namespace, page));
      } catch (error) {
        if (error instanceof InvalidPayloadError) throw new RequestError('bad_request', error.message);
        throw error;
      }
    }
    return withPatch(
      json(200, {
        sessions: infos.map((info) => isoSession(info, session.sessionId)),
        next_cursor: nextCursor,
      }),
      authorized,
    );
  };

  const remove = async (
    request: HttpRequest,
    params: Record<string, string | undefined>,
  ): Promise<HttpResponse> => {
    const authorized = await http.authorize(request, { mode: 'strict' });
    const { session } = authorized;
    const id = params.id ?? '';
    const target = SESSION_ID.test(id) ? await sessions.getSession(id) : null;
    if (target === null || !sameOwner({ sessionId: target.id, namespace: target.namespace }, session)) {
      throw new RequestError('not_found', 'session not found');
    }
    const revoked = await sessions.revokeSession(target.id);
    // Ended meanwhile by a racing revoke: it is gone, as for an unknown id (never 200 with 0).
    if (revoked === 0) throw new RequestError('not_found', 'session not found');
    if (target.id !== session.sessionId) return withPatch(json(200, { revoked }), authorized);
    const response = json(200, { revoked });
    response.cookies.push(...http.clearCookies());
    return response;
  };

  const csrf = async (request: HttpRequest): Promise<HttpResponse> => {
    // GET: no CSRF token needed (and none could be had yet); cross-origin pages cannot read the answer.
    let session: JwtSession;
    const refreshHeader = request.header(config.refreshHeader);
    const hasRefresh =
      (refreshHeader !== undefined && refreshHeader.trim() !== '') ||
      readTokenCookie(request, config, config.refreshCookie) !== undefined;
    if (hasRefresh) {
      session = (await http.authorize(request, { kind: 'refresh' })).session;
    } else {
      session = (await http.authorize(request, { mode: 'strict' })).session;
    }
    return json(200, { csrf: await sessions.csrfToken(session.sessionId) });
  };

  const current = async (request: HttpRequest): Promise<HttpResponse> => {
    // GET: no CSRF token needed, and it never rotates or revokes anything: a rotated-out refresh
    // token read here is refused, not treated as a replay (a reload racing a refresh is no theft).
    let authorized: Authorized;
    try {
      authorized = await http.authorize(request, { mode: 'strict' });
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      let token: string;
      try {
        token = findRefreshToken(request, config, 'any').token;
      } catch {
        throw error; // no refresh token either: the access token's problem is the answer
      }
      const refresh = await sessions.verifyRefresh(token, dpopOption(request));
      return json(200, {
        session_id: refresh.sessionId,
        claims: null,
        access_expires_at: null,
        refresh_expires_at: new Date(refresh.claims.exp * 1000).toISOString(),
        jkt: (await sessions.getSession(refresh.sessionId))?.jkt ?? null,
        csrf: await sessions.csrfToken(refresh.sessionId),
      });
    }
    const { session } = authorized;
    const info = await sessions.getSession(session.sessionId);
    if (info === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
    const access = session.renewedAccess?.expiresAt ?? new Date(session.claims.exp * 1000);
    return withPatch(
      json(200, {
        session_id: session.sessionId,
        claims: session.claims,
        access_expires_at: access.toISOString(),
        refresh_expires_at: info.expiresAt.toISOString(),
        jkt: info.jkt,
        csrf: await sessions.csrfToken(session.sessionId),
      }),
      authorized,
    );
  };

  const table: Array<[RouteMethod, string, RouteDefinition['handle']]> = [
    ['POST', '/login', login],
    ['POST', '/refresh', refresh],
    ['POST', '/logout', logout],
    ['GET', '/sessions', list],
    ['DELETE', '/sessions/:id', remove],
    ['GET', '/csrf', csrf],
    ['GET', '/session', current],
  ];

  const finish = (request: HttpRequest, response: HttpResponse): HttpResponse => {
    const nonce = response.headers['dpop-nonce'] === undefined ? nonceHeader(request, config) : undefined;
    if (cors === null && nonce === undefined) return response;
    return {
      ...response,
      headers: { ...response.headers, ...nonce, ...(cors === null ? {} : cors.headers(request)) },
    };
  };

  const routes: RouteDefinition[] = table.map(([method, path, handler]) => ({
    method,
    path,
    async handle(request, params) {
      let response: HttpResponse;
      try {
        response = await handler(request, params);
      } catch (error) {
        response = http.errorResponse(error, request);
      }
      return finish(request, response);
    },
  }));

  const paths = new Map<string, RouteMethod[]>();
  for (const [method, path] of table) paths.set(path, [...(paths.get(path) ?? []), method]);

  return {
    http,
    routes,
    paths,
    preflight(request, path) {
      const methods = paths.get(path) ?? [];
      if (cors === null)
        return { status: 204, headers: { allow: [...methods, 'OPTIONS'].join(', ') }, cookies: [] };
      return cors.preflight(request, methods);
    },
    notFound(request) {
      return finish(request, jsonResponse(404, { error: 'not found', code: 'not_found' }));
    },
  };
}

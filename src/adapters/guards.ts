/**
 * The three guards every middleware-style adapter offers (Express, Koa), built from one factory
 * that makes a middleware for given `AuthorizeOptions`.
 */
import type { SessionHttp } from '../http/session-http.js';
import type { AuthorizeOptions } from '../http/types.js';
import type { Sessions } from '../session/engine.js';

export interface SessionGuards<Middleware> {
  readonly http: SessionHttp;
  readonly sessions: Sessions;
  /** jwt_sessions `authorize_access_request!`; `transport` picks `_by_access_header!`/`_cookie!`. */
  requireAccess(options?: Omit<AuthorizeOptions, 'kind'>): Middleware;
  /** jwt_sessions `authorize_refresh_request!`. */
  requireRefresh(options?: Pick<AuthorizeOptions, 'transport'>): Middleware;
  /** jwt_sessions `authorize_refresh_by_access_request!`. */
  requireRefreshByAccess(options?: Pick<AuthorizeOptions, 'transport' | 'claims'>): Middleware;
}

export function sessionGuards<Middleware>(
  http: SessionHttp,
  create: (http: SessionHttp, options: AuthorizeOptions) => Middleware,
): SessionGuards<Middleware> {
  return {
    http,
    sessions: http.sessions,
    requireAccess: (options = {}) => create(http, { ...options, kind: 'access' }),
    requireRefresh: (options = {}) => create(http, { ...options, kind: 'refresh' }),
    requireRefreshByAccess: (options = {}) => create(http, { ...options, kind: 'refresh_by_access' }),
  };
}

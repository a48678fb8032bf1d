/**
 * `createSessionHttp(sessions, options)`: the HTTP layer bound to one engine and one resolved
 * configuration. Adapters take one of these (or build it from the same arguments).
 */
import type { Sessions } from '../session/engine.js';
import type { TokenPair } from '../session/types.js';
import { authorize, authorizeEager, checkAuthorizeOptions } from './authorize.js';
import { errorResponse } from './errors.js';
import { type HttpConfig, type HttpOptions, resolveHttpConfig } from './options.js';
import { clearTokenCookies, tokenResponse } from './tokens.js';
import type { Authorized, AuthorizeOptions, HttpRequest, HttpResponse, TokenTransport } from './types.js';

export interface SessionHttp {
  readonly sessions: Sessions;
  readonly config: HttpConfig;
  /** Finds, CSRF-checks and verifies a token (see `AuthorizeOptions`). Throws typed errors. */
  authorize(request: HttpRequest, options?: AuthorizeOptions): Promise<Authorized>;
  /**
   * `authorize` with options already checked (`checkAuthorizeOptions`, once per middleware),
   * answered synchronously (or thrown) when no I/O is needed, else a promise. For adapters.
   */
  authorizeEager(request: HttpRequest, options: AuthorizeOptions): Authorized | Promise<Authorized>;
  /** Maps any error to a response (unexpected ones are logged and become a generic 500). */
  errorResponse(error: unknown, request?: HttpRequest): HttpResponse;
  /** The login/refresh response for a token pair in a transport (SPEC §5 shapes). */
  tokenResponse(pair: TokenPair, transport: TokenTransport): HttpResponse;
  /** `Set-Cookie` values expiring both token cookies (logout). */
  clearCookies(): string[];
}

export function createSessionHttp(sessions: Sessions, options: HttpOptions = {}): SessionHttp {
  const config = resolveHttpConfig(options);
  return {
    sessions,
    config,
    authorize(request, opts = {}) {
      checkAuthorizeOptions(opts);
      return authorize(sessions, config, request, opts);
    },
    authorizeEager: (request, opts) => authorizeEager(sessions, config, request, opts),
    errorResponse: (error, request) => errorResponse(error, config, request),
    tokenResponse: (pair, transport) => tokenResponse(pair, transport, config),
    clearCookies: () => clearTokenCookies(config),
  };
}

/** Accepts a ready `SessionHttp` or builds one (adapter option convenience). */
export function toSessionHttp(source: SessionHttp | Sessions, options?: HttpOptions): SessionHttp {
  return isSessionHttp(source) ? source : createSessionHttp(source, options);
}

export function isSessionHttp(value: unknown): value is SessionHttp {
  return (
    typeof value === 'object' &&
    value !== null &&
    'config' in value &&
    'authorize' in value &&
    typeof (value as SessionHttp).authorize === 'function'
  );
}

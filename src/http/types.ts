/**
 * The framework-neutral request and response. Each adapter translates its framework's request
 * into an `HttpRequest` and applies an `HttpResponse` (or a `ResponsePatch`) back: everything
 * else — token lookup, CSRF, errors, routes — lives in the core and is the same for every adapter.
 */
import type { AccessClaims, RefreshClaims, VerifyMode } from '../session/types.js';

/** What a body reader hands back: raw bytes, a value a framework body parser already produced, or nothing. */
export type RawBody = { bytes: Uint8Array } | { parsed: unknown } | null;

export interface HttpRequest {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string;
  /** Path and query as received (logged, never searched for tokens). */
  readonly url: string;
  /**
   * A request header by lower-case name. Repeated headers are joined with `, ` (as the Fetch API
   * does), so a repeated `Authorization` header never passes as a single token.
   */
  header(name: string): string | undefined;
  /** Client address as the framework reports it (honouring its proxy settings), if known. */
  readonly ip?: string | null | undefined;
  /**
   * The scheme the client used, for a DPoP proof's `htu` when no `dpop.origin` is configured and
   * `url` is a path. Default `http`.
   */
  readonly protocol?: 'http' | 'https' | undefined;
  /**
   * Reads the body, refusing more than `limit` bytes with `payload_too_large`. Resolves null when
   * the request has no body. Only the JSON routes call it.
   */
  readBody?(limit: number): Promise<RawBody>;
}

/** Headers and cookies to add to whatever response the application sends. */
export interface ResponsePatch {
  /** Lower-case header names. `vary` and `access-control-expose-headers` are lists: merge them. */
  headers: Record<string, string>;
  /** Complete `Set-Cookie` values. */
  cookies: string[];
}

export interface HttpResponse extends ResponsePatch {
  status: number;
  /** A JSON-serialisable body, or undefined for an empty body (204). */
  body?: unknown;
}

/** Where a token may come from: jwt_sessions' `authorize_*` (any), `authorize_by_*_header!`, `authorize_by_*_cookie!`. */
export type Transport = 'header' | 'cookie' | 'any';

/** The transport a token actually came by. */
export type TokenTransport = 'header' | 'cookie';

/**
 * What is being authorized:
 * - `access` — an access token (jwt_sessions `authorize_access_request!`);
 * - `refresh` — a refresh token (`authorize_refresh_request!`);
 * - `refresh_by_access` — an access token, expired or not, to refresh by
 *   (`authorize_refresh_by_access_request!`): signature and every claim but `exp` verified.
 */
export type AuthorizeKind = 'access' | 'refresh' | 'refresh_by_access';

export interface AuthorizeOptions {
  /** Default `any`: header first, then cookie. */
  transport?: Transport;
  /** Default `access`. */
  kind?: AuthorizeKind;
  /** Access tokens only: `strict` (default: the engine's) or `stateless`. */
  mode?: VerifyMode;
  /** Extra exact claim expectations (jwt_sessions `token_claims`). */
  claims?: Record<string, unknown>;
  /**
   * Access tokens only: `required` accepts only a DPoP-bound token with its proof on this route
   * (an unbound token is `dpop_proof_missing`). Bound tokens always need their proof.
   */
  dpop?: 'required';
}

/** The authorized session, as `req.jwtSession` / `request.jwtSession` / `c.get('jwtSession')`. */
export interface JwtSession {
  kind: AuthorizeKind;
  /** Where the token came from; cookie requests on unsafe methods passed the CSRF check. */
  transport: TokenTransport;
  /** The raw token found (jwt_sessions `found_token`). */
  token: string;
  /** Verified claims (jwt_sessions `payload`): the user payload plus `sid`, `jti`, `iat`, `exp`. */
  claims: AccessClaims | RefreshClaims;
  sessionId: string;
  /** The session's namespace (e.g. a user id); null when the session has none or in stateless mode. */
  namespace: string | null;
  /** Set when sliding expiration renewed the access token; already in the response patch. */
  renewedAccess?: { token: string; expiresAt: Date };
}

export interface Authorized {
  session: JwtSession;
  /** Headers/cookies to add to the response (sliding expiration). */
  patch: ResponsePatch;
}

/**
 * HTTP layer options and their resolved, validated form. Everything is checked once, when the
 * HTTP layer is created, so a bad cookie prefix or header name fails at start-up.
 */
import { ConfigurationError, JwtSessionsError } from '../errors.js';
import type { VerifyMode } from '../session/types.js';
import { isHttpToken } from './bearer.js';
import { type CookieAttributes, type SameSite, validateCookieConfig } from './cookies.js';
import { type DpopConfig, type DpopHttpOptions, resolveDpopConfig } from './dpop.js';
import { type OriginCheck, type OriginCheckOptions, resolveOriginCheck } from './origin.js';
import type { HttpRequest } from './types.js';

export interface CookieOptions {
  /** Default `jwt_access` / `jwt_refresh`. A `__Host-` name needs Secure, Path=/ and no Domain. */
  name?: string;
  /** Default `/`. Scope the refresh cookie to your refresh route's prefix (e.g. `/auth`). */
  path?: string;
  domain?: string;
  /** Default `Lax`. */
  sameSite?: SameSite;
  /** Default true (browsers accept Secure cookies on http://localhost). */
  secure?: boolean;
}

export interface HttpOptions {
  /** Access token header. Default `Authorization` (`Bearer <token>`); another name takes a bare token or Bearer. */
  accessHeader?: string;
  /** Default `X-Refresh-Token` (bare token or Bearer). */
  refreshHeader?: string;
  /** Default `X-CSRF-Token`. */
  csrfHeader?: string;
  /** Access cookie (always HttpOnly). */
  accessCookie?: CookieOptions;
  /** Refresh cookie (always HttpOnly); may be path-scoped. */
  refreshCookie?: CookieOptions;
  /**
   * Response header carrying a renewed access token (sliding expiration; enable it with the
   * engine's `slidingRenewAfter`). Default `Authorization` (value `Bearer <token>`); another name
   * gets the bare token. Cookie clients get a new access cookie instead.
   */
  slidingHeader?: string;
  /** Authorization schemes read as absent. Default `['Basic', 'Digest']`. */
  ignoredSchemes?: string[];
  /** Tokens (from a header or a cookie) longer than this are refused before parsing. Default 8192. */
  maxTokenBytes?: number;
  /** A `Cookie` header longer than this is not parsed. Default 16384. */
  maxCookieHeaderBytes?: number;
  /** JSON bodies of the routes. Default 16384 (16 KiB). */
  maxBodyBytes?: number;
  /**
   * Origin / Fetch-Metadata check on unsafe requests authenticated by cookie (a second line behind
   * the CSRF token). Default off; `true` = on with no allowlist (same-origin only).
   */
  originCheck?: OriginCheckOptions | boolean;
  /** Default verify mode for `authorize` (default: the engine's, i.e. strict). */
  mode?: VerifyMode;
  /** `realm` in `WWW-Authenticate`. Default none. */
  realm?: string;
  /**
   * Called with unexpected errors (answered 500 with a generic body) and with store errors
   * (answered 503 without their detail, which is here: the missing table, the refused connection).
   * Default: one line on stderr (a stack only for unexpected errors).
   */
  onError?: (error: unknown, request: HttpRequest | undefined) => void;
  /**
   * Milliseconds clock for cookie lifetimes and refresh-by-access token checks. Default Date.now;
   * pass the engine's clock when you give the engine one (tests).
   */
  clock?: () => number;
  /** DPoP (RFC 9449) sender-constrained sessions. Default `{ mode: 'off' }`. */
  dpop?: DpopHttpOptions;
}

export interface CookieConfig {
  name: string;
  attributes: CookieAttributes;
}

export interface HttpConfig {
  accessHeader: string;
  accessHeaderIsAuthorization: boolean;
  refreshHeader: string;
  csrfHeader: string;
  accessCookie: CookieConfig;
  refreshCookie: CookieConfig;
  slidingHeader: string;
  /** The header name as sent (original case), for `Access-Control-Expose-Headers`. */
  slidingHeaderName: string;
  ignoredSchemes: ReadonlySet<string>;
  maxTokenBytes: number;
  /** Longest token header accepted: the token plus room for `Bearer` and whitespace. */
  maxHeaderBytes: number;
  maxCookieHeaderBytes: number;
  maxBodyBytes: number;
  originCheck: OriginCheck | null;
  mode: VerifyMode | undefined;
  realm: string | undefined;
  onError: (error: unknown, request: HttpRequest | undefined) => void;
  clock: () => number;
  /** Null when DPoP is off. */
  dpop: DpopConfig | null;
}

function headerName(option: string, value: string | undefined, fallback: string): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || !isHttpToken(name))
    throw new ConfigurationError(`${option} must be a header name`);
  return name;
}

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigurationError(`${option} must be a positive integer`);
  return n;
}

function cookieConfig(option: string, value: CookieOptions | undefined, defaultName: string): CookieConfig {
  const opts = value ?? {};
  const name = opts.name ?? defaultName;
  const sameSite = opts.sameSite ?? 'Lax';
  if (sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') {
    throw new ConfigurationError(`${option}.sameSite must be Strict, Lax or None`);
  }
  const attributes: CookieAttributes = {
    path: opts.path ?? '/',
    domain: opts.domain,
    secure: opts.secure ?? true,
    httpOnly: true,
    sameSite,
  };
  validateCookieConfig(name, attributes);
  return { name, attributes };
}

function defaultOnError(error: unknown, request: HttpRequest | undefined): void {
  // The path only: a query string is never a place to log.
  const where = request ? ` on ${request.method} ${request.url.split('?', 1)[0]}` : '';
  if (error instanceof JwtSessionsError)
    console.error(`jwt-sessions: ${error.code}${where}: ${error.message}`);
  else console.error(`jwt-sessions: unexpected error${where}`, error);
}

export function resolveHttpConfig(options: HttpOptions = {}): HttpConfig {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('HTTP options must be an object');
  const accessHeader = headerName('accessHeader', options.accessHeader, 'Authorization');
  const slidingHeaderName = headerName('slidingHeader', options.slidingHeader, 'Authorization');
  const accessCookie = cookieConfig('accessCookie', options.accessCookie, 'jwt_access');
  const refreshCookie = cookieConfig('refreshCookie', options.refreshCookie, 'jwt_refresh');
  if (accessCookie.name === refreshCookie.name) {
    throw new ConfigurationError('the access and refresh cookies need different names');
  }
  const maxTokenBytes = positiveInt('maxTokenBytes', options.maxTokenBytes, 8192);
  const ignored = options.ignoredSchemes ?? ['Basic', 'Digest'];
  if (!Array.isArray(ignored) || ignored.some((s) => typeof s !== 'string' || !isHttpToken(s))) {
    throw new ConfigurationError('ignoredSchemes must be a list of scheme names');
  }
  if (ignored.some((s) => s.toLowerCase() === 'bearer'))
    throw new ConfigurationError('Bearer cannot be ignored');
  const mode = options.mode;
  if (mode !== undefined && mode !== 'strict' && mode !== 'stateless') {
    throw new ConfigurationError("mode must be 'strict' or 'stateless'");
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new ConfigurationError('clock must be a function returning milliseconds');
  }
  if (options.realm !== undefined && !/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(options.realm)) {
    throw new ConfigurationError('realm must be printable ASCII without quotes or backslashes');
  }
  return {
    accessHeader: accessHeader.toLowerCase(),
    accessHeaderIsAuthorization: accessHeader.toLowerCase() === 'authorization',
    refreshHeader: headerName('refreshHeader', options.refreshHeader, 'X-Refresh-Token').toLowerCase(),
    csrfHeader: headerName('csrfHeader', options.csrfHeader, 'X-CSRF-Token').toLowerCase(),
    accessCookie,
    refreshCookie,
    slidingHeader: slidingHeaderName.toLowerCase(),
    slidingHeaderName,
    ignoredSchemes: new Set(ignored.map((s) => s.toLowerCase())),
    maxTokenBytes,
    maxHeaderBytes: maxTokenBytes + 256,
    maxCookieHeaderBytes: positiveInt('maxCookieHeaderBytes', options.maxCookieHeaderBytes, 16_384),
    maxBodyBytes: positiveInt('maxBodyBytes', options.maxBodyBytes, 16_384),
    originCheck: resolveOriginCheck(options.originCheck),
    mode,
    realm: options.realm,
    onError: options.onError ?? defaultOnError,
    clock: options.clock ?? Date.now,
    dpop: resolveDpopConfig(options.dpop),
  };
}

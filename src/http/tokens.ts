/**
 * Token responses (login, refresh) in either transport, and the cookies that carry or clear them.
 *
 * Header transport: the tokens in the JSON body plus `Authorization: Bearer <access>` (Rodauth).
 * Cookie transport: HttpOnly cookies and a body without the two tokens (script never sees them);
 * the CSRF token is in the body either way. Always `Cache-Control: no-store`.
 *
 * Both cookies live until the refresh token expires: an expired access token in a cookie is still
 * refused by verification, and keeping it lets a client refresh by access token.
 */
import type { TokenPair } from '../session/types.js';
import { serializeCookie, serializeExpiredCookie } from './cookies.js';
import { NO_STORE } from './errors.js';
import type { CookieConfig, HttpConfig } from './options.js';
import type { HttpResponse, TokenTransport } from './types.js';

/** The JSON body of a login or refresh response (SPEC §5); cookie transport leaves the tokens out. */
export function tokenBody(pair: TokenPair, transport: TokenTransport): Record<string, string> {
  const times = {
    token_type: pair.jkt === undefined ? 'Bearer' : 'DPoP',
    csrf: pair.csrf,
    access_expires_at: pair.accessExpiresAt.toISOString(),
    refresh_expires_at: pair.refreshExpiresAt.toISOString(),
    session_id: pair.sessionId,
  };
  return transport === 'header'
    ? { access_token: pair.access, refresh_token: pair.refresh, ...times }
    : times;
}

function cookieUntil(cookie: CookieConfig, value: string, expiresAt: Date, now: number): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000));
  return serializeCookie(cookie.name, value, { ...cookie.attributes, maxAge, expires: expiresAt });
}

/** `Set-Cookie` values for a new token pair. */
export function tokenCookies(pair: TokenPair, config: HttpConfig, now = config.clock()): string[] {
  return [
    cookieUntil(config.accessCookie, pair.access, pair.refreshExpiresAt, now),
    cookieUntil(config.refreshCookie, pair.refresh, pair.refreshExpiresAt, now),
  ];
}

/** A `Set-Cookie` value for a renewed access token (sliding expiration). */
export function accessCookie(
  token: string,
  expiresAt: Date,
  config: HttpConfig,
  now = config.clock(),
): string {
  return cookieUntil(config.accessCookie, token, expiresAt, now);
}

/** `Set-Cookie` values that expire both cookies, with the attributes they were set with. */
export function clearTokenCookies(config: HttpConfig): string[] {
  return [
    serializeExpiredCookie(config.accessCookie.name, config.accessCookie.attributes),
    serializeExpiredCookie(config.refreshCookie.name, config.refreshCookie.attributes),
  ];
}

/** The 200 response for a login or refresh. */
export function tokenResponse(pair: TokenPair, transport: TokenTransport, config: HttpConfig): HttpResponse {
  if (transport === 'cookie') {
    return {
      status: 200,
      headers: { ...NO_STORE },
      cookies: tokenCookies(pair, config),
      body: tokenBody(pair, 'cookie'),
    };
  }
  return {
    status: 200,
    headers: { ...NO_STORE, authorization: `${pair.jkt === undefined ? 'Bearer' : 'DPoP'} ${pair.access}` },
    cookies: [],
    body: tokenBody(pair, 'header'),
  };
}

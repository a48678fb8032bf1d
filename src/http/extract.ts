/**
 * Finding a token in a request: the header first, then the cookie (jwt_sessions' order). A header
 * that is present but malformed ends the search — it never falls back to a cookie. Tokens are
 * never read from the URL. Header values and the Cookie header are size-capped before parsing.
 */
import { RequestError, TokenFormatError } from '../errors.js';
import { type HeaderToken, isTokenChars, parseAuthorization, parseTokenHeader } from './bearer.js';
import { lookupCookie, parseCookieHeader } from './cookies.js';
import type { CookieConfig, HttpConfig } from './options.js';
import type { HttpRequest, TokenTransport, Transport } from './types.js';

export interface FoundToken {
  token: string;
  transport: TokenTransport;
}

function fromHeader(
  request: HttpRequest,
  config: HttpConfig,
  name: string,
  parse: (v: string, config: HttpConfig) => HeaderToken,
) {
  const value = request.header(name);
  if (value !== undefined && value.length > config.maxHeaderBytes) {
    throw new TokenFormatError('token_too_large', `${name} header is too large`);
  }
  const parsed = value === undefined ? ({ kind: 'absent' } as const) : parse(value, config);
  if (parsed.kind === 'malformed') throw new TokenFormatError('token_malformed', parsed.reason);
  if (parsed.kind === 'token' && parsed.token.length > config.maxTokenBytes) {
    throw new TokenFormatError('token_too_large', 'token is too large');
  }
  return parsed.kind === 'token' ? parsed.token : undefined;
}

/** Reads one of our cookies; undefined when absent. Refuses a name sent twice (cookie tossing). */
export function readTokenCookie(
  request: HttpRequest,
  config: HttpConfig,
  cookie: CookieConfig,
): string | undefined {
  const header = request.header('cookie');
  if (header === undefined) return undefined;
  if (header.length > config.maxCookieHeaderBytes) {
    throw new TokenFormatError('token_too_large', 'cookie header is too large');
  }
  const found = lookupCookie(parseCookieHeader(header), cookie.name);
  if (found.kind === 'ambiguous') {
    throw new RequestError('bad_request', `ambiguous cookie: "${cookie.name}" was sent more than once`);
  }
  if (found.kind === 'absent') return undefined;
  if (found.value.length > config.maxTokenBytes)
    throw new TokenFormatError('token_too_large', 'token is too large');
  if (!isTokenChars(found.value))
    throw new TokenFormatError('token_malformed', `cookie "${cookie.name}" is malformed`);
  return found.value;
}

function find(
  request: HttpRequest,
  config: HttpConfig,
  transport: Transport,
  headerName: string,
  parse: (value: string, config: HttpConfig) => HeaderToken,
  cookie: CookieConfig,
  what: string,
): FoundToken {
  if (transport !== 'cookie') {
    const token = fromHeader(request, config, headerName, parse);
    if (token !== undefined) return { token, transport: 'header' };
  }
  if (transport !== 'header') {
    const token = readTokenCookie(request, config, cookie);
    if (token !== undefined) return { token, transport: 'cookie' };
  }
  throw new TokenFormatError('token_missing', `${what} token missing`);
}

/** Parses the access header: `Authorization` (with the ignored schemes) or a bare token header. */
function parseAccessHeader(value: string, config: HttpConfig): HeaderToken {
  return config.accessHeaderIsAuthorization
    ? parseAuthorization(value, config.ignoredSchemes)
    : parseTokenHeader(value);
}

/** The access token: `Authorization: Bearer` (or the configured header), then the access cookie. */
export function findAccessToken(request: HttpRequest, config: HttpConfig, transport: Transport): FoundToken {
  return find(
    request,
    config,
    transport,
    config.accessHeader,
    parseAccessHeader,
    config.accessCookie,
    'access',
  );
}

/** The refresh token: `X-Refresh-Token` (bare or Bearer), then the refresh cookie. */
export function findRefreshToken(request: HttpRequest, config: HttpConfig, transport: Transport): FoundToken {
  return find(
    request,
    config,
    transport,
    config.refreshHeader,
    parseTokenHeader,
    config.refreshCookie,
    'refresh',
  );
}

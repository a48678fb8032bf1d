/**
 * Errors → HTTP. Typed errors keep their status and `{error, code}` body; token problems (401)
 * carry `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3); an outage is 503 with
 * `Retry-After`. Anything unexpected is logged and answered 500 with a generic body: never a
 * stack, a message from a dependency, or any other internal detail.
 */
import { JwtSessionsError } from '../errors.js';
import type { HttpConfig } from './options.js';
import type { HttpRequest, HttpResponse } from './types.js';

/** Headers every response carrying a token or an auth error gets. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

const CLIENT_STATUSES = new Set([400, 401, 403, 404, 413, 415, 503]);

/**
 * A library error answered with its own status and `{error, code}` body; anything else (a
 * configuration error, a bug, a dependency's error) is answered 500 with a generic body.
 */
export function isAnsweredError(error: unknown): error is JwtSessionsError {
  return error instanceof JwtSessionsError && CLIENT_STATUSES.has(error.status);
}

/** A JSON response with `Cache-Control: no-store`. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return { status, headers: { ...NO_STORE, ...headers }, cookies: [], body };
}

function wwwAuthenticate(error: JwtSessionsError, realm: string | undefined): string {
  const params: string[] = [];
  if (realm !== undefined) params.push(`realm="${realm}"`);
  // RFC 6750 §3.1: a request without credentials gets no error code; a failed login is not a token problem.
  if (error.code !== 'token_missing' && error.code !== 'invalid_credentials')
    params.push('error="invalid_token"');
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/** Maps any thrown value to a response. Unexpected errors go to `config.onError`. */
export function errorResponse(error: unknown, config: HttpConfig, request?: HttpRequest): HttpResponse {
  if (isAnsweredError(error)) {
    const headers: Record<string, string> = {};
    if (error.status === 401) headers['www-authenticate'] = wwwAuthenticate(error, config.realm);
    if (error.status === 503) headers['retry-after'] = '1';
    // The rest of an oversized body is not read: do not keep the connection for the next request.
    if (error.status === 413) headers.connection = 'close';
    return jsonResponse(error.status, { error: error.message, code: error.code }, headers);
  }
  try {
    config.onError(error, request);
  } catch {
    // A failing logger must not turn into an unhandled rejection.
  }
  return jsonResponse(500, { error: 'internal server error', code: 'internal_error' });
}

/**
 * Errors → HTTP. Typed errors keep their status and `{error, code}` body; token problems (401)
 * carry `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3); an outage is 503 with
 * `Retry-After`. Anything unexpected is logged and answered 500 with a generic body: never a
 * stack, a message from a dependency, or any other internal detail.
 *
 * Frameworks refuse some requests on their own — a malformed URL, an over-long path parameter, a
 * body their parser rejects, headers Node's parser rejects — with bodies of their own that echo
 * the request. `frameworkRequestError` and `answerClientError` turn those into the same
 * `{error, code}` shape with `no-store`, without a word of the request: every adapter (and any
 * new one) routes its framework's errors through them.
 */
import type { Duplex } from 'node:stream';
import {
  DpopError,
  JwtSessionsError,
  RequestError,
  type RequestErrorCode,
  StoreUnavailableError,
} from '../errors.js';
import { dpopChallenge } from './dpop.js';
import type { HttpConfig } from './options.js';
import type { HttpRequest, HttpResponse } from './types.js';

/** Headers every response carrying a token or an auth error gets. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/**
 * A library error answered with its own status and `{error, code}` body (a 4xx, or a store's 503);
 * anything else (a configuration error, a bug, a dependency's error) is answered 500 with a
 * generic body.
 */
export function isAnsweredError(error: unknown): error is JwtSessionsError {
  return (
    error instanceof JwtSessionsError && ((error.status >= 400 && error.status < 500) || error.status === 503)
  );
}

/** A JSON response with `Cache-Control: no-store`. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return { status, headers: { ...NO_STORE, ...headers }, cookies: [], body };
}

/** What clients are told about a store failure; the detail (which table, which host) is for onError. */
const STORE_PUBLIC_MESSAGES: Record<string, string> = {
  store_unavailable: 'session store unavailable',
  store_misconfigured: 'session store is not set up correctly; the server log says why',
};

/** Fixed messages for framework refusals, by status: a framework's own message may echo the request. */
const REFUSALS: Record<number, [RequestErrorCode, string]> = {
  400: ['bad_request', 'bad request'],
  404: ['not_found', 'not found'],
  405: ['method_not_allowed', 'method not allowed'],
  408: ['request_timeout', 'request timed out'],
  413: ['payload_too_large', 'request body is too large'],
  414: ['uri_too_long', 'request URL or path parameter is too long'],
  415: ['unsupported_media_type', 'unsupported content type'],
  431: ['headers_too_large', 'request headers are too large'],
};

/** The typed error for a request a framework refused with `status` (any 4xx). */
export function refusedRequest(status: number): RequestError {
  const known = REFUSALS[status];
  if (known !== undefined) return new RequestError(known[0], known[1]);
  return new RequestError('bad_request', 'request refused', status >= 400 && status < 500 ? status : 400);
}

const MALFORMED_URL = 'malformed URL (invalid percent-encoding)';

function statusOf(error: { statusCode?: unknown; status?: unknown }): number | null {
  const status = typeof error.statusCode === 'number' ? error.statusCode : error.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/**
 * A framework's own refusal of a request as the library's typed error, or null when `error` is
 * not one. Recognised: Fastify's `FST_ERR_*` client errors (bad URL, over-long parameter,
 * content-type and body parser errors), Express body-parser errors (`type`, e.g.
 * `entity.parse.failed`), and a `URIError` from decoding a path (Express route parameters). An
 * adapter recognises whatever else its framework throws (Hono's `HTTPException`) and passes the
 * status to `refusedRequest`. Errors an application throws itself are not framework refusals.
 */
export function frameworkRequestError(error: unknown): RequestError | null {
  if (error instanceof JwtSessionsError || typeof error !== 'object' || error === null) return null;
  const fields = error as { statusCode?: unknown; status?: unknown; code?: unknown; type?: unknown };
  // Fastify's URL errors are URIErrors too: the over-long parameter one is a 414.
  if (fields.code === 'FST_ERR_MAX_PARAM_LENGTH') return refusedRequest(414);
  if (error instanceof URIError) return new RequestError('bad_request', MALFORMED_URL);
  const status = statusOf(fields);
  if (status === null) return null;
  const code = typeof fields.code === 'string' ? fields.code : '';
  const fromFastify = code.startsWith('FST_ERR_');
  const fromBodyParser = typeof fields.type === 'string';
  if (!fromFastify && !fromBodyParser) return null;
  if (
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    fields.type === 'entity.parse.failed'
  ) {
    return new RequestError('invalid_json', 'request body is not valid JSON');
  }
  return refusedRequest(status);
}

function wwwAuthenticate(error: JwtSessionsError, realm: string | undefined): string {
  const params: string[] = [];
  if (realm !== undefined) params.push(`realm="${realm}"`);
  // RFC 6750 §3.1: a request without credentials gets no error code; a failed login is not a token problem.
  if (error.code !== 'token_missing' && error.code !== 'invalid_credentials')
    params.push('error="invalid_token"');
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/** Hands an error to `config.onError` (the log); a throwing logger is swallowed. */
export function reportError(config: HttpConfig, error: unknown, request?: HttpRequest): void {
  try {
    config.onError(error, request);
  } catch {
    // A failing logger must not turn into an unhandled rejection.
  }
}

/**
 * Maps any thrown value to a response: library errors, framework refusals (see
 * `frameworkRequestError`), store failures (503, their detail reported to `config.onError`, never
 * sent), anything else 500 (reported).
 */
export function errorResponse(error: unknown, config: HttpConfig, request?: HttpRequest): HttpResponse {
  const answered = frameworkRequestError(error) ?? error;
  if (isAnsweredError(answered)) {
    const headers: Record<string, string> = {};
    let message = answered.message;
    if (answered instanceof DpopError) Object.assign(headers, dpopChallenge(answered, config));
    else if (answered.status === 401) headers['www-authenticate'] = wwwAuthenticate(answered, config.realm);
    if (answered instanceof StoreUnavailableError) {
      headers['retry-after'] = '1';
      message = STORE_PUBLIC_MESSAGES[answered.code] ?? 'session store unavailable';
      reportError(config, answered, request);
    }
    // The rest of an oversized body is not read: do not keep the connection for the next request.
    if (answered.status === 413) headers.connection = 'close';
    return jsonResponse(answered.status, { error: message, code: answered.code }, headers);
  }
  reportError(config, error, request);
  return jsonResponse(500, { error: 'internal server error', code: 'internal_error' });
}

/** What `answerClientError` answered, for the application's log. */
export interface ClientErrorEvent {
  status: number;
  code: string;
  /** Node's parser code, e.g. `HPE_HEADER_OVERFLOW`. */
  reason: string;
  /** The client's address, when the socket knows it. */
  ip: string | null;
}

/**
 * Answers a request Node's HTTP parser refused (oversized headers 431, a timeout 408, anything
 * malformed 400) in the `{error, code}` shape with `no-store`, then closes the connection. Returns
 * what it answered, or null when the connection is already gone (nothing to answer).
 *
 * Use it as Node's `clientError` listener (`server.on('clientError', …)`, Express and Hono on
 * `@hono/node-server`) or as Fastify's `clientErrorHandler`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): ClientErrorEvent | null {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return null;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const refusal =
    status === 400 ? new RequestError('bad_request', 'malformed HTTP request') : refusedRequest(status);
  const body = JSON.stringify({ error: refusal.message, code: refusal.code });
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    408: 'Request Timeout',
    431: 'Request Header Fields Too Large',
  };
  socket.end(
    `HTTP/1.1 ${status} ${reasons[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n\r\n' +
      body,
  );
  const address = (socket as { remoteAddress?: string }).remoteAddress;
  return { status, code: refusal.code, reason: error.code ?? 'unknown', ip: address ?? null };
}

/**
 * A `clientError` listener answering with `answerClientError` and telling `log` (for the request
 * log line the framework cannot write: no request was parsed).
 */
export function clientErrorListener(
  log?: (event: ClientErrorEvent) => void,
): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    const event = answerClientError(error, socket);
    if (event !== null && log !== undefined) {
      try {
        log(event);
      } catch {
        // A failing logger must not break the server.
      }
    }
  };
}

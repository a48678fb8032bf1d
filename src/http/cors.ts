/**
 * CORS for the ready-made routes (Rodauth's jwt_cors): reflect an allowed `Origin`, expose the
 * `Authorization` (and sliding) header, allow credentials for cookie clients, answer preflights
 * with 204. A request from an origin that is not allowed gets no CORS headers at all (the browser
 * then withholds the response); `Vary: Origin` is always set so caches keep the variants apart.
 */
import { ConfigurationError } from '../errors.js';
import { compileOriginMatcher, type OriginMatcher } from './origin.js';
import type { HttpRequest, HttpResponse, ResponsePatch } from './types.js';

export interface CorsOptions {
  /** Allowed origins: a list, a RegExp or a predicate (see `OriginMatcher`). */
  origins: OriginMatcher;
  /** `Access-Control-Allow-Credentials: true` (needed by cookie clients). Default true. */
  credentials?: boolean;
  /** Preflight cache, seconds. Default 600. */
  maxAge?: number;
  /** Request headers allowed besides Authorization, Content-Type, X-CSRF-Token and X-Refresh-Token. */
  allowHeaders?: string[];
  /** Response headers exposed besides Authorization and the sliding header. */
  exposeHeaders?: string[];
}

export interface Cors {
  /** Headers for an actual (non-preflight) response. */
  headers(request: HttpRequest): Record<string, string>;
  /** The 204 answer to a preflight `OPTIONS`. */
  preflight(request: HttpRequest, methods: readonly string[]): HttpResponse;
}

/** Merges comma-separated list header values without duplicates (case-insensitive). */
export function mergeHeaderList(existing: string | undefined, added: string): string {
  if (existing === undefined || existing.trim() === '') return added;
  const seen = new Set(
    existing
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean),
  );
  if (seen.has('*')) return existing;
  const extra = added
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '' && !seen.has(v.toLowerCase()));
  return extra.length === 0 ? existing : `${existing}, ${extra.join(', ')}`;
}

/** Headers whose values are lists: adapters merge them with what the response already has. */
export const LIST_HEADERS: ReadonlySet<string> = new Set(['vary', 'access-control-expose-headers']);

/** Adds `patch`'s headers into a header record, merging list headers. */
export function applyPatchHeaders(target: Record<string, string>, patch: ResponsePatch): void {
  for (const [name, value] of Object.entries(patch.headers)) {
    target[name] = LIST_HEADERS.has(name) ? mergeHeaderList(target[name], value) : value;
  }
}

export function createCors(options: CorsOptions, exposed: readonly string[]): Cors {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('cors must be an object');
  const allowed = compileOriginMatcher(options.origins);
  const credentials = options.credentials ?? true;
  const maxAge = options.maxAge ?? 600;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0)
    throw new ConfigurationError('cors.maxAge must be seconds');
  const allowHeaders = [
    'Authorization',
    'Content-Type',
    'X-CSRF-Token',
    'X-Refresh-Token',
    ...(options.allowHeaders ?? []),
  ].join(', ');
  const expose = [...new Set([...exposed, ...(options.exposeHeaders ?? [])])].join(', ');

  const originOf = (request: HttpRequest): string | undefined => {
    const origin = request.header('origin');
    return origin !== undefined && origin !== 'null' && allowed(origin) ? origin : undefined;
  };

  return {
    headers(request) {
      const origin = originOf(request);
      if (origin === undefined) return { vary: 'Origin' };
      return {
        'access-control-allow-origin': origin,
        ...(credentials && { 'access-control-allow-credentials': 'true' }),
        'access-control-expose-headers': expose,
        vary: 'Origin',
      };
    },
    preflight(request, methods) {
      const origin = originOf(request);
      const headers: Record<string, string> = { vary: 'Origin' };
      if (origin !== undefined) {
        headers['access-control-allow-origin'] = origin;
        if (credentials) headers['access-control-allow-credentials'] = 'true';
        headers['access-control-allow-methods'] = [...methods, 'OPTIONS'].join(', ');
        headers['access-control-allow-headers'] = allowHeaders;
        headers['access-control-max-age'] = String(maxAge);
      }
      return { status: 204, headers, cookies: [] };
    },
  };
}

/**
 * Origin allowlists, shared by CORS (which origins may call the routes) and the Fetch-Metadata /
 * Origin check on unsafe cookie requests (a second line behind CSRF tokens).
 */
import { ConfigurationError, ForbiddenError } from '../errors.js';
import type { HttpRequest } from './types.js';

/**
 * Allowed origins: one exact origin (`https://app.example.com`), a RegExp tested against the whole
 * `Origin` value (anchor it), a predicate, or a list mixing exact origins and RegExps. There is no
 * `*`: with credentials a wildcard would hand every site the user's session; pass `() => true` if
 * you really mean it.
 */
export type OriginMatcher = string | RegExp | readonly (string | RegExp)[] | ((origin: string) => boolean);

const normalise = (origin: string): string => origin.replace(/\/+$/, '').toLowerCase();

/** A RegExp without shared state (a global/sticky one would remember `lastIndex` between calls). */
const stateless = (re: RegExp): RegExp => new RegExp(re.source, re.flags.replace(/[gy]/g, ''));

export function compileOriginMatcher(matcher: OriginMatcher): (origin: string) => boolean {
  if (typeof matcher === 'function') {
    return (origin) => {
      try {
        return matcher(origin) === true;
      } catch {
        return false;
      }
    };
  }
  const list: readonly unknown[] =
    typeof matcher === 'string' || matcher instanceof RegExp ? [matcher] : matcher;
  if (!Array.isArray(list))
    throw new ConfigurationError('allowed origins must be a string, a RegExp, a list or a function');
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of list) {
    if (entry instanceof RegExp) patterns.push(stateless(entry));
    else if (typeof entry === 'string' && entry.length > 0) exact.add(normalise(entry));
    else throw new ConfigurationError('allowed origins must be non-empty strings or RegExps');
  }
  if (exact.has('*')) {
    throw new ConfigurationError(
      '"*" is not an allowed origin; pass a function (() => true) to allow every origin',
    );
  }
  return (origin) => exact.has(origin.toLowerCase()) || patterns.some((re) => re.test(origin));
}

export interface OriginCheckOptions {
  /** Origins allowed to make unsafe cookie requests across sites (e.g. your SPA on another host). */
  allowedOrigins?: OriginMatcher;
  /** Accept `Sec-Fetch-Site: same-site` (a sibling subdomain). Default false. */
  allowSameSite?: boolean;
}

export interface OriginCheck {
  allowed: ((origin: string) => boolean) | null;
  allowSameSite: boolean;
}

export function resolveOriginCheck(options: OriginCheckOptions | boolean | undefined): OriginCheck | null {
  if (options === undefined || options === false) return null;
  const opts = options === true ? {} : options;
  return {
    allowed: opts.allowedOrigins === undefined ? null : compileOriginMatcher(opts.allowedOrigins),
    allowSameSite: opts.allowSameSite ?? false,
  };
}

/**
 * The second line behind CSRF tokens for unsafe requests that authenticate by cookie:
 * - an allowlisted `Origin` passes;
 * - `Sec-Fetch-Site: same-origin` or `none` (typed in by the user) passes; `same-site` passes only
 *   when allowed; `cross-site` is refused;
 * - without Fetch Metadata (older browsers, non-browser clients): an `Origin` naming the request's
 *   own `Host` passes; any other `Origin` (`null` included) is refused; no `Origin` at all passes
 *   (the CSRF token is still required). A proxy that rewrites `Host` must pass the public one on
 *   for old browsers' same-origin requests to pass (modern browsers send Fetch Metadata).
 */
export function checkOrigin(request: HttpRequest, check: OriginCheck): void {
  const origin = request.header('origin');
  if (origin !== undefined && origin !== 'null' && check.allowed?.(origin)) return;
  const site = request.header('sec-fetch-site')?.trim().toLowerCase();
  if (site !== undefined && site !== '') {
    if (site === 'same-origin' || site === 'none') return;
    if (site === 'same-site' && check.allowSameSite) return;
    throw new ForbiddenError('origin_refused', 'cross-site request refused');
  }
  if (origin !== undefined && !isOwnOrigin(origin, request.header('host'))) {
    throw new ForbiddenError('origin_refused', 'request origin is not allowed');
  }
}

/** Whether an `Origin` (`scheme://host[:port]`) names the host the request was sent to. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const separator = origin.indexOf('://');
  if (separator === -1) return false;
  const authority = origin.slice(separator + 3).toLowerCase();
  return authority.length > 0 && authority === host.trim().toLowerCase();
}

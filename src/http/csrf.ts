/**
 * CSRF enforcement for cookie transport. A cookie rides along with any request the browser makes,
 * so on unsafe methods (anything but GET, HEAD, OPTIONS) a cookie-authenticated request must also
 * carry the session's masked CSRF token in the `X-CSRF-Token` header — a header a cross-site form
 * or image cannot set, and a token a cross-site script cannot read. The engine compares it with the
 * session's secret in constant time. The optional Origin / Fetch-Metadata check runs first, before
 * any store access. Header-transport requests need neither: the bearer header is the proof.
 */

import type { HttpConfig } from './options.js';
import { checkOrigin } from './origin.js';
import type { HttpRequest, TokenTransport } from './types.js';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** CSRF tokens are 86 characters; anything far longer is refused without being looked at. */
const MAX_CSRF_HEADER = 512;

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** True when this request must pass the CSRF (and origin) check. */
export function needsCsrf(request: HttpRequest, transport: TokenTransport): boolean {
  return transport === 'cookie' && isUnsafeMethod(request.method);
}

/**
 * Runs the origin check (when configured) and returns the CSRF header value to verify — `null`
 * when absent or oversized, which the engine treats as "required but missing" (403 csrf_invalid).
 */
export function csrfForCookieRequest(request: HttpRequest, config: HttpConfig): string | null {
  if (config.originCheck !== null) checkOrigin(request, config.originCheck);
  const value = request.header(config.csrfHeader);
  if (value === undefined || value.length === 0 || value.length > MAX_CSRF_HEADER) return null;
  return value;
}

/**
 * `authorize`: the one request check every adapter's middleware wraps — jwt_sessions'
 * `authorize_access_request!`, `authorize_by_access_header!`, `authorize_by_access_cookie!`,
 * `authorize_refresh_request!` and `authorize_refresh_by_access_request!` in one function:
 *
 *   find the token (header first, then cookie, per `transport`)
 *   → cookie on an unsafe method: origin check, then the CSRF token (via the engine)
 *   → verify with the engine (strict or stateless)
 *   → sliding expiration: a renewed access token goes into the response patch.
 */
import { ConfigurationError, DpopError, SessionError, TokenFormatError } from '../errors.js';
import type { Sessions } from '../session/engine.js';
import type { DpopRequest } from '../session/operations/dpop-binding.js';
import type {
  AccessClaims,
  Payload,
  RefreshClaims,
  VerifiedAccess,
  VerifyAccessOptions,
} from '../session/types.js';
import { csrfForCookieRequest, needsCsrf } from './csrf.js';
import { findDpopAccessToken, nonceHeader, sessionDpop } from './dpop.js';
import { NO_STORE } from './errors.js';
import { type FoundToken, findAccessToken, findRefreshToken } from './extract.js';
import type { HttpConfig } from './options.js';
import { accessCookie } from './tokens.js';
import type {
  Authorized,
  AuthorizeKind,
  AuthorizeOptions,
  HttpRequest,
  JwtSession,
  ResponsePatch,
  Transport,
} from './types.js';

const TRANSPORTS: ReadonlySet<string> = new Set(['header', 'cookie', 'any']);
const KINDS: ReadonlySet<string> = new Set(['access', 'refresh', 'refresh_by_access']);

export const emptyPatch = (): ResponsePatch => ({ headers: {}, cookies: [] });

/** True when a patch adds nothing (the usual case): adapters then skip applying it. No allocation. */
export function patchIsEmpty(patch: ResponsePatch): boolean {
  if (patch.cookies.length > 0) return false;
  for (const _ in patch.headers) return false;
  return true;
}

/** Validates authorize options once (middleware factories call it when they are created). */
export function checkAuthorizeOptions(options: AuthorizeOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('authorize options must be an object');
  if (options.transport !== undefined && !TRANSPORTS.has(options.transport)) {
    throw new ConfigurationError("transport must be 'header', 'cookie' or 'any'");
  }
  if (options.kind !== undefined && !KINDS.has(options.kind)) {
    throw new ConfigurationError("kind must be 'access', 'refresh' or 'refresh_by_access'");
  }
  if (options.mode !== undefined && options.mode !== 'strict' && options.mode !== 'stateless') {
    throw new ConfigurationError("mode must be 'strict' or 'stateless'");
  }
  if (options.dpop !== undefined && options.dpop !== 'required') {
    throw new ConfigurationError("dpop (authorize option) must be 'required' or absent");
  }
}

export async function authorize(
  sessions: Sessions,
  config: HttpConfig,
  request: HttpRequest,
  options: AuthorizeOptions = {},
): Promise<Authorized> {
  return authorizeEager(sessions, config, request, options);
}

/**
 * `authorize`, answered synchronously (or thrown) when nothing needs I/O — a stateless check, or a
 * strict one the store answers at once — else a promise. Adapters call it with options checked
 * once (`checkAuthorizeOptions`) and skip the promise hop on the common path.
 */
export function authorizeEager(
  sessions: Sessions,
  config: HttpConfig,
  request: HttpRequest,
  options: AuthorizeOptions,
): Authorized | Promise<Authorized> {
  const kind: AuthorizeKind = options.kind ?? 'access';
  if (kind !== 'access') return authorizeRenewal(sessions, config, request, options, kind);
  const transport: Transport = options.transport ?? 'any';
  let found: FoundToken;
  let dpop: DpopRequest | undefined;
  if (config.dpop === null) found = findAccessToken(request, config, transport);
  else ({ found, dpop } = findDpopAccessToken(request, config, config.dpop, transport));
  const csrf = needsCsrf(request, found.transport) ? csrfForCookieRequest(request, config) : undefined;
  const mode = options.mode ?? config.mode;
  // Built by assignment, not object spreads: this runs on every authorized request.
  const verifyOptions: VerifyAccessOptions = {};
  if (mode !== undefined) verifyOptions.mode = mode;
  if (options.claims !== undefined) verifyOptions.claims = options.claims;
  if (csrf !== undefined) verifyOptions.csrf = csrf;
  if (dpop !== undefined) verifyOptions.dpop = dpop;
  return sessions.verifyAccessThen(found.token, verifyOptions, (verified) =>
    accessAuthorized(sessions, config, request, options, found, dpop, verified),
  );
}

/** The refresh kinds: always a store read (and no hot path). */
async function authorizeRenewal(
  sessions: Sessions,
  config: HttpConfig,
  request: HttpRequest,
  options: AuthorizeOptions,
  kind: 'refresh' | 'refresh_by_access',
): Promise<Authorized> {
  const transport: Transport = options.transport ?? 'any';
  if (kind === 'refresh') {
    return {
      session: await authorizeRefresh(
        sessions,
        config,
        request,
        findRefreshToken(request, config, transport),
      ),
      patch: emptyPatch(),
    };
  }
  const found =
    config.dpop === null
      ? findAccessToken(request, config, transport)
      : findDpopAccessToken(request, config, config.dpop, transport).found;
  return {
    session: await authorizeRefreshByAccess(sessions, config, request, found, options),
    patch: emptyPatch(),
  };
}

/** The session and response patch of a verified access token (a renewed cookie needs a store read). */
function accessAuthorized(
  sessions: Sessions,
  config: HttpConfig,
  request: HttpRequest,
  options: AuthorizeOptions,
  found: FoundToken,
  dpop: DpopRequest | undefined,
  verified: VerifiedAccess<Payload>,
): Authorized | Promise<Authorized> {
  if (options.dpop === 'required' && verified.claims.cnf === undefined) {
    throw new DpopError('dpop_proof_missing', 'presence', 'this route needs a DPoP-bound access token');
  }
  const session: JwtSession = {
    kind: 'access',
    transport: found.transport,
    token: found.token,
    claims: verified.claims,
    sessionId: verified.sessionId,
    namespace: verified.namespace,
  };
  const patch = emptyPatch();
  if (dpop !== undefined && config.dpop!.nonces !== null)
    Object.assign(patch.headers, nonceHeader(request, config));
  if (verified.renewedAccess === undefined) return { session, patch };
  const renewed = verified.renewedAccess;
  session.renewedAccess = renewed;
  Object.assign(patch.headers, NO_STORE);
  if (found.transport === 'header') {
    const scheme = verified.claims.cnf === undefined ? 'Bearer' : 'DPoP';
    patch.headers[config.slidingHeader] =
      config.slidingHeader === 'authorization' ? `${scheme} ${renewed.token}` : renewed.token;
    patch.headers['access-control-expose-headers'] = config.slidingHeaderName;
    return { session, patch };
  }
  return cookieDeadline(sessions, session).then((deadline) => {
    patch.cookies.push(accessCookie(renewed.token, deadline, config));
    return { session, patch };
  });
}

/** How long a renewed access cookie should live: as long as the session (its refresh token) does. */
async function cookieDeadline(sessions: Sessions, session: JwtSession): Promise<Date> {
  try {
    const info = await sessions.getSession(session.sessionId);
    if (info !== null) return info.expiresAt;
  } catch {
    // The token is already renewed; a shorter-lived cookie is the only cost.
  }
  return session.renewedAccess!.expiresAt;
}

/**
 * A refresh token, verified without being used. A rotated-out one is handed to the engine's
 * refresh so that reuse detection runs (the session is revoked) exactly as if it had been used.
 */
export async function authorizeRefresh(
  sessions: Sessions,
  config: HttpConfig,
  request: HttpRequest,
  found: FoundToken,
): Promise<JwtSession> {
  const csrf = needsCsrf(request, found.transport) ? csrfForCookieRequest(request, config) : undefined;
  const dpop = sessionDpop(request, config);
  const dpopOption = dpop === undefined ? {} : { dpop };
  let verified: Awaited<ReturnType<Sessions['verifyRefresh']>>;
  try {
    verified = await sessions.verifyRefresh(found.token, dpopOption);
  } catch (error) {
    if (error instanceof SessionError && error.code === 'refresh_reused') {
      await sessions.refresh(found.token, dpopOption);
    }
    throw error;
  }
  if (csrf !== undefined) await sessions.verifyCsrf(verified.sessionId, csrf);
  return {
    kind: 'refresh',
    transport: found.transport,
    token: found.token,
    claims: verified.claims as RefreshClaims,
    sessionId: verified.sessionId,
    namespace: verified.namespace,
  };
}

/**
 * An access token to refresh by: signature and every claim but `exp` verified (never a
 * "claimless" decode), the session live, CSRF for cookies on unsafe methods. The engine's
 * `refreshByAccess` then checks that the session allows it and that this is its current token.
 */
async function authorizeRefreshByAccess(
  sessions: Sessions,
  config: HttpConfig,
  request: HttpRequest,
  found: FoundToken,
  options: AuthorizeOptions,
): Promise<JwtSession> {
  const csrf = needsCsrf(request, found.transport) ? csrfForCookieRequest(request, config) : undefined;
  const { payload } = sessions.codec.verify(found.token, {
    typ: 'at+jwt',
    now: config.clock() / 1000,
    ignoreExpiration: true,
    ...(options.claims !== undefined && { expected: options.claims }),
  });
  const sid = payload.sid;
  if (typeof sid !== 'string' || sid.length === 0 || sid.length > 128) {
    throw new TokenFormatError('token_malformed', 'token does not name a session');
  }
  const info = await sessions.getSession(sid);
  if (info === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
  if (csrf !== undefined) await sessions.verifyCsrf(sid, csrf);
  return {
    kind: 'refresh_by_access',
    transport: found.transport,
    token: found.token,
    claims: payload as AccessClaims,
    sessionId: sid,
    namespace: info.namespace,
  };
}

import { ForbiddenError, InvalidPayloadError, SessionError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { csrfTokenMatches } from '../csrf.js';
import { decodeState, type SessionState } from '../state.js';
import type { AccessClaims, LogoutOptions, LogoutResult } from '../types.js';
import { isPlainObject } from '../validate.js';

/**
 * Logout by access token (Rodauth `logout`, jwt_sessions `flush_by_access_payload` with checks):
 * the token's signature and claims verify, its session is live, and it is one of that session's
 * access tokens: the current one, the one a sliding renewal replaced, or the one the latest
 * refresh replaced — so a logout racing a refresh of the same session still ends it (the refresh
 * then fails), instead of answering 401 while the session lives on. `scope: 'all'` ends
 * every session of the namespace. With `csrf` (cookie transport), the CSRF token must match the
 * session's secret, or the one a racing refresh replaced within the grace window.
 *
 * A session that is gone — before, or ended by a racing request — is `session_not_found`.
 */
export async function logout(
  ctx: EngineContext,
  accessToken: string,
  options: LogoutOptions,
): Promise<LogoutResult> {
  if (!isPlainObject(options)) throw new InvalidPayloadError('logout options must be an object');
  const scope = options.scope ?? 'session';
  if (scope !== 'session' && scope !== 'all') {
    throw new InvalidPayloadError("logout scope must be 'session' or 'all'");
  }
  const claims = ctx.verify(accessToken, 'at+jwt', false).payload as AccessClaims;
  const now = ctx.clock();
  const record = await ctx.require(claims.sid, now);
  const state = decodeState(record.data);
  if (claims.jti !== state.a && claims.jti !== state.pa && claims.jti !== state.ra) {
    throw new SessionError('access_revoked', 'access token revoked or superseded');
  }
  if (options.csrf !== undefined && !logoutCsrfMatches(state, options.csrf, now)) {
    throw new ForbiddenError('csrf_invalid', 'CSRF token missing or invalid');
  }
  const namespace = record.namespace;
  let revoked: number;
  if (scope === 'all' && namespace !== null) {
    revoked = await ctx.storeCall(() => ctx.store.deleteNamespace(namespace, now));
    ctx.emit({ type: 'revoke', scope: 'namespace', namespace, count: revoked });
  } else {
    revoked = await ctx.storeCall(() => ctx.store.delete(record.id, now));
    ctx.emit({ type: 'revoke', scope: 'session', sessionId: record.id, count: revoked });
  }
  if (revoked === 0) {
    throw new SessionError('session_not_found', 'session not found, expired or revoked');
  }
  return { revoked, sessionId: record.id, namespace };
}

function logoutCsrfMatches(state: SessionState, token: string | null, now: number): boolean {
  if (csrfTokenMatches(state.c, token)) return true;
  const previous = state.pc;
  return typeof previous === 'string' && now < (state.pcu ?? 0) && csrfTokenMatches(previous, token);
}

/** Revocation in every scope (jwt_sessions `flush_*`, Rodauth logout); each resolves a count. */
import type { EngineContext } from '../context.js';
import type { AccessClaims, RefreshClaims } from '../types.js';
import { checkSessionId, requireNamespace } from '../validate.js';

/** Ends one session (jwt_sessions `flush_by_uid`). Resolves how many sessions ended (0 or 1). */
export async function revokeSession(ctx: EngineContext, sessionId: string): Promise<number> {
  const id = checkSessionId(sessionId);
  const count = await ctx.storeCall(() => ctx.store.delete(id, ctx.clock()));
  ctx.emit({ type: 'revoke', scope: 'session', sessionId: id, count });
  return count;
}

/** Ends the session of a refresh token, expired or not (jwt_sessions `flush_by_token`). */
export async function revokeByRefresh(ctx: EngineContext, refreshToken: string): Promise<number> {
  const claims = ctx.verify(refreshToken, 'rt+jwt', true).payload as RefreshClaims;
  return revokeSession(ctx, claims.sid);
}

/** Ends the session of an access token, expired or not (jwt_sessions `flush_by_access_payload`). */
export async function revokeByAccess(ctx: EngineContext, accessToken: string): Promise<number> {
  const claims = ctx.verify(accessToken, 'at+jwt', true).payload as AccessClaims;
  return revokeSession(ctx, claims.sid);
}

/** Ends every session of a namespace (jwt_sessions `flush_namespaced`, Rodauth logout `all`). */
export async function revokeNamespace(ctx: EngineContext, namespace: string): Promise<number> {
  const ns = requireNamespace(namespace);
  const count = await ctx.storeCall(() => ctx.store.deleteNamespace(ns, ctx.clock()));
  ctx.emit({ type: 'revoke', scope: 'namespace', namespace: ns, count });
  return count;
}

/** Kills the access tokens of a namespace; refresh tokens keep working (jwt_sessions `flush_namespaced_access_tokens`). */
export async function revokeNamespaceAccess(ctx: EngineContext, namespace: string): Promise<number> {
  const ns = requireNamespace(namespace);
  const count = await ctx.storeCall(() => ctx.store.revokeNamespaceAccess(ns, ctx.clock()));
  ctx.emit({ type: 'revoke', scope: 'namespace_access', namespace: ns, count });
  return count;
}

/** Ends every session in the store (jwt_sessions `flush_all`). */
export async function revokeAll(ctx: EngineContext): Promise<number> {
  const count = await ctx.storeCall(() => ctx.store.deleteAll(ctx.clock()));
  ctx.emit({ type: 'revoke', scope: 'all', count });
  return count;
}

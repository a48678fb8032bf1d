import { SessionError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { decodeState } from '../state.js';
import type { DpopRequest, Payload, RefreshClaims } from '../types.js';
import { checkBoundProof } from './dpop-binding.js';

/**
 * Verifies a refresh token without using it (jwt_sessions `authorize_refresh_request!`): the
 * session is live and this is its current generation (or its predecessor within the grace window).
 */
export async function verifyRefresh<R extends Payload>(
  ctx: EngineContext,
  refreshToken: string,
  options: { dpop?: DpopRequest } = {},
): Promise<{ claims: RefreshClaims & R; sessionId: string; namespace: string | null }> {
  const claims = ctx.verify(refreshToken, 'rt+jwt', false).payload as RefreshClaims & R;
  const now = ctx.clock();
  const record = await ctx.require(claims.sid, now);
  const state = decodeState(record.data);
  if (claims.jti !== state.g && !(claims.jti === state.pg && now < state.pgu)) {
    throw new SessionError('refresh_reused', 'refresh token was rotated out');
  }
  // A bound session: the request must prove the key (checked, not recorded: nothing is used here).
  if (state.k !== undefined) checkBoundProof(ctx, state.k, options.dpop, undefined);
  return { claims, sessionId: record.id, namespace: record.namespace };
}

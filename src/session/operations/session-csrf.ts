import type { EngineContext } from '../context.js';
import { maskCsrfSecret, requireCsrfToken } from '../csrf.js';
import { decodeState } from '../state.js';
import { checkSessionId } from '../validate.js';

/** A freshly masked CSRF token for an existing session (jwt_sessions `masked_csrf`). */
export async function csrfToken(ctx: EngineContext, sessionId: string): Promise<string> {
  const record = await ctx.require(checkSessionId(sessionId), ctx.clock());
  return maskCsrfSecret(decodeState(record.data).c);
}

/** Checks a CSRF token against a session's secret; throws `csrf_invalid` when it does not match. */
export async function verifyCsrf(ctx: EngineContext, sessionId: string, token: unknown): Promise<void> {
  const record = await ctx.require(checkSessionId(sessionId), ctx.clock());
  requireCsrfToken(decodeState(record.data).c, token);
}

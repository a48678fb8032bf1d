/**
 * Renewal, by refresh token (jwt_sessions `Session#refresh`, Rodauth jwt-refresh) or by access
 * token (jwt_sessions `refresh_by_access_payload`): rotation, reuse detection, the grace window and
 * the early-refresh hook, as one compare-and-swap loop over the store.
 */
import { InvalidPayloadError, JwtSessionsError, SessionError } from '../../errors.js';
import type { StoredSession } from '../../stores/store.js';
import type { EngineContext } from '../context.js';
import { newCsrfSecret, requireCsrfToken } from '../csrf.js';
import { randomId } from '../ids.js';
import { decodeState, type SessionState } from '../state.js';
import type {
  AccessClaims,
  EarlyRefreshHook,
  Payload,
  RefreshClaims,
  RefreshOptions,
  TokenPair,
} from '../types.js';
import { checkDevice, checkPayload, isPlainObject, type StoredDevice } from '../validate.js';
import { requireBoundProof } from './dpop-binding.js';

/** Compare-and-swap retries before a refresh gives up under extreme contention. */
const MAX_CAS_ATTEMPTS = 8;

/**
 * Renews a session by its refresh token: a new access token (the old one dies at once in strict
 * mode), a new CSRF secret, and by default a rotated refresh token. A rotated-out refresh token
 * revokes the session (`refresh_reused`), except the immediate predecessor within the grace
 * window, which gets the current generation.
 */
export async function refresh<P extends Payload>(
  ctx: EngineContext,
  refreshToken: string,
  options: RefreshOptions<P>,
): Promise<TokenPair> {
  const claims = ctx.verify(refreshToken, 'rt+jwt', false).payload as RefreshClaims;
  return renew(ctx, claims.sid, 'refresh', claims.jti, options, undefined);
}

/**
 * Renews a session by its access token, expired or not. The signature and every claim but `exp`
 * are verified; the session must allow it and the token must be its current access token. The
 * refresh token is left as it is.
 */
export async function refreshByAccess<P extends Payload>(
  ctx: EngineContext,
  accessToken: string,
  options: RefreshOptions<P>,
): Promise<TokenPair> {
  const claims = ctx.verify(accessToken, 'at+jwt', true).payload as AccessClaims;
  return renew(ctx, claims.sid, 'access', claims.jti, options, accessToken);
}

async function renew<P extends Payload>(
  ctx: EngineContext,
  sessionId: string,
  presentedKind: 'refresh' | 'access',
  presentedId: string,
  options: RefreshOptions<P>,
  /** The presented access token (refresh by access): a bound session's proof must hash it (`ath`). */
  accessToken: string | undefined,
): Promise<TokenPair> {
  if (!isPlainObject(options)) throw new InvalidPayloadError('refresh options must be an object');
  const newPayload = options.payload === undefined ? undefined : checkPayload('payload', options.payload);
  const device = options.device === undefined ? undefined : checkDevice(options.device);
  const hook = options.onEarlyRefresh ?? ctx.onEarlyRefresh;
  const startedAt = ctx.clock();

  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const now = ctx.clock();
    const record = await ctx.require(sessionId, now);
    const state = decodeState(record.data);
    const byAccess = presentedKind === 'access';
    // A bound session: the proof is checked (and spent) once, before anything, reuse detection
    // included, can change the store: a stolen refresh token without the key changes nothing.
    if (state.k !== undefined && attempt === 0)
      await requireBoundProof(ctx, state.k, options.dpop, accessToken);

    // The CSRF token is checked against the session as first read (a racing refresh may change it).
    const checkCsrf = attempt === 0 && options.csrf !== undefined;
    if (!byAccess && presentedId !== state.g) {
      if (presentedId === state.pg && now < state.pgu) {
        if (checkCsrf) requireCsrfToken(state.c, options.csrf);
        return replay(ctx, record, state, false);
      }
      await ctx.storeCall(() => ctx.store.delete(record.id, now));
      ctx.emit({ type: 'reuse_detected', sessionId: record.id, namespace: record.namespace });
      throw new SessionError('refresh_reused', 'refresh token reuse detected: the session is revoked');
    }
    if (checkCsrf) requireCsrfToken(state.c, options.csrf);
    if (byAccess) {
      if (!state.rba) {
        throw new SessionError(
          'refresh_by_access_not_allowed',
          'this session cannot be refreshed by access token',
        );
      }
      if (presentedId !== state.a || record.accessRevoked) {
        if (presentedId === state.pa && now < state.pau && !record.accessRevoked) {
          return replay(ctx, record, state, true);
        }
        throw new SessionError('access_revoked', 'access token revoked or superseded');
      }
    }
    // Without rotation, racing refreshes with the same token coalesce onto the winner's tokens.
    if (!byAccess && !ctx.config.rotateRefresh && attempt > 0 && state.rf >= startedAt) {
      return replay(ctx, record, state, false);
    }

    if (hook !== undefined && !record.accessRevoked && state.ae * 1000 > now) {
      await runEarlyRefreshHook(hook, record, state);
    }

    const next = nextState(ctx, state, now, byAccess, newPayload, device);
    // A renewal issues a fresh access token, so a namespace-wide access revocation is over.
    const written = await ctx.writeNext(record, next, now, { accessRevoked: false });
    if (written) {
      ctx.emit({
        type: 'refresh',
        sessionId: record.id,
        namespace: record.namespace,
        byAccess,
        grace: false,
      });
      return ctx.pair(record.id, record.namespace, next);
    }
    // Lost a race: read again; the predecessor/grace rules decide what this caller gets.
  }
  throw new SessionError('refresh_refused', 'too many concurrent refreshes of this session; retry');
}

function nextState(
  ctx: EngineContext,
  state: SessionState,
  now: number,
  byAccess: boolean,
  payload: Payload | undefined,
  device: StoredDevice | undefined,
): SessionState {
  const nowSec = Math.floor(now / 1000);
  const rotate = !byAccess && ctx.config.rotateRefresh;
  const refreshExp = rotate ? ctx.refreshExpiry(nowSec, state.rt, state.ad) : state.ge;
  return {
    ...state,
    p: payload ?? state.p,
    g: rotate ? randomId() : state.g,
    gi: rotate ? nowSec : state.gi,
    ge: refreshExp,
    pg: rotate ? state.g : state.pg,
    pgu: rotate ? now + ctx.config.reuseGraceMs : state.pgu,
    a: randomId(),
    ai: nowSec,
    ae: Math.max(nowSec + 1, Math.min(nowSec + state.at, refreshExp)),
    // A refresh by access keeps the presented token replayable within the grace window
    // (concurrent tabs); a refresh by refresh token ends the old access token at once.
    pa: byAccess ? state.a : null,
    pau: byAccess ? now + ctx.config.reuseGraceMs : 0,
    c: newCsrfSecret(),
    ra: state.a,
    pc: state.c,
    pcu: now + ctx.config.reuseGraceMs,
    rf: now,
    ip: device?.ip ?? state.ip,
    ua: device?.ua ?? state.ua,
  };
}

function replay(
  ctx: EngineContext,
  record: StoredSession,
  state: SessionState,
  byAccess: boolean,
): TokenPair {
  ctx.emit({ type: 'refresh', sessionId: record.id, namespace: record.namespace, byAccess, grace: true });
  return ctx.pair(record.id, record.namespace, state);
}

async function runEarlyRefreshHook(
  hook: EarlyRefreshHook,
  record: StoredSession,
  state: SessionState,
): Promise<void> {
  try {
    await hook({
      sessionId: record.id,
      namespace: record.namespace,
      accessExpiresAt: new Date(state.ae * 1000),
    });
  } catch (error) {
    if (error instanceof JwtSessionsError) throw error;
    throw new SessionError('refresh_refused', 'refresh refused while the access token is still valid', {
      cause: error,
    });
  }
}

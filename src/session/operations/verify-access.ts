import { InvalidPayloadError, SessionError } from '../../errors.js';
import type { StoredSession } from '../../stores/store.js';
import { type EngineContext, same } from '../context.js';
import { requireCsrfToken } from '../csrf.js';
import { randomId } from '../ids.js';
import { recordState, type SessionState } from '../state.js';
import type { AccessClaims, Payload, VerifiedAccess, VerifyAccessOptions } from '../types.js';
import { isPlainObject } from '../validate.js';
import { accessTokenJkt, requireBoundProof } from './dpop-binding.js';

/**
 * Verifies an access token. Strict (default): also the session is live and this is its current
 * access token. Optionally checks a CSRF token, and renews the access token when sliding
 * expiration is on and it is past its share of life.
 */
export function verifyAccess<P extends Payload>(
  ctx: EngineContext,
  accessToken: string,
  options: VerifyAccessOptions,
): Promise<VerifiedAccess<P>> {
  try {
    const result = verifyAccessEager<P>(ctx, accessToken, options);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `verifyAccess`, answered synchronously (or thrown) when nothing needs I/O: stateless, and strict
 * when the store has the record at hand with no touch or renewal due. Otherwise a promise.
 */
export function verifyAccessEager<P extends Payload>(
  ctx: EngineContext,
  accessToken: string,
  options: VerifyAccessOptions,
): VerifiedAccess<P> | Promise<VerifiedAccess<P>> {
  return verifyAccessThen<P, VerifiedAccess<P>>(ctx, accessToken, options, same);
}

/**
 * `verifyAccessEager` continued by `then` (the HTTP layer's next step): when the session read
 * waits on the store, `then` runs in the same promise hop as the checks after it, instead of one
 * hop per layer. What `then` throws passes as it is.
 */
export function verifyAccessThen<P extends Payload, R>(
  ctx: EngineContext,
  accessToken: string,
  options: VerifyAccessOptions,
  then: (verified: VerifiedAccess<P>) => R | Promise<R>,
): R | Promise<R> {
  if (!isPlainObject(options)) throw new InvalidPayloadError('verifyAccess options must be an object');
  const mode = options.mode ?? ctx.config.verifyMode;
  // An unknown mode (a typo such as 'Strict') must never end up as a laxer check than strict.
  if (mode !== 'strict' && mode !== 'stateless') {
    throw new InvalidPayloadError("verifyAccess mode must be 'strict' or 'stateless'");
  }
  const verified = ctx.verify(accessToken, 'at+jwt', false, options.claims);
  const claims = verified.payload as AccessClaims & P;
  if (claims.cnf !== undefined) {
    return requireBoundProof(ctx, accessTokenJkt(claims)!, options.dpop, accessToken).then(() =>
      checkSession(ctx, claims, mode, options.csrf, then),
    );
  }
  return checkSession(ctx, claims, mode, options.csrf, then);
}

/** The part after the token checks: the session read (when needed), CSRF, touch and sliding renewal. */
function checkSession<P extends Payload, R>(
  ctx: EngineContext,
  claims: AccessClaims & P,
  mode: 'strict' | 'stateless',
  csrf: VerifyAccessOptions['csrf'],
  then: (verified: VerifiedAccess<P>) => R | Promise<R>,
): R | Promise<R> {
  const now = ctx.clock();
  const slideDue = isSlideDue(ctx, claims, now);
  if (mode === 'stateless' && csrf === undefined && !slideDue) {
    return then({ claims, sessionId: claims.sid, namespace: null });
  }
  return ctx.requireThen(claims.sid, now, (record) => {
    const result = checkRecord(ctx, claims, record, mode, csrf, now, slideDue);
    return result instanceof Promise ? result.then(then) : then(result);
  });
}

function checkRecord<P extends Payload>(
  ctx: EngineContext,
  claims: AccessClaims & P,
  record: StoredSession,
  mode: 'strict' | 'stateless',
  csrf: VerifyAccessOptions['csrf'],
  now: number,
  slideDue: boolean,
): VerifiedAccess<P> | Promise<VerifiedAccess<P>> {
  const state = recordState(record);
  if (mode !== 'stateless') {
    const current = claims.jti === state.a || (claims.jti === state.pa && now < state.pau);
    if (!current || record.accessRevoked) {
      throw new SessionError('access_revoked', 'access token revoked or superseded');
    }
  }
  if (csrf !== undefined) requireCsrfToken(state.c, csrf);
  const result: VerifiedAccess<P> = { claims, sessionId: record.id, namespace: record.namespace };
  const touchDue = now - record.lastUsedAt >= ctx.config.touchIntervalMs;
  const renew = slideDue && claims.jti === state.a && !record.accessRevoked;
  if (!touchDue && !renew) return result;
  return touchAndSlide(ctx, record, state, now, touchDue, renew, result);
}

async function touchAndSlide<P extends Payload>(
  ctx: EngineContext,
  record: StoredSession,
  state: SessionState,
  now: number,
  touchDue: boolean,
  renew: boolean,
  result: VerifiedAccess<P>,
): Promise<VerifiedAccess<P>> {
  if (touchDue) {
    await ctx.storeCall(() => ctx.store.touch(record.id, now, ctx.sessionExpiry(state, now), now));
  }
  if (renew) {
    const renewed = await slide(ctx, record, state, now);
    if (renewed !== undefined) result.renewedAccess = renewed;
  }
  return result;
}

function isSlideDue(ctx: EngineContext, claims: AccessClaims, now: number): boolean {
  const share = ctx.config.slidingRenewAfter;
  if (share === null) return false;
  const life = claims.exp - claims.iat;
  return life > 0 && now / 1000 - claims.iat >= share * life;
}

/** Sliding expiration: a new access token; the presented one stays valid for the grace window. */
async function slide(
  ctx: EngineContext,
  record: StoredSession,
  state: SessionState,
  now: number,
): Promise<{ token: string; expiresAt: Date } | undefined> {
  const nowSec = Math.floor(now / 1000);
  const next: SessionState = {
    ...state,
    a: randomId(),
    ai: nowSec,
    ae: Math.max(nowSec + 1, Math.min(nowSec + state.at, state.ge)),
    pa: state.a,
    pau: now + Math.max(ctx.config.reuseGraceMs, 1000),
  };
  if (next.ae <= state.ae) return undefined; // nothing to gain: the session ends first
  const written = await ctx.writeNext(record, next, now);
  // Another request renewed first: it carries the new token; this one needs none.
  if (!written) return undefined;
  return { token: ctx.signAccess(record.id, next), expiresAt: new Date(next.ae * 1000) };
}

/**
 * DPoP binding of sessions (RFC 9449, SPEC §9): a login with a verified proof binds the session to
 * the proof key's thumbprint (`jkt`, kept in the session state as `k`); every later use of a bound
 * session — verifying its access token, refreshing it by refresh or by access token — needs a proof
 * by the same key, recorded in the store's replay cache so that one proof is accepted once.
 *
 * The operations call in here only for a bound session or token (one branch on a field), so an
 * unbound session costs nothing. An unbound session never becomes bound by a later request.
 */
import { DpopError } from '../../errors.js';
import {
  assertProofUnused,
  type DpopAlgorithm,
  type VerifiedDpopProof,
  verifyDpopProof,
} from '../../tokens/dpop.js';
import type { EngineContext } from '../context.js';

/** The DPoP part of a request, as the HTTP layer (or any caller) hands it to the engine. */
export interface DpopRequest {
  /** The `DPoP` header value; undefined when the request carried none. */
  proof: string | undefined;
  /** The request method (`htm`). */
  method: string;
  /** The absolute request URL (`htu`; query and fragment ignored). */
  url: string;
  /**
   * How the accompanying token came: `dpop` (`Authorization: DPoP`), `bearer` (any other header:
   * a bound access token sent so is refused), `cookie` (an HttpOnly cookie the page cannot read:
   * the proof carries no `ath`). Default `dpop`.
   */
  via?: 'dpop' | 'bearer' | 'cookie';
  /** Server nonces currently accepted; when given, the proof must carry one of them. */
  nonce?: string | readonly string[];
  maxAgeSeconds?: number;
  clockSkew?: number;
  allowedAlgorithms?: readonly DpopAlgorithm[];
}

function verify(
  ctx: EngineContext,
  dpop: DpopRequest,
  expectedJkt: string | undefined,
  accessToken: string | undefined,
): VerifiedDpopProof {
  return verifyDpopProof(dpop.proof, {
    method: dpop.method,
    url: dpop.url,
    now: ctx.clock() / 1000,
    ...(accessToken !== undefined && { accessToken }),
    ...(expectedJkt !== undefined && { expectedJkt }),
    ...(dpop.nonce !== undefined && { nonce: dpop.nonce }),
    ...(dpop.maxAgeSeconds !== undefined && { maxAgeSeconds: dpop.maxAgeSeconds }),
    ...(dpop.clockSkew !== undefined && { clockSkew: dpop.clockSkew }),
    ...(dpop.allowedAlgorithms !== undefined && { allowedAlgorithms: dpop.allowedAlgorithms }),
  });
}

/** Records a verified proof in the session store's replay cache (atomic across instances). */
function markUsed(ctx: EngineContext, proof: VerifiedDpopProof): Promise<void> {
  return ctx.storeCall(() => assertProofUnused(ctx.store, proof, ctx.clock()));
}

/**
 * The thumbprint a new session is bound to: the key of the login's proof (which carries no `ath`),
 * or undefined when the login carried no proof (the session stays unbound).
 */
export async function loginBinding(
  ctx: EngineContext,
  dpop: DpopRequest | undefined,
): Promise<string | undefined> {
  if (dpop === undefined || dpop.proof === undefined) return undefined;
  const proof = verify(ctx, dpop, undefined, undefined);
  await markUsed(ctx, proof);
  return proof.jkt;
}

/**
 * Checks the proof a use of a bound session (thumbprint `jkt`) must carry: present, by the same
 * key, fresh, unseen. `accessToken` is the token the proof's `ath` must hash (a header transport);
 * a refresh token or a cookie-borne access token goes without (`ath` then must be absent).
 */
export async function requireBoundProof(
  ctx: EngineContext,
  jkt: string,
  dpop: DpopRequest | undefined,
  accessToken: string | undefined,
): Promise<void> {
  await markUsed(ctx, checkBoundProof(ctx, jkt, dpop, accessToken));
}

/**
 * The checks of {@link requireBoundProof} without recording the proof: for verifying a refresh
 * token without using it (the refresh that follows records the same proof).
 */
export function checkBoundProof(
  ctx: EngineContext,
  jkt: string,
  dpop: DpopRequest | undefined,
  accessToken: string | undefined,
): VerifiedDpopProof {
  if (accessToken !== undefined && dpop?.via === 'bearer') {
    throw new DpopError(
      'dpop_bound_token',
      'scheme',
      'a DPoP-bound access token must be sent with the DPoP authorization scheme',
    );
  }
  if (dpop === undefined || dpop.proof === undefined) {
    throw new DpopError(
      'dpop_proof_missing',
      'presence',
      'this session is DPoP-bound: a DPoP proof is required',
    );
  }
  return verify(ctx, dpop, jkt, dpop.via === 'cookie' ? undefined : accessToken);
}

/** The `jkt` an access token is bound to (its `cnf.jkt`), or undefined for an unbound token. */
export function accessTokenJkt(claims: { cnf?: unknown }): string | undefined {
  const cnf = claims.cnf;
  if (cnf === undefined) return undefined;
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
  // A token we signed always has a string here; anything else is refused, never read as unbound.
  if (typeof jkt !== 'string' || jkt.length === 0) {
    throw new DpopError('dpop_proof_invalid', 'jkt', 'the access token has an unusable cnf claim');
  }
  return jkt;
}

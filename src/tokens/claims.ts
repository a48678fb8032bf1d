/**
 * Claim checks, run only after the signature verified (so an expired token with a bad signature
 * reports the signature, never "expired").
 *
 * - `exp` is required and must be a safe integer; the token is expired when `now >= exp + leeway`
 *   (leeway 0 by default: `exp` is exact).
 * - `nbf` / `iat`, when present, must be finite numbers; `now + leeway < nbf` or
 *   `now + leeway < iat` means not yet valid.
 * - `iss` / `aud`, when configured, must be strings exactly equal to the configured value. An `aud`
 *   *array* is refused when an audience is checked: this library writes `aud` as a string, and
 *   accepting arrays ("contains") is exactly the kind of array trick that lets a token minted for
 *   several audiences pass where one was expected.
 * - `exp - iat <= maxLifetime` when a maximum lifetime is given (then `iat` is required).
 * - per-call `expected` claims: each must be an own claim strictly equal (`===`) to a primitive.
 *
 * Claims are read as own properties only: a polluted `Object.prototype` cannot supply a missing
 * claim.
 */
import { ClaimsVerificationError, InvalidPayloadError, TokenExpiredError } from '../errors.js';

export interface ClaimRules {
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
}

export interface ClaimCallOptions {
  ignoreExpiration?: boolean;
  maxLifetime?: number;
  expected?: Record<string, unknown>;
}

const hasOwn = Object.hasOwn;

function own(payload: Record<string, unknown>, name: string): unknown {
  return hasOwn(payload, name) ? payload[name] : undefined;
}

function invalid(claim: string, message: string): ClaimsVerificationError {
  return new ClaimsVerificationError(claim, message);
}

export function checkClaims(
  payload: Record<string, unknown>,
  now: number,
  leeway: number,
  rules: ClaimRules,
  options: ClaimCallOptions,
): void {
  const exp = own(payload, 'exp');
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
    throw invalid('exp', exp === undefined ? 'exp claim is required' : 'exp claim must be an integer');
  }
  const nbf = own(payload, 'nbf');
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw invalid('nbf', 'nbf claim must be a number');
    if (now + leeway < nbf) {
      throw new ClaimsVerificationError('nbf', 'token is not valid yet (nbf)', 'token_not_yet_valid');
    }
  }
  const iat = own(payload, 'iat');
  if (iat !== undefined) {
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat', 'iat claim must be a number');
    if (now + leeway < iat) {
      throw new ClaimsVerificationError('iat', 'token is issued in the future (iat)', 'token_not_yet_valid');
    }
  }
  if (options.ignoreExpiration !== true && now >= exp + leeway) throw new TokenExpiredError();

  if (rules.issuer !== undefined && own(payload, 'iss') !== rules.issuer) {
    throw invalid('iss', 'unexpected issuer (iss)');
  }
  if (rules.audience !== undefined && own(payload, 'aud') !== rules.audience) {
    throw invalid('aud', 'unexpected audience (aud)');
  }
  const maxLifetime = options.maxLifetime;
  if (maxLifetime !== undefined) {
    if (typeof iat !== 'number') throw invalid('iat', 'iat claim is required to check the token lifetime');
    if (exp - iat > maxLifetime) throw invalid('exp', 'token lifetime exceeds the maximum (exp - iat)');
  }
  const expected = options.expected;
  if (expected !== undefined) {
    for (const name of Object.keys(expected)) {
      if (own(payload, name) !== expected[name]) throw invalid(name, `unexpected ${name} claim`);
    }
  }
}

/** Validates per-call expectations once (primitives only; `undefined` is refused, not ignored). */
export function checkExpected(expected: unknown): void {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    throw new InvalidPayloadError('expected claims must be a plain object');
  }
  for (const name of Object.keys(expected)) {
    const value = (expected as Record<string, unknown>)[name];
    const t = typeof value;
    if (
      !(
        t === 'string' ||
        t === 'boolean' ||
        value === null ||
        (t === 'number' && Number.isFinite(value as number))
      )
    ) {
      throw new InvalidPayloadError(
        `expected claim ${JSON.stringify(name)} must be a string, finite number, boolean or null`,
      );
    }
  }
}

/**
 * The typed error hierarchy. Every failure the library reports is a `JwtSessionsError` with a stable
 * string `code` (for programs) and an HTTP `status` (for the HTTP layer). The class tree mirrors
 * jwt_sessions' `Errors::*` so users can rescue broad or narrow:
 *
 *   JwtSessionsError
 *   ├─ ConfigurationError            (jwt_sessions Malconfigured)
 *   ├─ InvalidPayloadError           (jwt_sessions InvalidPayload; bad input to an API call)
 *   ├─ UnauthorizedError             (401: any token/session problem)
 *   │  ├─ TokenFormatError           (malformed, too large, bad signature, alg, type, key id)
 *   │  ├─ ClaimsVerificationError    (claim_invalid, token_not_yet_valid)
 *   │  │  └─ TokenExpiredError
 *   │  ├─ SessionError               (revoked, reused, superseded, expired session)
 *   │  └─ DpopError                  (a DPoP proof missing, invalid, replayed, by another key, nonce)
 *   ├─ ForbiddenError                (403: CSRF / origin)
 *   ├─ RequestError                  (400 / 404 / 413 / 415 from the HTTP layer)
 *   └─ StoreUnavailableError         (503: fail closed)
 */

export type TokenFormatCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_too_large'
  | 'signature_invalid'
  | 'alg_not_allowed'
  | 'kid_unknown'
  | 'token_type_mismatch';

export type SessionErrorCode =
  | 'session_not_found'
  | 'session_expired'
  | 'access_revoked'
  | 'refresh_reused'
  | 'refresh_by_access_not_allowed'
  | 'refresh_refused'
  | 'invalid_credentials';

export type DpopErrorCode =
  | 'dpop_proof_missing'
  | 'dpop_proof_invalid'
  | 'dpop_replayed'
  | 'dpop_key_mismatch'
  | 'dpop_nonce_required';

export type ClaimsCode = 'claim_invalid' | 'token_expired' | 'token_not_yet_valid';

export type ErrorCode =
  // configuration and API input
  | 'configuration_invalid'
  | 'payload_invalid'
  // token layer
  | TokenFormatCode
  | ClaimsCode
  // sessions
  | SessionErrorCode
  // sender-constrained sessions (DPoP, RFC 9449)
  | DpopErrorCode
  // HTTP
  | 'csrf_invalid'
  | 'origin_refused'
  | 'bad_request'
  | 'invalid_json'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  // infrastructure
  | 'store_unavailable';

export class JwtSessionsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** The body the HTTP layer sends: never a stack or an internal detail. */
  toJSON(): { error: string; code: ErrorCode } {
    return { error: this.message, code: this.code };
  }
}

export class ConfigurationError extends JwtSessionsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('configuration_invalid', message, 500, options);
  }
}

export class InvalidPayloadError extends JwtSessionsError {
  constructor(message: string, code: 'payload_invalid' = 'payload_invalid') {
    super(code, message, 400);
  }
}

export class UnauthorizedError extends JwtSessionsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, 401, options);
  }
}

/** The token cannot be trusted at all: shape, size, signature, algorithm, key or type. */
export class TokenFormatError extends UnauthorizedError {
  declare readonly code: TokenFormatCode;
  constructor(code: TokenFormatCode, message: string) {
    super(code, message);
  }
}

/** The signature verified but a claim did not (jwt_sessions ClaimsVerification). */
export class ClaimsVerificationError extends UnauthorizedError {
  /** The claim at fault, e.g. `aud`. */
  readonly claim: string;
  constructor(claim: string, message: string, code: ClaimsCode = 'claim_invalid') {
    super(code, message);
    this.claim = claim;
  }
}

export class TokenExpiredError extends ClaimsVerificationError {
  constructor(message = 'token has expired') {
    super('exp', message, 'token_expired');
  }
}

/** The token is genuine but its session says no: revoked, expired, superseded or replayed. */
export class SessionError extends UnauthorizedError {
  declare readonly code: SessionErrorCode;
  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A DPoP proof (RFC 9449) was refused. `check` names the rule that failed (`typ`, `alg`, `jwk`,
 * `signature`, `htm`, `htu`, `iat`, `jti`, `ath`, `nonce`, `size`, `format`, `replay`, `jkt`), for
 * logs and tests; the HTTP layer answers 401 with `WWW-Authenticate: DPoP` (`use_dpop_nonce` for
 * `dpop_nonce_required`).
 */
export class DpopError extends UnauthorizedError {
  declare readonly code: DpopErrorCode;
  readonly check: string;
  constructor(code: DpopErrorCode, check: string, message: string) {
    super(code, message);
    this.check = check;
  }
}

export class ForbiddenError extends JwtSessionsError {
  constructor(code: 'csrf_invalid' | 'origin_refused', message: string) {
    super(code, message, 403);
  }
}

const REQUEST_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
} as const;

export class RequestError extends JwtSessionsError {
  constructor(code: keyof typeof REQUEST_STATUS, message: string) {
    super(code, message, REQUEST_STATUS[code]);
  }
}

/** The store could not be reached in time: fail closed (503), never accept a token. */
export class StoreUnavailableError extends JwtSessionsError {
  constructor(message = 'session store unavailable', options?: { cause?: unknown }) {
    super('store_unavailable', message, 503, options);
  }
}

export function isJwtSessionsError(value: unknown): value is JwtSessionsError {
  return value instanceof JwtSessionsError;
}

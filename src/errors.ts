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
 *   ├─ RequestError                  (400 / 404 / 405 / 408 / 413 / 414 / 415 / 431 from the HTTP layer)
 *   └─ StoreUnavailableError         (503: fail closed)
 *      └─ StoreConfigurationError    (503 store_misconfigured: missing schema, unknown database, refused credentials)
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
  | 'dpop_nonce_required'
  /** A DPoP-bound access token presented as `Bearer` (or without the DPoP scheme). */
  | 'dpop_bound_token';

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
  | 'method_not_allowed'
  | 'request_timeout'
  | 'payload_too_large'
  | 'uri_too_long'
  | 'unsupported_media_type'
  | 'headers_too_large'
  // infrastructure
  | 'store_unavailable'
  | 'store_misconfigured';

/** Carried (statically) by the error classes of every copy of this package: its ESM and CommonJS builds. */
const ERROR_CLASS = Symbol.for('jwt-sessions.error-class');

/** `value instanceof errorClass`, or an instance of another copy's class of the same name. */
function isErrorOf(errorClass: { name: string }, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(errorClass, value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const owner: { name?: unknown; [ERROR_CLASS]?: unknown } | undefined = proto.constructor;
    if (owner?.[ERROR_CLASS] === true && owner.name === errorClass.name) return true;
  }
  return false;
}

export class JwtSessionsError extends Error {
  static readonly [ERROR_CLASS] = true;

  /**
   * A process that loads both builds (an ESM app, a CommonJS dependency) has two copies of every
   * class: an error of one copy is also an instance of the other copy's class of the same name, so
   * either copy's adapters and `catch` blocks recognise it.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the class `instanceof` asks about, often a subclass.
    return isErrorOf(this, value);
  }

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
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  headers_too_large: 431,
} as const;

export type RequestErrorCode = keyof typeof REQUEST_STATUS;

export class RequestError extends JwtSessionsError {
  /** `status`: another 4xx for `bad_request`, when a framework refused a request with one (e.g. 429). */
  constructor(code: RequestErrorCode, message: string, status: number = REQUEST_STATUS[code]) {
    super(code, message, status);
  }
}

/** The store could not be reached in time: fail closed (503), never accept a token. */
export class StoreUnavailableError extends JwtSessionsError {
  constructor(
    message = 'session store unavailable',
    options?: { cause?: unknown },
    code: 'store_unavailable' | 'store_misconfigured' = 'store_unavailable',
  ) {
    super(code, message, 503, options);
  }
}

/**
 * The store answers but cannot be used as configured: its tables were never created (run
 * `jwt-sessions migrate`), its database does not exist, or it refuses the credentials. The message
 * names the cause and the fix. Still a `StoreUnavailableError` (503, fail closed): nothing works
 * until an operator acts, the client did nothing wrong, and trying again later is right.
 */
export class StoreConfigurationError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'store_misconfigured');
  }
}

export function isJwtSessionsError(value: unknown): value is JwtSessionsError {
  return value instanceof JwtSessionsError;
}

/**
 * DPoP proof verification (RFC 9449 §4.3), synchronous, on `node:crypto`.
 *
 * Order of the checks (every failure is a `DpopError` with a stable `code` and the failed `check`):
 *  1. present (`dpop_proof_missing`); a single string: several header values, or one comma-joined
 *     value, are refused; at most `maxProofBytes` before any parsing (`check: size`);
 *  2. ASCII, exactly three non-empty segments of canonical base64url (`format`);
 *  3. the header: a strict JSON object (no duplicate names); `typ` exactly `dpop+jwt`; `alg` in the
 *     allowlist (asymmetric only: `none` and HS* can never be allowed); `crit`, `b64`, `jku`, `x5u`,
 *     `x5c` refused; `jwk` a public key of the type and strength `alg` needs (dpop-jwk.ts);
 *  4. the signature, with that `jwk` (`signature`), before any claim is read;
 *  5. the payload: a strict JSON object; `jti` a string of 1..256 chars; `htm` exactly the request
 *     method; `htu` equal to the request URL without query and fragment, both normalised
 *     (dpop-htu.ts); `iat` a number inside [now - maxAge - skew, now + skew];
 *  6. `ath`: required and equal to base64url(SHA-256(access token)) when a token accompanies the
 *     proof; refused when present without one (the proof was made for a request carrying a token);
 *  7. `nonce`, when the server requires one: missing or different → `dpop_nonce_required` (the HTTP
 *     layer then answers `use_dpop_nonce` with a fresh `DPoP-Nonce`);
 *  8. `expectedJkt` (the session's binding): another key → `dpop_key_mismatch`.
 * Replay (`jti` seen before) is the store's part: see {@link assertProofUnused}.
 */
import { Buffer } from 'node:buffer';
import { hash, timingSafeEqual } from 'node:crypto';
import { ConfigurationError, DpopError, type DpopErrorCode, InvalidPayloadError } from '../errors.js';
import { decodeAsciiBase64url } from './base64url.js';
import { normalizeHtu } from './dpop-htu.js';
import {
  DEFAULT_DPOP_ALGORITHMS,
  type DpopAlgorithm,
  dpopAlgorithmSpec,
  type ProofKey,
  ProofKeyError,
  proofKey,
} from './dpop-jwk.js';
import { parseJsonObjectBytes } from './json.js';

export { normalizeHtu } from './dpop-htu.js';
export { DEFAULT_DPOP_ALGORITHMS, type DpopAlgorithm } from './dpop-jwk.js';

export const DPOP_PROOF_TYPE = 'dpop+jwt';
/** Default cap of a proof; an RSA-4096 proof is under 2 KiB. */
export const DEFAULT_MAX_PROOF_BYTES = 8192;
export const DEFAULT_DPOP_MAX_AGE_SECONDS = 300;
export const DEFAULT_DPOP_CLOCK_SKEW_SECONDS = 30;
export const MAX_DPOP_MAX_AGE_SECONDS = 3600;
export const MAX_DPOP_CLOCK_SKEW_SECONDS = 300;
export const MAX_DPOP_JTI_LENGTH = 256;

export interface DpopVerifyOptions {
  /** The request method, compared exactly with `htm`. */
  method: string;
  /** The absolute request URL (from configuration behind proxies); query and fragment ignored. */
  url: string;
  /** The access token presented with the proof: `ath` must match it. */
  accessToken?: string;
  /** Nonces the server currently accepts; when given, the proof must carry one of them. */
  nonce?: string | readonly string[];
  /** Seconds a proof stays acceptable after its `iat`. Default 300, at most 3600. */
  maxAgeSeconds?: number;
  /** Seconds of clock difference tolerated both ways. Default 30, at most 300. */
  clockSkew?: number;
  /** Seconds since the epoch (may be fractional). Default `Date.now() / 1000`. */
  now?: number;
  /** Default {@link DEFAULT_DPOP_ALGORITHMS}; only asymmetric algorithms may be listed. */
  allowedAlgorithms?: readonly DpopAlgorithm[];
  /** The thumbprint the session is bound to: a proof by another key is refused. */
  expectedJkt?: string;
  /** Default 8192 bytes. */
  maxProofBytes?: number;
}

export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof key. */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
  readonly htm: string;
  /** The normalised `htu` (no query, no fragment). */
  readonly htu: string;
  readonly alg: DpopAlgorithm;
  /** The required public members of the proof key. */
  readonly jwk: Readonly<Record<string, string>>;
  readonly nonce: string | undefined;
  /** The replay-cache key of this proof: fixed length, derived from (jkt, jti). */
  readonly replayKey: string;
  /** Epoch milliseconds after which the proof is refused by its `iat`: the replay entry's expiry. */
  readonly replayUntil: number;
}

/** The replay-cache operation every `Store` provides (see src/stores/store.ts). */
export interface DpopReplayCache {
  markProofUsed(key: string, expiresAt: number, now: number): Promise<boolean>;
}

const FORBIDDEN_HEADER_MEMBERS = ['crit', 'b64', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'enc', 'zip'];

function fail(code: DpopErrorCode, check: string, message: string): never {
  throw new DpopError(code, check, message);
}

function invalid(check: string, message: string): never {
  return fail('dpop_proof_invalid', check, message);
}

/** base64url(SHA-256(ASCII(token))): the `ath` claim of RFC 9449 §4.2. */
export function accessTokenHash(token: string): string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new InvalidPayloadError('access token must be a non-empty string');
  }
  // One-shot `hash` (Node >= 20.12): no Hash object per call, on every bound request.
  return hash('sha256', token, 'base64url');
}

function boundedSeconds(value: number | undefined, fallback: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new ConfigurationError(`${name} must be a finite number of seconds in 0..${max}`);
  }
  return value;
}

function allowedAlgorithm(alg: unknown, allowed: readonly DpopAlgorithm[]): DpopAlgorithm | undefined {
  if (typeof alg !== 'string') return undefined;
  for (const candidate of allowed) if (candidate === alg) return candidate;
  return undefined;
}

/** Request and proof URLs repeat (one API, few routes): their normal forms are memoised, bounded. */
const htuMemo = new Map<string, string | undefined>();
const HTU_MEMO_SIZE = 512;

function normalizedHtu(value: string): string | undefined {
  if (htuMemo.has(value)) return htuMemo.get(value);
  const normalized = normalizeHtu(value);
  if (htuMemo.size >= HTU_MEMO_SIZE) htuMemo.clear();
  htuMemo.set(value, normalized);
  return normalized;
}

function checkAllowlist(allowed: readonly DpopAlgorithm[]): void {
  if (allowed === DEFAULT_DPOP_ALGORITHMS) return;
  if (!Array.isArray(allowed) || allowed.length === 0) {
    throw new ConfigurationError('allowedAlgorithms must be a non-empty array');
  }
  for (const alg of allowed) {
    if (dpopAlgorithmSpec(alg) === undefined) {
      throw new ConfigurationError(
        `${JSON.stringify(String(alg))} cannot sign DPoP proofs (asymmetric only)`,
      );
    }
  }
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Splits and decodes the three segments; the header and payload as strict JSON objects. */
function parseProof(proof: string): {
  header: Record<string, unknown>;
  payloadBytes: Buffer;
  signingInput: string;
  sigStart: number;
} {
  const first = proof.indexOf('.');
  const second = first === -1 ? -1 : proof.indexOf('.', first + 1);
  if (second === -1 || proof.indexOf('.', second + 1) !== -1) {
    invalid('format', 'a DPoP proof is a JWS with exactly three segments');
  }
  if (first === 0 || second === first + 1 || second === proof.length - 1) {
    invalid('format', 'DPoP proof segments must not be empty');
  }
  const headerBytes = decodeAsciiBase64url(proof.slice(0, first));
  const payloadBytes = decodeAsciiBase64url(proof.slice(first + 1, second));
  if (!headerBytes || !payloadBytes) invalid('format', 'DPoP proof segments must be canonical base64url');
  const header = parseJsonObjectBytes(headerBytes);
  if (!header) invalid('format', 'DPoP proof header must be a JSON object without duplicate names');
  return { header, payloadBytes, signingInput: proof.slice(0, second), sigStart: second + 1 };
}

function checkHeader(
  header: Record<string, unknown>,
  allowed: readonly DpopAlgorithm[],
): { alg: DpopAlgorithm; key: ProofKey } {
  if (header['typ'] !== DPOP_PROOF_TYPE) invalid('typ', `DPoP proof typ must be "${DPOP_PROOF_TYPE}"`);
  const alg = allowedAlgorithm(header['alg'], allowed);
  const spec = alg === undefined ? undefined : dpopAlgorithmSpec(alg);
  if (alg === undefined || spec === undefined) {
    const shown =
      typeof header['alg'] === 'string' ? JSON.stringify(header['alg']) : `of type ${typeof header['alg']}`;
    invalid('alg', `DPoP proof alg ${shown} is not allowed`);
  }
  for (const name of FORBIDDEN_HEADER_MEMBERS) {
    if (Object.hasOwn(header, name)) invalid('format', `DPoP proof header must not carry "${name}"`);
  }
  try {
    return { alg, key: proofKey(header['jwk'], alg, spec) };
  } catch (error) {
    if (error instanceof ProofKeyError) invalid('jwk', `DPoP proof ${error.message}`);
    throw error;
  }
}

function acceptedNonce(nonce: unknown, accepted: string | readonly string[]): boolean {
  if (typeof nonce !== 'string') return false;
  if (typeof accepted === 'string') return equalText(nonce, accepted);
  let ok = false;
  for (const candidate of accepted) ok = equalText(nonce, candidate) || ok;
  return ok;
}

/**
 * Verifies one DPoP proof (the `DPoP` header value) for a request. Returns what the caller needs
 * to bind or check a session and to record the proof in the replay cache; throws `DpopError` for
 * a refused proof, `InvalidPayloadError` / `ConfigurationError` for unusable options.
 */
export function verifyDpopProof(proof: unknown, options: DpopVerifyOptions): VerifiedDpopProof {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidPayloadError('DPoP verify options must be an object');
  }
  const maxBytes = options.maxProofBytes ?? DEFAULT_MAX_PROOF_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new ConfigurationError('maxProofBytes must be a positive integer');
  }
  const maxAge = boundedSeconds(
    options.maxAgeSeconds,
    DEFAULT_DPOP_MAX_AGE_SECONDS,
    MAX_DPOP_MAX_AGE_SECONDS,
    'maxAgeSeconds',
  );
  const skew = boundedSeconds(
    options.clockSkew,
    DEFAULT_DPOP_CLOCK_SKEW_SECONDS,
    MAX_DPOP_CLOCK_SKEW_SECONDS,
    'clockSkew',
  );
  const allowed = options.allowedAlgorithms ?? DEFAULT_DPOP_ALGORITHMS;
  checkAllowlist(allowed);
  if (typeof options.method !== 'string' || options.method.length === 0) {
    throw new InvalidPayloadError('DPoP verify: method must be a non-empty string');
  }
  const requestUrl = typeof options.url === 'string' ? normalizedHtu(options.url) : undefined;
  if (requestUrl === undefined)
    throw new InvalidPayloadError('DPoP verify: url must be an absolute http(s) URL');
  const now = options.now ?? Date.now() / 1000;
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new InvalidPayloadError('now must be finite');
  const { accessToken, expectedJkt } = options;
  if (expectedJkt !== undefined && typeof expectedJkt !== 'string') {
    throw new InvalidPayloadError('DPoP verify: expectedJkt must be a string');
  }
  const acceptedNonces = options.nonce;
  if (
    acceptedNonces !== undefined &&
    typeof acceptedNonces !== 'string' &&
    !(Array.isArray(acceptedNonces) && acceptedNonces.every((n) => typeof n === 'string'))
  ) {
    throw new InvalidPayloadError('DPoP verify: nonce must be a string or an array of strings');
  }
  if (accessToken !== undefined && (typeof accessToken !== 'string' || accessToken.length === 0)) {
    throw new InvalidPayloadError('DPoP verify: accessToken must be a non-empty string');
  }

  // 1. one proof, bounded
  if (proof === undefined || proof === null || proof === '') {
    fail('dpop_proof_missing', 'presence', 'a DPoP proof is required');
  }
  if (typeof proof !== 'string') invalid('format', 'exactly one DPoP proof (one header value) is allowed');
  if (proof.length > maxBytes) invalid('size', `DPoP proof is longer than ${maxBytes} bytes`);
  if (proof.indexOf(',') !== -1) invalid('format', 'exactly one DPoP proof is allowed (comma-joined values)');
  // ASCII only: the segment decoder below relies on it (Node reads some non-ASCII as base64url).
  if (Buffer.byteLength(proof, 'utf8') !== proof.length) invalid('format', 'a DPoP proof is ASCII only');

  // 2-4. shape, header, key, signature
  const { header, payloadBytes, signingInput, sigStart } = parseProof(proof);
  const { alg, key } = checkHeader(header, allowed);
  if (!key.verify(signingInput, proof, sigStart)) invalid('signature', 'DPoP proof signature is invalid');

  // 5. claims
  const claims = parseJsonObjectBytes(payloadBytes);
  if (!claims) invalid('format', 'DPoP proof payload must be a JSON object without duplicate names');
  const { jti, htm, htu, iat, ath, nonce } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_DPOP_JTI_LENGTH) {
    invalid('jti', `DPoP proof jti must be a string of 1-${MAX_DPOP_JTI_LENGTH} characters`);
  }
  if (typeof htm !== 'string' || htm !== options.method) {
    invalid('htm', 'DPoP proof htm does not match the request method');
  }
  const proofUrl = typeof htu === 'string' && htu.length <= 4096 ? normalizedHtu(htu) : undefined;
  if (proofUrl === undefined) invalid('htu', 'DPoP proof htu must be an absolute http(s) URL');
  if (proofUrl !== requestUrl) invalid('htu', 'DPoP proof htu does not match the request URL');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) invalid('iat', 'DPoP proof iat must be a number');
  if (iat > now + skew) invalid('iat', 'DPoP proof iat is in the future');
  if (iat < now - maxAge - skew) invalid('iat', 'DPoP proof is too old (iat)');

  // 6. access token hash
  if (accessToken !== undefined) {
    if (typeof ath !== 'string') invalid('ath', 'DPoP proof ath is required with an access token');
    if (!equalText(ath, accessTokenHash(accessToken))) {
      invalid('ath', 'DPoP proof ath does not match the access token');
    }
  } else if (ath !== undefined) {
    invalid('ath', 'DPoP proof carries ath but no access token accompanies it');
  }
  if (nonce !== undefined && typeof nonce !== 'string') invalid('nonce', 'DPoP proof nonce must be a string');

  // 7. server nonce
  if (options.nonce !== undefined && !acceptedNonce(nonce, options.nonce)) {
    fail(
      'dpop_nonce_required',
      'nonce',
      nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is stale or unknown',
    );
  }

  // 8. binding
  if (expectedJkt !== undefined && !equalText(key.jkt, expectedJkt)) {
    fail('dpop_key_mismatch', 'jkt', 'the DPoP proof key is not the key this session is bound to');
  }

  return {
    jkt: key.jkt,
    jti,
    iat,
    htm,
    htu: proofUrl,
    alg,
    jwk: key.jwk,
    nonce,
    replayKey: hash('sha256', `${key.jkt}.${jti}`, 'base64url'),
    // The last instant the proof is accepted is iat + maxAge + skew; the entry outlives it by 1 ms.
    replayUntil: Math.ceil((iat + maxAge + skew) * 1000) + 1,
  };
}

/**
 * Records a verified proof in the replay cache, atomically: throws `DpopError('dpop_replayed')`
 * when the same key already used the same `jti` within the window (`now` in epoch ms).
 */
export async function assertProofUnused(
  cache: DpopReplayCache,
  proof: VerifiedDpopProof,
  now: number = Date.now(),
): Promise<void> {
  if (!(await cache.markProofUsed(proof.replayKey, proof.replayUntil, now))) {
    fail('dpop_replayed', 'replay', 'this DPoP proof was already used (jti replayed)');
  }
}

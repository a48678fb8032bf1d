/**
 * JWS compact JWTs: sign and verify, synchronous, on the keys of a `KeyRing`.
 *
 * Verification order (SECURITY.md, "Token parsing and verification"):
 *  1. a string, not empty (`token_missing`), not over `maxTokenBytes` (`token_too_large`) — before
 *     any parsing;
 *  2. ASCII only, exactly three segments of strict canonical base64url (`token_malformed`); header
 *     and payload non-empty;
 *  3. the header: a JSON object in valid UTF-8 without duplicate names; `alg` one of ours (`none` in
 *     any case and anything unknown: `alg_not_allowed`); `crit`, `b64`, `jku`, `x5u`, `jwk`, `x5c`,
 *     `enc`, `zip` present → refused (`token_malformed`; they never select a key); `kid` required and
 *     looked up exactly among the configured keys (`kid_unknown`); `alg` must equal that key's
 *     algorithm (`alg_not_allowed`). Headers this ring writes itself are recognised by their exact
 *     segment and skip the parse (they were validated when the ring was built);
 *  4. the signature: non-empty, exactly the algorithm's length, verified (`signature_invalid`);
 *  5. `typ` must equal the expected type exactly, and the key must be one for that type: access
 *     keys verify `at+jwt`, the derived refresh keys `rt+jwt` (`token_type_mismatch`);
 *  6. the payload: a JSON object in valid UTF-8 without duplicate names (`token_malformed`);
 *  7. the claims (see claims.ts): `claim_invalid`, `token_expired`, `token_not_yet_valid`.
 *
 * Every failure is a typed error from `src/errors.ts`; nothing else escapes `verify`.
 */
import { Buffer } from 'node:buffer';
import { ConfigurationError, InvalidPayloadError, TokenExpiredError, TokenFormatError } from '../errors.js';
import { isAlgorithm } from './algorithms.js';
import { decodeAsciiBase64url, hasCanonicalTail, isCanonicalBase64url } from './base64url.js';
import { BoundedMap } from './bounded-map.js';
import { type ClaimRules, checkClaims, checkExpected } from './claims.js';
import { MAX_JSON_DEPTH, parseJsonObjectBytes, parseJsonObjectFromBase64url } from './json.js';
import {
  findKnownHeader,
  type JwsHeader,
  KeyRing,
  type KeyRingInternals,
  type KeyRingOptions,
  keyRingInternals,
  type PreparedHeader,
  type PreparedKey,
  type TokenType,
} from './keys.js';
import { assertCompactSignature } from './signature.js';
import { DEFAULT_VERIFIED_CACHE_SIZE, deepFreeze, MAX_VERIFIED_CACHE_SIZE } from './verified-cache.js';

export interface JwtCodecOptions {
  keys: KeyRing | KeyRingOptions;
  /** Written as `iss` into every token; required and exact on verify. */
  issuer?: string;
  /** Written as `aud` (a string) into every token; required, a string, and exact on verify. */
  audience?: string;
  /** Seconds of clock skew tolerated for `exp`/`nbf`/`iat`: finite, 0..300, default 0. */
  leeway?: number;
  /** Tokens longer than this are refused before any parsing. Default 8192. */
  maxTokenBytes?: number;
  /**
   * How many verified access tokens (`at+jwt`) to keep, so that the same token presented again
   * skips its format, header, signature and payload checks (time and per-call claims are checked
   * every time; see verified-cache.ts). 0 turns it off. Default 1000.
   */
  verifiedCacheSize?: number;
}

export interface VerifyOptions {
  /** The header `typ` must be exactly this. */
  typ: TokenType;
  /** Seconds since the epoch (may be fractional). Default `Date.now() / 1000`. */
  now?: number;
  /** Seconds; `exp - iat` must not exceed it (and `iat` is then required). */
  maxLifetime?: number;
  /** Check everything but `exp`'s deadline; `exp` must still be present and an integer. */
  ignoreExpiration?: boolean;
  /** Per-call exact claim expectations (primitives, compared with `===`). */
  expected?: Record<string, unknown>;
  /** Per-call leeway override (same bounds as the codec's). */
  leeway?: number;
}

export interface JwtClaims {
  exp: number;
  iat?: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
  sub?: string;
  jti?: string;
  [k: string]: unknown;
}

export interface VerifiedJwt {
  header: JwsHeader;
  payload: JwtClaims;
}

export const DEFAULT_MAX_TOKEN_BYTES = 8192;
export const MAX_LEEWAY = 300;

/** Three non-empty... segments; the signature may be empty here so that it is reported as such. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Header members that could select a key, change the signing input or signal a JWE. */
const FORBIDDEN_HEADER_MEMBERS = ['crit', 'b64', 'jku', 'x5u', 'jwk', 'x5c', 'enc', 'zip'] as const;

/** A verified-cache entry: the token's whole text (what a hit must equal) and its verification. */
interface CachedVerification {
  token: string;
  verified: VerifiedJwt;
}

/**
 * The verified cache's key for a token: its last 32 characters, inside the signature (43 or more
 * characters for every algorithm here). A Map hashes a new string on every lookup, and a request's
 * token is always a new string: hashing 32 characters instead of ~300 is most of a hit's cost. The
 * key only selects the candidate: a hit also needs the whole text to be equal, so two tokens sharing
 * a tail (a forged one never verifies, so is never cached) are told apart.
 */
function cacheKeyOf(token: string): string {
  return token.length > VERIFIED_KEY_LENGTH ? token.slice(-VERIFIED_KEY_LENGTH) : token;
}
const VERIFIED_KEY_LENGTH = 32;

function malformed(message: string): TokenFormatError {
  return new TokenFormatError('token_malformed', message);
}

function checkLeeway(leeway: unknown, make: (m: string) => Error): number {
  if (typeof leeway !== 'number' || !Number.isFinite(leeway) || leeway < 0 || leeway > MAX_LEEWAY) {
    throw make(`leeway must be a finite number of seconds between 0 and ${MAX_LEEWAY}`);
  }
  return leeway;
}

function checkNonEmptyString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigurationError(`${name} must be a non-empty string`);
  }
  return value;
}

function isTokenType(value: unknown): value is TokenType {
  return value === 'at+jwt' || value === 'rt+jwt';
}

export class JwtCodec {
  readonly keys: KeyRing;
  readonly #ring: KeyRingInternals;
  readonly #rules: ClaimRules;
  readonly #leeway: number;
  readonly #maxTokenBytes: number;
  /** `,"iss":…,"aud":…}`: the configured claims as JSON text that closes a claims object ('' if none). */
  readonly #configuredClaims: string;
  readonly #verified: BoundedMap<CachedVerification> | null;

  constructor(options: JwtCodecOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('codec options must be an object');
    }
    this.keys = options.keys instanceof KeyRing ? options.keys : KeyRing.from(options.keys);
    this.#ring = keyRingInternals(this.keys);
    this.#rules = Object.freeze({
      issuer: checkNonEmptyString(options.issuer, 'issuer'),
      audience: checkNonEmptyString(options.audience, 'audience'),
    });
    this.#leeway =
      options.leeway === undefined ? 0 : checkLeeway(options.leeway, (m) => new ConfigurationError(m));
    const max = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
    if (!Number.isSafeInteger(max) || max < 256 || max > 1 << 20) {
      throw new ConfigurationError('maxTokenBytes must be an integer between 256 and 1048576');
    }
    this.#maxTokenBytes = max;
    const cacheSize = options.verifiedCacheSize ?? DEFAULT_VERIFIED_CACHE_SIZE;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0 || cacheSize > MAX_VERIFIED_CACHE_SIZE) {
      throw new ConfigurationError(
        `verifiedCacheSize must be an integer between 0 and ${MAX_VERIFIED_CACHE_SIZE}`,
      );
    }
    this.#verified = cacheSize === 0 ? null : new BoundedMap<CachedVerification>(cacheSize);
    const { issuer, audience } = this.#rules;
    this.#configuredClaims =
      issuer === undefined && audience === undefined
        ? ''
        : `${issuer === undefined ? '' : `,"iss":${JSON.stringify(issuer)}`}${audience === undefined ? '' : `,"aud":${JSON.stringify(audience)}`}}`;
    Object.freeze(this);
  }

  get issuer(): string | undefined {
    return this.#rules.issuer;
  }

  get audience(): string | undefined {
    return this.#rules.audience;
  }

  /**
   * Signs a JWT with the ring's signing key: header `{alg, typ, kid}`, payload `claims` plus
   * `iss`/`aud` when configured. `claims.exp` is required (a safe integer); `iat`/`nbf`, when
   * given, must be finite numbers; a conflicting `iss`/`aud` is refused, never overwritten. Values
   * must be JSON: strings, finite numbers, booleans, null, plain objects and arrays (members whose
   * value is `undefined` are omitted, as `JSON.stringify` does; `undefined` inside an array is
   * refused). Anything else — NaN, Infinity, bigint, functions, symbols, Dates, class instances,
   * cycles, nesting over 32 levels, a token over `maxTokenBytes` — is an `InvalidPayloadError`.
   */
  sign(typ: TokenType, claims: Record<string, unknown>): string {
    if (!isTokenType(typ)) throw new InvalidPayloadError('typ must be "at+jwt" or "rt+jwt"');
    if (!isPlainObject(claims)) throw new InvalidPayloadError('claims must be a plain object');
    const exp = Object.hasOwn(claims, 'exp') ? claims.exp : undefined;
    if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
      throw new InvalidPayloadError(
        'claims.exp is required and must be an integer (seconds since the epoch)',
      );
    }
    for (const name of ['iat', 'nbf'] as const) {
      const v = Object.hasOwn(claims, name) ? claims[name] : undefined;
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw new InvalidPayloadError(`claims.${name} must be a finite number`);
      }
    }
    assertJson(claims, 0, []);

    let json: string;
    const { issuer, audience } = this.#rules;
    if (this.#configuredClaims === '') {
      json = JSON.stringify(claims);
    } else if (!Object.hasOwn(claims, 'iss') && !Object.hasOwn(claims, 'aud')) {
      // The usual case: append the configured members to the text instead of copying the object
      // (`claims` is a non-empty plain object: it has `exp`, so its JSON ends with `}` after a member).
      json = JSON.stringify(claims);
      json = `${json.slice(0, -1)}${this.#configuredClaims}`;
    } else {
      const body: Record<string, unknown> = { ...claims };
      if (issuer !== undefined) addConfigured(body, 'iss', issuer);
      if (audience !== undefined) addConfigured(body, 'aud', audience);
      json = JSON.stringify(body);
    }
    const prepared = this.#ring.signingHeaders[typ];
    const input = `${prepared.segment}.${Buffer.from(json, 'utf8').toString('base64url')}`;
    const token = `${input}.${prepared.key.sign!(input)}`;
    if (token.length > this.#maxTokenBytes) {
      throw new InvalidPayloadError(`the token would be ${token.length} bytes, over maxTokenBytes`);
    }
    return token;
  }

  /**
   * Verifies a token; see the module comment for the exact order. Throws only typed errors. The
   * claims are frozen: an access token verified before may be answered from the verified cache
   * (the same token text: only the time and per-call checks run again), and its callers share them.
   */
  verify(token: string, options: VerifyOptions): VerifiedJwt {
    if (typeof options !== 'object' || options === null || !isTokenType(options.typ)) {
      throw new InvalidPayloadError('verify options with typ "at+jwt" or "rt+jwt" are required');
    }
    if (typeof token !== 'string' || token.length === 0) {
      throw new TokenFormatError('token_missing', 'no token');
    }
    const cache = this.#verified;
    if (cache === null) return this.#verifyToken(token, options);
    const key = cacheKeyOf(token);
    const known = cache.get(key);
    // A hit is the same text byte for byte; the key only picks the candidate.
    if (known !== undefined && known.token === token)
      return this.#recheck(cache, key, known.verified, options);
    const verified = this.#verifyToken(token, options);
    if (options.typ === 'at+jwt' && options.ignoreExpiration !== true) cache.add(key, { token, verified });
    return verified;
  }

  /** A cached verification: the type, then the claims against this call's time and options. */
  #recheck(
    cache: BoundedMap<CachedVerification>,
    key: string,
    known: VerifiedJwt,
    options: VerifyOptions,
  ): VerifiedJwt {
    if (known.header.typ !== options.typ) {
      throw new TokenFormatError('token_type_mismatch', `expected a token of type ${options.typ}`);
    }
    try {
      this.#checkClaims(known.payload, options);
    } catch (error) {
      if (error instanceof TokenExpiredError) cache.delete(key);
      throw error;
    }
    return known;
  }

  #verifyToken(token: string, options: VerifyOptions): VerifiedJwt {
    // `length` counts UTF-16 units, never more than UTF-8 bytes; any non-ASCII character is refused
    // right after, so for every token that can pass this is the byte size.
    if (token.length > this.#maxTokenBytes) {
      throw new TokenFormatError('token_too_large', 'token is too large');
    }
    // Every valid token is ASCII: one native scan here, instead of one per segment below.
    if (Buffer.byteLength(token, 'utf8') !== token.length) throw malformed('token is not ASCII');
    const d1 = token.indexOf('.');
    const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1);
    if (d2 === -1 || token.indexOf('.', d2 + 1) !== -1) {
      throw malformed('token is not a compact JWS of three segments');
    }
    if (d1 === 0 || d2 === d1 + 1) throw malformed('token has an empty header or payload');

    // Header: a segment this ring writes is recognised exactly (it was validated when the ring was
    // built) and needs no parsing; anything else goes through the full checks.
    const headerSegment = token.slice(0, d1);
    const known = findKnownHeader(this.#ring, headerSegment);
    const resolved = known === undefined ? this.#resolveHeader(headerSegment) : known;
    const key = resolved.key;

    // Payload: canonical base64url, decoded now, parsed only after the signature.
    const payloadBytes = decodeAsciiBase64url(token.slice(d1 + 1, d2));
    if (payloadBytes === undefined) throw malformed('token payload is not canonical base64url');

    assertCompactSignature(key.verifyCompact, token.slice(0, d2), token, d2 + 1);

    const header = resolved.header;
    // A key verifies only its own kind: a refresh key never makes an access token, nor the reverse.
    if (header.typ !== options.typ || key.typ !== options.typ) {
      throw new TokenFormatError('token_type_mismatch', `expected a token of type ${options.typ}`);
    }

    const payload = parseJsonObjectBytes(payloadBytes);
    if (payload === undefined) throw malformed('token payload is not a JSON object');
    this.#checkClaims(payload, options);
    return deepFreeze({ header, payload: payload as JwtClaims });
  }

  /** Step 7: this call's options, then the claims (claims.ts). */
  #checkClaims(payload: Record<string, unknown>, options: VerifyOptions): void {
    let now = options.now;
    if (now === undefined) now = Date.now() / 1000;
    else if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new InvalidPayloadError('now must be a finite number of seconds');
    }
    const leeway =
      options.leeway === undefined
        ? this.#leeway
        : checkLeeway(options.leeway, (m) => new InvalidPayloadError(m));
    const maxLifetime = options.maxLifetime;
    if (maxLifetime !== undefined && (typeof maxLifetime !== 'number' || !(maxLifetime >= 0))) {
      throw new InvalidPayloadError('maxLifetime must be a non-negative number of seconds');
    }
    if (options.expected !== undefined) checkExpected(options.expected);
    checkClaims(payload, now, leeway, this.#rules, options);
  }

  /**
   * Decodes a token WITHOUT verifying its signature or claims — for inspection tools only; never
   * trust its output. Still strict about the format: size, three canonical base64url segments
   * (the signature may not be empty), JSON objects in valid UTF-8 without duplicate names.
   */
  decodeUnverified(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
    if (typeof token !== 'string' || token.length === 0)
      throw new TokenFormatError('token_missing', 'no token');
    if (token.length > this.#maxTokenBytes)
      throw new TokenFormatError('token_too_large', 'token is too large');
    const parts = splitCompact(token);
    const header = parseJsonObjectFromBase64url(parts[0]);
    if (header === undefined) throw malformed('token header is not a JSON object');
    const payload = parseJsonObjectFromBase64url(parts[1]);
    if (payload === undefined) throw malformed('token payload is not a JSON object');
    return { header, payload };
  }

  #resolveHeader(segment: string): { key: PreparedKey; header: JwsHeader } {
    if (!isCanonicalBase64url(segment)) throw malformed('token header is not canonical base64url');
    const header = parseJsonObjectFromBase64url(segment);
    if (header === undefined) throw malformed('token header is not a JSON object');
    const alg = Object.hasOwn(header, 'alg') ? header.alg : undefined;
    if (typeof alg !== 'string') throw new TokenFormatError('alg_not_allowed', 'token header has no alg');
    if (!isAlgorithm(alg)) throw new TokenFormatError('alg_not_allowed', 'algorithm not allowed');
    for (const name of FORBIDDEN_HEADER_MEMBERS) {
      if (Object.hasOwn(header, name)) throw malformed(`token header member "${name}" is not accepted`);
    }
    const kid = Object.hasOwn(header, 'kid') ? header.kid : undefined;
    if (typeof kid !== 'string') throw new TokenFormatError('kid_unknown', 'token header has no kid');
    const key = this.#ring.byKid.get(kid);
    if (key === undefined) throw new TokenFormatError('kid_unknown', 'unknown kid');
    if (key.alg !== alg) throw new TokenFormatError('alg_not_allowed', 'algorithm not allowed for this key');
    return { key, header: header as JwsHeader };
  }
}

/** Factory form of `new JwtCodec(options)`. */
export function createJwtCodec(options: JwtCodecOptions): JwtCodec {
  return new JwtCodec(options);
}

/** Splits a compact JWS strictly: three canonical base64url segments, header/payload/signature non-empty. */
export function splitCompact(token: string): [string, string, string] {
  if (!COMPACT_JWS.test(token)) throw malformed('token is not a compact JWS of three base64url segments');
  const d1 = token.indexOf('.');
  const d2 = token.indexOf('.', d1 + 1);
  const end = token.length;
  if (d2 + 1 === end) throw new TokenFormatError('signature_invalid', 'empty signature');
  if (
    !hasCanonicalTail(token, 0, d1) ||
    !hasCanonicalTail(token, d1 + 1, d2) ||
    !hasCanonicalTail(token, d2 + 1, end)
  ) {
    throw malformed('token segments are not canonical base64url');
  }
  return [token.slice(0, d1), token.slice(d1 + 1, d2), token.slice(d2 + 1)];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function addConfigured(body: Record<string, unknown>, name: 'iss' | 'aud', value: string): void {
  if (Object.hasOwn(body, name) && body[name] !== undefined && body[name] !== value) {
    throw new InvalidPayloadError(
      `claims.${name} conflicts with the configured ${name === 'iss' ? 'issuer' : 'audience'}`,
    );
  }
  body[name] = value;
}

/**
 * Throws `InvalidPayloadError` unless `value` is plain JSON (see `JwtCodec.sign`). `path` holds the
 * member names leading to `value`; it is turned into text only for the error message.
 */
function assertJson(value: unknown, depth: number, path: (string | number)[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw jsonError(path, 'is not a finite number');
      return;
    case 'object': {
      if (value === null) return;
      if (depth >= MAX_JSON_DEPTH) throw jsonError(path, 'is nested too deeply');
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) throw jsonError(path, 'is not a plain array');
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          path.push(i);
          if (item === undefined) throw jsonError(path, 'is undefined');
          if (typeof item !== 'string') assertJson(item, depth + 1, path);
          path.pop();
        }
        return;
      }
      if (!isPlainObject(value)) throw jsonError(path, 'is not a plain object');
      for (const name in value) {
        if (!Object.hasOwn(value, name)) continue;
        const member = value[name];
        if (member === undefined || typeof member === 'string') continue;
        path.push(name);
        assertJson(member, depth + 1, path);
        path.pop();
      }
      return;
    }
    default:
      throw jsonError(path, `is not a JSON value (${typeof value})`);
  }
}

function jsonError(path: readonly (string | number)[], problem: string): InvalidPayloadError {
  let text = 'claims';
  for (const p of path) text += typeof p === 'number' ? `[${p}]` : `.${p}`;
  return new InvalidPayloadError(`${text} ${problem}`);
}

export type { PreparedHeader };

/**
 * The JWS algorithms this library knows, and what each one needs from a key. The algorithm of a
 * token is always taken from the key that verifies it (never from the token), so this table is
 * only consulted when a key is configured and when a header is compared to its key.
 */

export type Algorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA';

export type AlgorithmFamily = 'hmac' | 'rsa' | 'rsa-pss' | 'ecdsa' | 'eddsa';

export type HashName = 'sha256' | 'sha384' | 'sha512';

export interface AlgorithmSpec {
  readonly alg: Algorithm;
  readonly family: AlgorithmFamily;
  /** The digest (HMAC, RSA, ECDSA); `null` for EdDSA, whose hash is built in. */
  readonly hash: HashName | null;
  /** Output size of `hash` in bytes (HMAC tag length, PSS salt length, minimum HMAC secret). */
  readonly hashBytes: number;
  /** ECDSA: the OpenSSL curve name `KeyObject.asymmetricKeyDetails.namedCurve` reports. */
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** ECDSA: the JWK `crv`. */
  readonly crv?: 'P-256' | 'P-384' | 'P-521';
  /** ECDSA: bytes of one P1363 signature half (r or s). */
  readonly coordBytes?: number;
}

const SPECS: readonly AlgorithmSpec[] = [
  { alg: 'HS256', family: 'hmac', hash: 'sha256', hashBytes: 32 },
  { alg: 'HS384', family: 'hmac', hash: 'sha384', hashBytes: 48 },
  { alg: 'HS512', family: 'hmac', hash: 'sha512', hashBytes: 64 },
  { alg: 'RS256', family: 'rsa', hash: 'sha256', hashBytes: 32 },
  { alg: 'RS384', family: 'rsa', hash: 'sha384', hashBytes: 48 },
  { alg: 'RS512', family: 'rsa', hash: 'sha512', hashBytes: 64 },
  { alg: 'PS256', family: 'rsa-pss', hash: 'sha256', hashBytes: 32 },
  { alg: 'PS384', family: 'rsa-pss', hash: 'sha384', hashBytes: 48 },
  { alg: 'PS512', family: 'rsa-pss', hash: 'sha512', hashBytes: 64 },
  {
    alg: 'ES256',
    family: 'ecdsa',
    hash: 'sha256',
    hashBytes: 32,
    curve: 'prime256v1',
    crv: 'P-256',
    coordBytes: 32,
  },
  {
    alg: 'ES384',
    family: 'ecdsa',
    hash: 'sha384',
    hashBytes: 48,
    curve: 'secp384r1',
    crv: 'P-384',
    coordBytes: 48,
  },
  {
    alg: 'ES512',
    family: 'ecdsa',
    hash: 'sha512',
    hashBytes: 64,
    curve: 'secp521r1',
    crv: 'P-521',
    coordBytes: 66,
  },
  { alg: 'EdDSA', family: 'eddsa', hash: null, hashBytes: 64 },
];

/** Every supported algorithm, in a stable order. `none` is not one of them and never will be. */
export const ALGORITHMS: readonly Algorithm[] = Object.freeze(SPECS.map((s) => s.alg));

// A Map, not an object literal: a header `alg` of "__proto__" or "constructor" must find nothing.
const BY_NAME = new Map<string, AlgorithmSpec>(SPECS.map((s) => [s.alg, Object.freeze(s)]));

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && BY_NAME.has(value);
}

/** The spec of a supported algorithm, or `undefined` (exact, case-sensitive match). */
export function algorithmSpec(alg: unknown): AlgorithmSpec | undefined {
  return typeof alg === 'string' ? BY_NAME.get(alg) : undefined;
}

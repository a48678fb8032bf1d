/**
 * The public key a DPoP proof carries in its `jwk` header (RFC 9449 §4.2-4.3): checked to be a
 * public key of the type its `alg` needs, reduced to its RFC 7638 thumbprint (`jkt`), and imported
 * once. The prepared verifier is cached by (alg, thumbprint) in a bounded LRU, so a client that
 * sends many proofs with one key costs one signature verification per proof, not a key import.
 *
 * The thumbprint commits to every member the key is built from (RFC 7638 §3.2), so two JWKs with
 * one thumbprint are one key and share a cache entry safely.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { type AlgorithmSpec, algorithmSpec } from './algorithms.js';
import { decodeBase64url } from './base64url.js';
import { BoundedMap } from './bounded-map.js';
import { jwkThumbprint } from './keys.js';
import { type CompactVerifier, createCompactVerifier } from './signature.js';

/** JWS algorithms a DPoP proof may use. `Ed25519` is RFC 9864's fully specified name for EdDSA. */
export type DpopAlgorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512';

/** RFC 9449's examples and what browsers' WebCrypto makes without extras. */
export const DEFAULT_DPOP_ALGORITHMS: readonly DpopAlgorithm[] = Object.freeze([
  'ES256',
  'EdDSA',
  'Ed25519',
  'RS256',
  'PS256',
]);

/** The signature spec of a DPoP `alg`, or `undefined` for anything else (HMAC and `none` included). */
export function dpopAlgorithmSpec(alg: unknown): AlgorithmSpec | undefined {
  if (alg === 'Ed25519') return algorithmSpec('EdDSA');
  const spec = algorithmSpec(alg);
  return spec && spec.family !== 'hmac' ? spec : undefined;
}

/** Members that only a private or secret key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const MIN_RSA_BITS = 2048;
/** Larger proof keys would only make each proof slower to verify. */
const MAX_RSA_BITS = 8192;
/** Prepared keys kept; each entry is a few hundred bytes. */
const CACHE_SIZE = 1024;

export interface ProofKey {
  /** RFC 7638 thumbprint (SHA-256, base64url): the `jkt` a session is bound to. */
  readonly jkt: string;
  /** The required public members only (what the thumbprint covers). */
  readonly jwk: Readonly<Record<string, string>>;
  readonly verify: CompactVerifier;
}

/** Why a `jwk` header was refused (the caller wraps it in a typed error). */
export class ProofKeyError extends Error {}

function member(jwk: Record<string, unknown>, name: string): string {
  const value = jwk[name];
  if (typeof value !== 'string') throw new ProofKeyError(`jwk "${name}" must be a string`);
  return value;
}

/** A canonical base64url member of exactly `bytes` bytes (or any length when omitted). */
function bytesMember(jwk: Record<string, unknown>, name: string, bytes?: number): Buffer {
  const decoded = decodeBase64url(member(jwk, name));
  if (decoded === undefined) throw new ProofKeyError(`jwk "${name}" is not canonical base64url`);
  if (bytes !== undefined && decoded.length !== bytes) {
    throw new ProofKeyError(`jwk "${name}" must be ${bytes} bytes, got ${decoded.length}`);
  }
  return decoded;
}

function bitLength(bytes: Buffer): number {
  if (bytes.length === 0 || bytes[0] === 0) return -1; // empty, or not minimal (a leading zero byte)
  return (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]!));
}

/** The required public members of `jwk` for `spec`, after every shape and strength check. */
function publicMembersFor(jwk: Record<string, unknown>, spec: AlgorithmSpec): Record<string, string> {
  switch (spec.family) {
    case 'ecdsa': {
      if (jwk['kty'] !== 'EC' || jwk['crv'] !== spec.crv) {
        throw new ProofKeyError(`${spec.alg} needs an EC ${spec.crv} jwk`);
      }
      bytesMember(jwk, 'x', spec.coordBytes);
      bytesMember(jwk, 'y', spec.coordBytes);
      return { crv: spec.crv!, kty: 'EC', x: member(jwk, 'x'), y: member(jwk, 'y') };
    }
    case 'eddsa': {
      if (jwk['kty'] !== 'OKP' || jwk['crv'] !== 'Ed25519') {
        throw new ProofKeyError('EdDSA needs an OKP Ed25519 jwk');
      }
      bytesMember(jwk, 'x', 32);
      return { crv: 'Ed25519', kty: 'OKP', x: member(jwk, 'x') };
    }
    default: {
      if (jwk['kty'] !== 'RSA') throw new ProofKeyError(`${spec.alg} needs an RSA jwk`);
      const bits = bitLength(bytesMember(jwk, 'n'));
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
        throw new ProofKeyError(
          `RSA modulus must be ${MIN_RSA_BITS}-${MAX_RSA_BITS} bits without leading zeros (got ${bits})`,
        );
      }
      const e = bytesMember(jwk, 'e');
      if (e.length > 4 || bitLength(e) < 2 || (e[e.length - 1]! & 1) === 0) {
        throw new ProofKeyError('RSA public exponent must be odd, at least 3 and at most 32 bits');
      }
      return { e: member(jwk, 'e'), kty: 'RSA', n: member(jwk, 'n') };
    }
  }
}

function checkOptionalMembers(jwk: Record<string, unknown>, alg: string): void {
  const jwkAlg = jwk['alg'];
  if (jwkAlg !== undefined && jwkAlg !== alg) {
    const sameEd = (jwkAlg === 'EdDSA' || jwkAlg === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519');
    if (!sameEd) throw new ProofKeyError(`jwk "alg" ${JSON.stringify(jwkAlg)} does not match ${alg}`);
  }
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') throw new ProofKeyError('jwk "use" must be "sig"');
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) {
    throw new ProofKeyError('jwk "key_ops" must include "verify"');
  }
}

const cache = new BoundedMap<ProofKey>(CACHE_SIZE);

/**
 * The prepared public key of a proof's `jwk` header for `alg` (already allow-listed by the
 * caller). Throws `ProofKeyError` when it is not an object, holds any private member, does not fit
 * `alg`, is too weak, or cannot be imported (e.g. an EC point off the curve).
 */
export function proofKey(jwkValue: unknown, alg: string, spec: AlgorithmSpec): ProofKey {
  if (typeof jwkValue !== 'object' || jwkValue === null || Array.isArray(jwkValue)) {
    throw new ProofKeyError('jwk must be a JSON object');
  }
  const jwk = jwkValue as Record<string, unknown>;
  for (const name of PRIVATE_MEMBERS) {
    if (Object.hasOwn(jwk, name)) throw new ProofKeyError(`jwk must be a public key (has "${name}")`);
  }
  const members = publicMembersFor(jwk, spec);
  checkOptionalMembers(jwk, alg);
  // Keyed by the members themselves (base64url, so '.' cannot occur in them): a hit costs no
  // thumbprint hash. The members determine the thumbprint, so one key is one entry either way.
  const cacheKey =
    members['kty'] === 'RSA'
      ? `${spec.alg}.${members['n']}.${members['e']}`
      : `${spec.alg}.${members['crv']}.${members['x']}.${members['y'] ?? ''}`;
  const hit = cache.get(cacheKey);
  if (hit !== undefined) {
    cache.refresh(cacheKey, hit); // most recently used last
    return hit;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members, format: 'jwk' });
  } catch {
    throw new ProofKeyError('jwk is not a valid public key');
  }
  const prepared: ProofKey = Object.freeze({
    jkt: jwkThumbprint(members),
    jwk: Object.freeze(members),
    verify: createCompactVerifier(spec.alg, key),
  });
  cache.add(cacheKey, prepared);
  return prepared;
}

/** Prepared proof keys currently cached (diagnostic; bounded by an internal limit). */
export function proofKeyCacheSize(): number {
  return cache.size;
}

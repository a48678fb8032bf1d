/**
 * The token layer: keys (import, rotation, JWKS) and JWS compact JWTs (sign/verify) on
 * `node:crypto`. See codec.ts for the verification order and SECURITY.md for the rules.
 */
export { ALGORITHMS, type Algorithm, type AlgorithmFamily, isAlgorithm } from './algorithms.js';
export {
  createJwtCodec,
  DEFAULT_MAX_TOKEN_BYTES,
  type JwtClaims,
  JwtCodec,
  type JwtCodecOptions,
  MAX_LEEWAY,
  type VerifiedJwt,
  type VerifyOptions,
} from './codec.js';
export {
  accessTokenHash,
  assertProofUnused,
  DEFAULT_DPOP_ALGORITHMS,
  DEFAULT_MAX_PROOF_BYTES,
  DPOP_PROOF_TYPE,
  type DpopAlgorithm,
  type DpopReplayCache,
  type DpopVerifyOptions,
  normalizeHtu,
  type VerifiedDpopProof,
  verifyDpopProof,
} from './dpop.js';
export { type CreateDpopProofOptions, createDpopProof } from './dpop-proof.js';
export {
  type GeneratedKey,
  generateKey,
  type Jwk,
  type JwsHeader,
  jwkThumbprint,
  type KeyInput,
  type KeyMaterial,
  KeyRing,
  type KeyRingOptions,
  TOKEN_TYPES,
  type TokenType,
} from './keys.js';

/**
 * Makes DPoP proofs with `node:crypto` (RFC 9449 §4.2): for tests, benchmarks and server-side
 * clients. The browser client makes its own with WebCrypto, from a non-extractable key.
 */
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { InvalidPayloadError } from '../errors.js';
import { encodeBase64url } from './base64url.js';
import { accessTokenHash, DPOP_PROOF_TYPE } from './dpop.js';
import { type DpopAlgorithm, dpopAlgorithmSpec } from './dpop-jwk.js';
import { createSigner } from './signature.js';

export interface CreateDpopProofOptions {
  /** The private key; its public half goes into the `jwk` header. */
  privateKey: KeyObject;
  alg: DpopAlgorithm;
  method: string;
  url: string;
  /** Adds `ath` for this access token. */
  accessToken?: string;
  nonce?: string;
  /** Seconds since the epoch. Default now. */
  iat?: number;
  /** Default: 128 random bits, base64url. */
  jti?: string;
}

/** A signed DPoP proof (compact JWS) for one request. */
export function createDpopProof(options: CreateDpopProofOptions): string {
  const spec = dpopAlgorithmSpec(options.alg);
  if (spec === undefined) throw new InvalidPayloadError(`${String(options.alg)} cannot sign DPoP proofs`);
  const { kty, crv, x, y, n, e } = createPublicKey(options.privateKey).export({ format: 'jwk' });
  const jwk = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
  const header = { typ: DPOP_PROOF_TYPE, alg: options.alg, jwk };
  const claims: Record<string, unknown> = {
    jti: options.jti ?? randomBytes(16).toString('base64url'),
    htm: options.method,
    htu: options.url,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined) claims['ath'] = accessTokenHash(options.accessToken);
  if (options.nonce !== undefined) claims['nonce'] = options.nonce;
  const signingInput = `${encodeBase64url(JSON.stringify(header))}.${encodeBase64url(JSON.stringify(claims))}`;
  return `${signingInput}.${createSigner(spec.alg, options.privateKey)(signingInput)}`;
}

/**
 * DPoP test helpers: proof keys per algorithm (made once per file), and a raw proof builder on
 * node:crypto (independent of src/tokens/dpop-proof.ts) so tests can write any header or claim.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { DpopError } from '../../src/errors.js';
import type { DpopAlgorithm } from '../../src/tokens/index.js';
import { b64, expectCode, rawSign } from './helpers.js';

export const NOW = 1_750_000_000;
export const URL_ = 'https://api.example.com/resource';

export interface ProofKeyPair {
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

const keys = new Map<string, ProofKeyPair>();

/** A proof key for `alg` (RSA 2048 for RS/PS), shared within a test file; `slot` for a second key. */
export function proofKeyFor(alg: DpopAlgorithm, slot = 0): ProofKeyPair {
  const id = `${alg}/${slot}`;
  let pair = keys.get(id);
  if (!pair) {
    const { privateKey } = alg.startsWith('ES')
      ? generateKeyPairSync('ec', {
          namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg.slice(0, 5)]!,
        })
      : alg === 'EdDSA' || alg === 'Ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { kty, crv, x, y, n, e } = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicJwk = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
    pair = { privateKey, publicJwk };
    keys.set(id, pair);
  }
  return pair;
}

export interface RawProofOptions {
  alg?: DpopAlgorithm;
  slot?: number;
  /** Replaces the whole header (object or raw JSON text). */
  header?: Record<string, unknown> | string;
  /** Merged over the default header. */
  headerExtra?: Record<string, unknown>;
  /** Replaces the whole payload (object or raw JSON text). */
  payload?: Record<string, unknown> | string;
  /** Merged over the default claims (a value `undefined` deletes the claim). */
  claims?: Record<string, unknown>;
  /** A base64url signature used verbatim. */
  signature?: string;
}

/** A proof for POST https://api.example.com/resource at NOW, signed with node:crypto directly. */
export function rawProof(options: RawProofOptions = {}): string {
  const alg = options.alg ?? 'ES256';
  const pair = proofKeyFor(alg, options.slot);
  const header = options.header ?? {
    typ: 'dpop+jwt',
    alg,
    jwk: pair.publicJwk,
    ...options.headerExtra,
  };
  const claims: Record<string, unknown> = {
    jti: 'a1b2c3d4e5f6g7h8i9j0k1',
    htm: 'POST',
    htu: URL_,
    iat: NOW,
    ...options.claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  const payload = options.payload ?? claims;
  const seg = (v: Record<string, unknown> | string) => b64(typeof v === 'string' ? v : JSON.stringify(v));
  const input = `${seg(header)}.${seg(payload)}`;
  const signAlg = alg === 'Ed25519' ? 'EdDSA' : alg;
  return `${input}.${options.signature ?? rawSign(signAlg, pair.privateKey, input).toString('base64url')}`;
}

/** Asserts `fn` throws a `DpopError` (401) with `code` (and `check` when given). */
export function expectDpop(fn: () => unknown, code: string, check?: string): DpopError {
  const error = expectCode(fn, code, DpopError) as DpopError;
  expect(error.status).toBe(401);
  if (check !== undefined) expect(error.check).toBe(check);
  return error;
}

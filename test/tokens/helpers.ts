/**
 * Test helpers for the token layer: one generated key per algorithm (made once per test file), and
 * an independent raw JWS builder (node:crypto directly, not the codec) so tests can craft headers
 * and payloads the codec would never write: duplicate names, odd encodings, foreign members.
 */
import { Buffer } from 'node:buffer';
import { constants, createHmac, type KeyObject, sign } from 'node:crypto';
import { expect } from 'vitest';
import {
  ClaimsVerificationError,
  type DpopError,
  type InvalidPayloadError,
  JwtSessionsError,
  TokenFormatError,
} from '../../src/errors.js';
import { ALGORITHMS, type Algorithm, type GeneratedKey, generateKey } from '../../src/tokens/index.js';

export { ALGORITHMS };

const cache = new Map<Algorithm, GeneratedKey>();

/** A generated key for `alg`, shared within a test file (RSA generation is slow). */
export function keyFor(alg: Algorithm): GeneratedKey {
  let k = cache.get(alg);
  if (!k) {
    k = generateKey(alg);
    cache.set(alg, k);
  }
  return k;
}

export const NOW = 1_750_000_000;

export function b64(input: string | Uint8Array): string {
  return Buffer.from(typeof input === 'string' ? Buffer.from(input, 'utf8') : input).toString('base64url');
}

/** Signs `signingInput` for `alg` with node:crypto directly (independent of src/tokens). */
export function rawSign(alg: Algorithm, key: KeyObject, signingInput: string): Buffer {
  const data = Buffer.from(signingInput, 'utf8');
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  if (alg.startsWith('HS')) return createHmac(hash!, key).update(data).digest();
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) {
    return sign(hash, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  }
  return sign(hash, data, key);
}

/**
 * Builds a compact JWS. `header`/`payload`: objects (JSON.stringify'd) or raw JSON text (for
 * duplicates and other oddities), or `{ raw: bytes }` for arbitrary bytes. Signed with `alg`/`key`
 * unless `signature` is given (a base64url string used verbatim).
 */
export function craft(options: {
  header: object | string | { raw: Uint8Array };
  payload: object | string | { raw: Uint8Array };
  alg: Algorithm;
  key: KeyObject;
  signature?: string;
}): string {
  const seg = (v: object | string | { raw: Uint8Array }) =>
    typeof v === 'string'
      ? b64(v)
      : 'raw' in v && v.raw instanceof Uint8Array
        ? b64(v.raw)
        : b64(JSON.stringify(v));
  const input = `${seg(options.header)}.${seg(options.payload)}`;
  const signature = options.signature ?? rawSign(options.alg, options.key, input).toString('base64url');
  return `${input}.${signature}`;
}

/** A typical access token payload (the benchmark uses the same shape). */
export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: '1234567890',
    sid: 'Yk3vX1s9b2QpL0aZr8TuWg',
    jti: 'c0a8f3e4b1d24a7e9f6e5d4c3b2a1908',
    iat: NOW,
    exp: NOW + 900,
    ...extra,
  };
}

type ErrorClass =
  | typeof TokenFormatError
  | typeof ClaimsVerificationError
  | typeof InvalidPayloadError
  | typeof DpopError;

/** Asserts `fn` throws a typed error of `cls` (default: any JwtSessionsError) with `code`. */
export function expectCode(fn: () => unknown, code: string, cls?: ErrorClass): JwtSessionsError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error with code ${code}`).toBeInstanceOf(cls ?? JwtSessionsError);
  expect((caught as JwtSessionsError).code).toBe(code);
  return caught as JwtSessionsError;
}

/** Asserts `fn` is refused with a token-level typed error (format or claims), never anything else. */
export function expectRefused(fn: () => unknown): JwtSessionsError {
  let caught: unknown;
  let returned = false;
  try {
    fn();
    returned = true;
  } catch (error) {
    caught = error;
  }
  expect(returned, 'the token was accepted').toBe(false);
  expect(
    caught instanceof TokenFormatError || caught instanceof ClaimsVerificationError,
    `untyped error: ${String(caught)}`,
  ).toBe(true);
  return caught as JwtSessionsError;
}

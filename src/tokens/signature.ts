/**
 * The signature layer: one signer and one verifier per (algorithm, key), prepared once when a key
 * is configured and then called on every token. Built on `node:crypto` only.
 *
 * - HMAC: `createHmac` with a cached secret `KeyObject`; the tag must be exactly the hash length
 *   (JWS uses full-length tags) and is compared with `timingSafeEqual` after a length check.
 * - RSASSA-PKCS1-v1_5 and RSASSA-PSS (salt length = hash length, MGF1 with the same hash); the
 *   signature must be exactly the modulus length.
 * - ECDSA in IEEE P1363 form (r ‖ s), exactly 2 × the coordinate size; r = 0 or s = 0 refused
 *   before OpenSSL sees them.
 * - EdDSA: Ed25519 only; 64-byte signatures.
 *
 * A verifier returns `true` or `false` and never throws: anything OpenSSL objects to is a `false`.
 *
 * Two forms of each verifier: over signature *bytes* (`createVerifier`), and over the base64url
 * *text* of the signature inside a token (`createCompactVerifier`, what the codec uses). For HMAC
 * the compact form computes the expected tag directly as base64url and compares the two strings in
 * constant time, so the signature segment is never decoded; a match also proves the segment is the
 * canonical encoding. `assertCompactSignature` is the codec's step on top of a compact verifier
 * (typed errors instead of `false`). The Wycheproof tests drive all three.
 */
import { Buffer } from 'node:buffer';
import {
  constants,
  createHmac,
  createSecretKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
  type SignKeyObjectInput,
  timingSafeEqual,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import { ConfigurationError, TokenFormatError } from '../errors.js';
import { type Algorithm, type AlgorithmSpec, algorithmSpec } from './algorithms.js';
import { base64urlLength, decodeBase64url, isCanonicalBase64url } from './base64url.js';

/**
 * Verifies `signature` over `signingInput`. A string input must be ASCII (a JWS signing input
 * always is: two base64url segments and a dot).
 */
export type Verifier = (signingInput: string | Uint8Array, signature: Uint8Array) => boolean;
/**
 * Verifies the signature written as base64url in `text` from index `sigStart` to the end (the last
 * segment of a compact JWS) over `signingInput` (a string is encoded as UTF-8; a JWS signing input
 * is ASCII). `false` for a signature that is not canonical base64url of the exact length.
 */
export type CompactVerifier = (signingInput: string | Uint8Array, text: string, sigStart: number) => boolean;
/**
 * Signs `signingInput` (ASCII string or bytes) and returns the signature as unpadded base64url,
 * the form a token carries (HMAC digests straight to base64url, without an intermediate Buffer).
 */
export type Signer = (signingInput: string | Uint8Array) => string;

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
}

function specOf(alg: Algorithm): AlgorithmSpec {
  const spec = algorithmSpec(alg);
  if (!spec) throw new ConfigurationError(`unsupported algorithm ${JSON.stringify(String(alg))}`);
  return spec;
}

/** Length in bytes of every valid signature made with this (algorithm, key), or -1 if unknown. */
export function signatureLength(spec: AlgorithmSpec, key: KeyObject): number {
  switch (spec.family) {
    case 'hmac':
      return spec.hashBytes;
    case 'ecdsa':
      return 2 * spec.coordBytes!;
    case 'eddsa':
      return 64;
    default: {
      const bits = key.asymmetricKeyDetails?.modulusLength;
      return bits ? Math.ceil(bits / 8) : -1;
    }
  }
}

function isAllZero(bytes: Uint8Array, start: number, end: number): boolean {
  let acc = 0;
  for (let i = start; i < end; i++) acc |= bytes[i]!;
  return acc === 0;
}

/**
 * Prepares the verifier of `alg` for `key` (a secret `KeyObject` for HS*, a public or private
 * `KeyObject` otherwise). Does no strength checks: that is the key ring's job; this is the raw
 * primitive the Wycheproof vectors exercise.
 */
export function createVerifier(alg: Algorithm, key: KeyObject): Verifier {
  const spec = specOf(alg);
  const hash = spec.hash;
  const sigLength = signatureLength(spec, key);
  switch (spec.family) {
    case 'hmac': {
      if (key.type !== 'secret') throw new ConfigurationError(`${alg} needs a secret key`);
      const h = hash!;
      return (input, signature) => {
        if (signature.length !== sigLength) return false;
        return timingSafeEqual(createHmac(h, key).update(input).digest(), signature);
      };
    }
    case 'ecdsa': {
      const verifyKey: VerifyKeyObjectInput = { key, dsaEncoding: 'ieee-p1363' };
      const half = spec.coordBytes!;
      return (input, signature) => {
        if (signature.length !== sigLength) return false;
        if (isAllZero(signature, 0, half) || isAllZero(signature, half, sigLength)) return false;
        return safeVerify(hash, toBytes(input), verifyKey, signature);
      };
    }
    case 'rsa-pss': {
      const verifyKey: VerifyKeyObjectInput = {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: spec.hashBytes,
      };
      return (input, signature) =>
        signature.length === sigLength && safeVerify(hash, toBytes(input), verifyKey, signature);
    }
    case 'rsa': {
      const verifyKey: VerifyKeyObjectInput = { key, padding: constants.RSA_PKCS1_PADDING };
      return (input, signature) =>
        signature.length === sigLength && safeVerify(hash, toBytes(input), verifyKey, signature);
    }
    case 'eddsa':
      return (input, signature) =>
        signature.length === 64 && safeVerify(null, toBytes(input), key, signature);
  }
}

/** The compact (base64url text) form of {@link createVerifier}; see {@link CompactVerifier}. */
export function createCompactVerifier(alg: Algorithm, key: KeyObject): CompactVerifier {
  const spec = specOf(alg);
  const sigChars = base64urlLength(signatureLength(spec, key));
  if (spec.family === 'hmac') {
    if (key.type !== 'secret') throw new ConfigurationError(`${alg} needs a secret key`);
    const h = spec.hash!;
    return (input, text, start) => {
      if (text.length - start !== sigChars) return false;
      const expected = createHmac(h, key).update(input).digest('base64url');
      let diff = 0;
      for (let i = 0; i < sigChars; i++) diff |= expected.charCodeAt(i) ^ text.charCodeAt(start + i);
      return diff === 0;
    };
  }
  const verify = createVerifier(alg, key);
  return (input, text, start) => {
    if (text.length - start !== sigChars) return false;
    const signature = decodeBase64url(text.slice(start));
    return signature !== undefined && verify(input, signature);
  };
}

/**
 * The codec's signature step over a compact verifier: returns when the signature written in `text`
 * from `sigStart` to the end verifies over `signingInput`, otherwise throws a `TokenFormatError`:
 * `signature_invalid` (empty, wrong length, does not verify) or `token_malformed` (the text is not
 * canonical base64url, which is reported as a format error rather than as a bad signature).
 */
export function assertCompactSignature(
  verify: CompactVerifier,
  signingInput: string | Uint8Array,
  text: string,
  sigStart: number,
): void {
  if (sigStart >= text.length) throw new TokenFormatError('signature_invalid', 'empty signature');
  if (verify(signingInput, text, sigStart)) return;
  if (!isCanonicalBase64url(text.slice(sigStart))) {
    throw new TokenFormatError('token_malformed', 'token signature is not canonical base64url');
  }
  throw new TokenFormatError('signature_invalid', 'invalid signature');
}

function safeVerify(
  hash: string | null,
  data: Uint8Array,
  key: KeyObject | VerifyKeyObjectInput,
  signature: Uint8Array,
): boolean {
  try {
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/** Prepares the signer of `alg` for `key` (a secret `KeyObject` for HS*, a private one otherwise). */
export function createSigner(alg: Algorithm, key: KeyObject): Signer {
  const spec = specOf(alg);
  const hash = spec.hash;
  switch (spec.family) {
    case 'hmac': {
      if (key.type !== 'secret') throw new ConfigurationError(`${alg} needs a secret key`);
      const h = hash!;
      return (input) => createHmac(h, key).update(input).digest('base64url');
    }
    case 'ecdsa': {
      const signKey: SignKeyObjectInput = { key, dsaEncoding: 'ieee-p1363' };
      return (input) => cryptoSign(hash, toBytes(input), signKey).toString('base64url');
    }
    case 'rsa-pss': {
      const signKey: SignKeyObjectInput = {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: spec.hashBytes,
      };
      return (input) => cryptoSign(hash, toBytes(input), signKey).toString('base64url');
    }
    case 'rsa': {
      const signKey: SignKeyObjectInput = { key, padding: constants.RSA_PKCS1_PADDING };
      return (input) => cryptoSign(hash, toBytes(input), signKey).toString('base64url');
    }
    case 'eddsa':
      // One-shot Ed25519 with the KeyObject itself (no options object to unpack per call).
      return (input) => cryptoSign(null, toBytes(input), key).toString('base64url');
  }
}

/**
 * One-shot signature check for tests and tools (not the hot path: it prepares the verifier on each
 * call). `key` is a `KeyObject`, or raw secret bytes for HS* (any length: strength is checked by the
 * key ring, not here). A string `signingInput` is encoded as UTF-8. `signature` is the raw bytes,
 * or a string holding its base64url text (then the codec's compact verifier is used). Returns
 * `true`/`false`; throws only `ConfigurationError` when the key cannot be used with `alg` at all.
 */
export function verifySignature(
  key: KeyObject | Uint8Array,
  alg: Algorithm,
  signingInput: string | Uint8Array,
  signature: Uint8Array | string,
): boolean {
  let keyObject: KeyObject;
  if (key instanceof Uint8Array) {
    if (specOf(alg).family !== 'hmac') throw new ConfigurationError(`${alg} needs a KeyObject`);
    if (key.length === 0) return false; // createSecretKey refuses empty keys; no empty HMAC key is valid here
    keyObject = createSecretKey(key);
  } else {
    keyObject = key;
  }
  checkKeyFor(alg, keyObject);
  const data = typeof signingInput === 'string' ? Buffer.from(signingInput, 'utf8') : signingInput;
  if (typeof signature === 'string') return createCompactVerifier(alg, keyObject)(data, signature, 0);
  return createVerifier(alg, keyObject)(data, signature);
}

function checkKeyFor(alg: Algorithm, key: KeyObject): void {
  const spec = specOf(alg);
  const expected = EXPECTED_KEY_TYPE[spec.family];
  if (spec.family === 'hmac' ? key.type !== 'secret' : !expected.includes(key.asymmetricKeyType ?? '')) {
    throw new ConfigurationError(`key of type ${key.asymmetricKeyType ?? key.type} cannot verify ${alg}`);
  }
  if (spec.family === 'ecdsa' && key.asymmetricKeyDetails?.namedCurve !== spec.curve) {
    throw new ConfigurationError(`${alg} needs a ${spec.crv} key`);
  }
}

/** `KeyObject.asymmetricKeyType` values usable with each family. */
export const EXPECTED_KEY_TYPE: Readonly<Record<AlgorithmSpec['family'], readonly string[]>> = {
  hmac: [],
  rsa: ['rsa'],
  'rsa-pss': ['rsa'],
  ecdsa: ['ec'],
  eddsa: ['ed25519'],
};

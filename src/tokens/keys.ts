/**
 * Keys: import (PEM, JWK, KeyObject, raw secret), strength checks, key ids, rotation and JWKS.
 *
 * A `KeyRing` holds one signing key and any number of verify-only previous keys (rotation, as
 * Rodauth's `jwt_old_secret`). Everything a token check needs — the `KeyObject`s, the prepared
 * signer/verifier, the exact header segments this ring writes — is computed once, in
 * `KeyRing.from`, never per call. A ring is immutable: to rotate, build a new one.
 */
import { Buffer } from 'node:buffer';
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  hkdfSync,
  KeyObject,
  type JsonWebKey as NodeJsonWebKey,
  randomBytes,
} from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import { type Algorithm, type AlgorithmSpec, algorithmSpec } from './algorithms.js';
import { base64urlLength, decodeBase64url, encodeBase64url } from './base64url.js';
import {
  type CompactVerifier,
  createCompactVerifier,
  createSigner,
  createVerifier,
  EXPECTED_KEY_TYPE,
  type Signer,
  signatureLength,
  type Verifier,
} from './signature.js';

export type { Algorithm } from './algorithms.js';

/** PEM text or a raw HMAC secret string, raw secret bytes, a `KeyObject`, or a JWK. */
export type KeyMaterial = string | Uint8Array | KeyObject | JsonWebKey;

/** A JWK as this library writes it: the standard members plus `kid`. */
export type Jwk = JsonWebKey & { kid?: string };

export interface KeyInput {
  alg: Algorithm;
  key: KeyMaterial;
  /**
   * Key id written in the header and looked up on verify. Default: the RFC 7638 JWK thumbprint of
   * the public key (asymmetric), or for secrets an HMAC of a fixed label under the secret, which
   * reveals nothing about it.
   */
  kid?: string;
}

export interface KeyRingOptions {
  signing: KeyInput;
  /** Verify-only keys (previous signing keys during a rotation). */
  previous?: KeyInput[];
}

export type TokenType = 'at+jwt' | 'rt+jwt';
export const TOKEN_TYPES: readonly TokenType[] = ['at+jwt', 'rt+jwt'];

export interface JwsHeader {
  alg: Algorithm;
  typ: TokenType;
  kid: string;
  [k: string]: unknown;
}

/** @internal What the codec needs about one configured key. */
export interface PreparedKey {
  readonly alg: Algorithm;
  readonly kid: string;
  /** The one token type this key signs and verifies: access keys `at+jwt`, refresh keys `rt+jwt`. */
  readonly typ: TokenType;
  readonly spec: AlgorithmSpec;
  readonly verify: Verifier;
  /** The same check over the base64url signature text of a token (the codec's hot path). */
  readonly verifyCompact: CompactVerifier;
  /** Present only for keys that can sign (the signing key, or previous private keys). */
  readonly sign: Signer | undefined;
  /** Exact signature length in bytes and in base64url characters. */
  readonly sigBytes: number;
  readonly sigChars: number;
  readonly publicJwk: Jwk | undefined;
}

/** @internal A header this ring writes: its exact base64url segment and the parsed form. */
export interface PreparedHeader {
  readonly key: PreparedKey;
  readonly typ: TokenType;
  readonly segment: string;
  readonly header: Readonly<JwsHeader>;
}

/** @internal */
export interface KeyRingInternals {
  readonly signing: PreparedKey;
  /** Every key, access and refresh; a key verifies only tokens of its own `typ`. */
  readonly byKid: ReadonlyMap<string, PreparedKey>;
  /** Header segments of the signing key, by type (what `sign` writes). */
  readonly signingHeaders: Readonly<Record<TokenType, PreparedHeader>>;
  /** Every header segment any configured key writes, for a parse-free fast path on verify. */
  readonly knownHeaders: ReadonlyMap<string, PreparedHeader>;
  /** The same headers as a list, the signing key's first (see {@link findKnownHeader}). */
  readonly knownHeaderList: readonly PreparedHeader[];
}

/** Up to this many headers (eight keys) a list scan beats the Map. */
const MAX_HEADER_SCAN = 16;

/**
 * @internal The header this ring writes whose segment is exactly `segment`, if any. The segment is a
 * fresh slice of the token: a Map lookup must hash all of it first, while `===` against a few
 * candidates is decided by the length or one memory comparison (about 4x faster for small rings).
 */
export function findKnownHeader(ring: KeyRingInternals, segment: string): PreparedHeader | undefined {
  const list = ring.knownHeaderList;
  if (list.length > MAX_HEADER_SCAN) return ring.knownHeaders.get(segment);
  for (let i = 0; i < list.length; i++) {
    const header = list[i]!;
    if (header.segment === segment) return header;
  }
  return undefined;
}

const INTERNALS = new WeakMap<KeyRing, KeyRingInternals>();

/** @internal The prepared state of a ring (not part of the public API). */
export function keyRingInternals(ring: KeyRing): KeyRingInternals {
  const internals = INTERNALS.get(ring);
  if (!internals) throw new ConfigurationError('not a KeyRing built by KeyRing.from');
  return internals;
}

const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 16384;
const MAX_KID_LENGTH = 256;

export class KeyRing {
  readonly signingKid: string;
  readonly signingAlg: Algorithm;
  /** The kid of the refresh-signing key (derived, never published; see {@link REFRESH_ALG}). */
  readonly refreshKid: string;
  readonly #jwks: readonly Jwk[];

  private constructor(internals: KeyRingInternals) {
    this.signingKid = internals.signing.kid;
    this.signingAlg = internals.signing.alg;
    this.refreshKid = internals.signingHeaders['rt+jwt'].key.kid;
    const jwks: Jwk[] = [];
    for (const key of internals.byKid.values()) if (key.publicJwk) jwks.push(key.publicJwk);
    this.#jwks = jwks;
    INTERNALS.set(this, internals);
    Object.freeze(this);
  }

  /**
   * Validates and prepares the keys. Throws `ConfigurationError` for: an unknown algorithm, key
   * material unusable with its algorithm (a PEM/JWK public key as an HMAC secret, a secret for an
   * asymmetric algorithm, a wrong curve, a non-Ed25519 key for EdDSA), weak keys (HMAC secret
   * shorter than the hash output, RSA under 2048 bits), a public key given for signing, a
   * duplicate or invalid `kid`.
   */
  static from(options: KeyRingOptions): KeyRing {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('key ring options must be an object');
    }
    if (options.previous !== undefined && !Array.isArray(options.previous)) {
      throw new ConfigurationError('previous keys must be an array');
    }
    const signing = prepareKey(options.signing, true, 'signing key');
    const byKid = new Map<string, PreparedKey>([[signing.key.kid, signing.key]]);
    const previous = options.previous ?? [];
    const prepared = [signing];
    for (let i = 0; i < previous.length; i++) {
      const entry = prepareKey(previous[i]!, false, `previous key #${i}`);
      if (byKid.has(entry.key.kid)) {
        throw new ConfigurationError(`duplicate kid ${JSON.stringify(entry.key.kid)} (previous key #${i})`);
      }
      byKid.set(entry.key.kid, entry.key);
      prepared.push(entry);
    }
    // Refresh keys, derived from each key's private material: the signing key's signs, the
    // previous keys' keep verifying refresh tokens issued before a rotation.
    let refreshSigning: PreparedKey | undefined;
    for (const entry of prepared) {
      if (entry.privateMaterial === undefined) continue; // a public-only previous key: nothing to derive
      const refresh = deriveRefreshKey(entry.privateMaterial);
      refreshSigning ??= refresh;
      const existing = byKid.get(refresh.kid);
      if (existing === undefined) byKid.set(refresh.kid, refresh);
      else if (existing.typ !== 'rt+jwt') {
        throw new ConfigurationError(`kid ${JSON.stringify(refresh.kid)} clashes with a refresh key's kid`);
      }
      // The same material given twice derives the same refresh key: one entry is enough.
    }
    const knownHeaders = new Map<string, PreparedHeader>();
    for (const key of byKid.values()) {
      const header = prepareHeader(key, key.typ);
      knownHeaders.set(header.segment, header);
    }
    const signingHeaders = {
      'at+jwt': knownHeaders.get(prepareHeader(signing.key, 'at+jwt').segment)!,
      'rt+jwt': knownHeaders.get(prepareHeader(refreshSigning!, 'rt+jwt').segment)!,
    };
    // Map order: the signing key's headers first, as they were inserted.
    const knownHeaderList = [...knownHeaders.values()];
    return new KeyRing({ signing: signing.key, byKid, signingHeaders, knownHeaders, knownHeaderList });
  }

  /**
   * The public keys of every asymmetric key in the ring (signing and previous), each with `kid`,
   * `alg` and `use: "sig"`. Never contains private or secret members; HMAC keys are not listed.
   */
  jwks(): { keys: Jwk[] } {
    return { keys: this.#jwks.map((k) => ({ ...k })) };
  }
}

function prepareHeader(key: PreparedKey, typ: TokenType): PreparedHeader {
  const header: JwsHeader = Object.freeze({ alg: key.alg, typ, kid: key.kid });
  const segment = encodeBase64url(JSON.stringify(header));
  return Object.freeze({ key, typ, segment, header });
}

/** A prepared access key, and the private bytes its refresh key is derived from (none for a public key). */
interface PreparedInput {
  key: PreparedKey;
  privateMaterial: Buffer | undefined;
}

function prepareKey(input: KeyInput, forSigning: boolean, what: string): PreparedInput {
  if (typeof input !== 'object' || input === null) throw new ConfigurationError(`${what} must be an object`);
  const spec = algorithmSpec(input.alg);
  if (!spec) {
    throw new ConfigurationError(`${what}: unsupported algorithm ${JSON.stringify(String(input.alg))}`);
  }
  if (input.kid !== undefined) checkKid(input.kid, what);
  const alg = spec.alg;

  if (spec.family === 'hmac') {
    const secret = importSecret(input.key, spec, what);
    const kid = input.kid ?? secretKid(secret, alg);
    return { key: hmacKey(alg, kid, 'at+jwt', secret), privateMaterial: secret.export() };
  }

  const key = importAsymmetric(input.key, spec, what);
  checkAsymmetric(key, spec, what);
  if (forSigning && key.type !== 'private') {
    throw new ConfigurationError(`${what}: a public key cannot sign; give the private key`);
  }
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  const kid = input.kid ?? jwkThumbprint(jwk);
  const publicJwk: Jwk = Object.freeze({ ...publicMembers(jwk), kid, alg, use: 'sig' });
  const sigBytes = signatureLength(spec, publicKey);
  const prepared: PreparedKey = Object.freeze({
    alg,
    kid,
    typ: 'at+jwt',
    spec,
    verify: createVerifier(alg, publicKey),
    verifyCompact: createCompactVerifier(alg, publicKey),
    sign: key.type === 'private' ? createSigner(alg, key) : undefined,
    sigBytes,
    sigChars: base64urlLength(sigBytes),
    publicJwk,
  });
  // The private scalar/exponent (`d`) is the same whatever format the key was given in.
  const privateJwk = key.type === 'private' ? (key.export({ format: 'jwk' }) as JsonWebKey) : undefined;
  return {
    key: prepared,
    privateMaterial: privateJwk?.d === undefined ? undefined : Buffer.from(privateJwk.d, 'base64url'),
  };
}

function hmacKey(alg: Algorithm, kid: string, typ: TokenType, secret: KeyObject): PreparedKey {
  const spec = algorithmSpec(alg)!;
  const sigBytes = spec.hashBytes;
  return Object.freeze({
    alg,
    kid,
    typ,
    spec,
    verify: createVerifier(alg, secret),
    verifyCompact: createCompactVerifier(alg, secret),
    sign: createSigner(alg, secret),
    sigBytes,
    sigChars: base64urlLength(sigBytes),
    publicJwk: undefined,
  });
}

/** The algorithm of refresh tokens, whatever the access tokens use: they are only ever verified here. */
export const REFRESH_ALG: Algorithm = 'HS256';
const REFRESH_KEY_SALT = 'jwt-sessions refresh-token key v1';
const REFRESH_KEY_INFO = 'rt+jwt HS256';

/**
 * The refresh-signing key of one configured key: HKDF-SHA-256 of its private material (the HMAC
 * secret, or the private key's `d`). It is never published (an HMAC key has no JWKS entry) and is
 * not the access secret, so a resource server holding the JWKS or the access secret cannot accept
 * a refresh token, even one that forgets to check `typ` (SPEC §1). The same material always
 * derives the same key, so rotation (previous keys given with their private part) keeps verifying
 * refresh tokens issued under the previous key.
 */
function deriveRefreshKey(privateMaterial: Buffer): PreparedKey {
  const bytes = Buffer.from(hkdfSync('sha256', privateMaterial, REFRESH_KEY_SALT, REFRESH_KEY_INFO, 32));
  const secret = createSecretKey(bytes);
  return hmacKey(REFRESH_ALG, `rt-${secretKid(secret, REFRESH_ALG)}`, 'rt+jwt', secret);
}

function checkKid(kid: unknown, what: string): void {
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    throw new ConfigurationError(
      `${what}: kid must be a non-empty string of at most ${MAX_KID_LENGTH} chars`,
    );
  }
  for (let i = 0; i < kid.length; i++) {
    const c = kid.charCodeAt(i);
    if (c < 0x20 || c === 0x7f)
      throw new ConfigurationError(`${what}: kid must not contain control characters`);
  }
}

function isJwkObject(value: unknown): value is JsonWebKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !(value instanceof KeyObject) &&
    typeof (value as { kty?: unknown }).kty === 'string'
  );
}

function looksLikeKeyText(text: string): boolean {
  if (text.includes('-----BEGIN')) return true;
  const t = text.trimStart();
  return t.startsWith('{') && t.includes('"kty"');
}

function checkJwkUse(jwk: JsonWebKey, spec: AlgorithmSpec, what: string): void {
  if (jwk.alg !== undefined && jwk.alg !== spec.alg) {
    throw new ConfigurationError(`${what}: JWK alg ${JSON.stringify(jwk.alg)} does not match ${spec.alg}`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new ConfigurationError(`${what}: JWK use ${JSON.stringify(jwk.use)} is not "sig"`);
  }
}

function importSecret(material: KeyMaterial, spec: AlgorithmSpec, what: string): KeyObject {
  let bytes: Buffer;
  if (typeof material === 'string') {
    // Key confusion by construction: PEM or JWK text is a *public* thing, never an HMAC secret.
    if (looksLikeKeyText(material)) {
      throw new ConfigurationError(`${what}: ${spec.alg} needs a secret, not PEM or JWK text`);
    }
    bytes = Buffer.from(material, 'utf8');
  } else if (material instanceof Uint8Array) {
    bytes = Buffer.from(material); // a copy: later changes by the caller do not reach the key
  } else if (material instanceof KeyObject) {
    if (material.type !== 'secret') {
      throw new ConfigurationError(`${what}: ${spec.alg} needs a secret key, got a ${material.type} key`);
    }
    bytes = material.export();
  } else if (isJwkObject(material)) {
    if (material.kty !== 'oct' || typeof material.k !== 'string') {
      throw new ConfigurationError(
        `${what}: ${spec.alg} needs an "oct" JWK with "k", got kty ${material.kty}`,
      );
    }
    checkJwkUse(material, spec, what);
    const decoded = decodeBase64url(material.k);
    if (!decoded) throw new ConfigurationError(`${what}: JWK "k" is not canonical base64url`);
    bytes = decoded;
  } else {
    throw new ConfigurationError(`${what}: unsupported key material for ${spec.alg}`);
  }
  if (bytes.length < spec.hashBytes) {
    throw new ConfigurationError(
      `${what}: ${spec.alg} secret is ${bytes.length} bytes; at least ${spec.hashBytes} (the hash output) are required`,
    );
  }
  return createSecretKey(bytes);
}

function importAsymmetric(material: KeyMaterial, spec: AlgorithmSpec, what: string): KeyObject {
  try {
    if (typeof material === 'string') {
      if (!material.includes('-----BEGIN')) {
        throw new ConfigurationError(
          `${what}: ${spec.alg} needs a PEM key, a JWK or a KeyObject, not a string secret`,
        );
      }
      return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(material)
        ? createPrivateKey(material)
        : createPublicKey(material);
    }
    if (material instanceof KeyObject) {
      if (material.type === 'secret') {
        throw new ConfigurationError(`${what}: ${spec.alg} needs an asymmetric key, got a secret`);
      }
      return material;
    }
    if (material instanceof Uint8Array) {
      throw new ConfigurationError(
        `${what}: ${spec.alg} needs a PEM key, a JWK or a KeyObject, not raw bytes`,
      );
    }
    if (isJwkObject(material)) {
      checkJwkUse(material, spec, what);
      if (material.kty === 'oct')
        throw new ConfigurationError(`${what}: ${spec.alg} cannot use an "oct" JWK`);
      const jwk = material as NodeJsonWebKey;
      return typeof material.d === 'string'
        ? createPrivateKey({ key: jwk, format: 'jwk' })
        : createPublicKey({ key: jwk, format: 'jwk' });
    }
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`${what}: cannot import the ${spec.alg} key`, { cause: error });
  }
  throw new ConfigurationError(`${what}: unsupported key material for ${spec.alg}`);
}

function checkAsymmetric(key: KeyObject, spec: AlgorithmSpec, what: string): void {
  const type = key.asymmetricKeyType ?? '';
  if (type === 'rsa-pss') {
    throw new ConfigurationError(
      `${what}: RSASSA-PSS-restricted keys (rsa-pss) are not supported; use a plain RSA key for ${spec.alg}`,
    );
  }
  if (!EXPECTED_KEY_TYPE[spec.family].includes(type)) {
    const need =
      spec.family === 'eddsa' ? 'an Ed25519' : spec.family === 'ecdsa' ? `a ${spec.crv}` : 'an RSA';
    throw new ConfigurationError(`${what}: ${spec.alg} needs ${need} key, got ${type || key.type}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (spec.family === 'ecdsa' && details.namedCurve !== spec.curve) {
    throw new ConfigurationError(`${what}: ${spec.alg} needs a ${spec.crv} key, got ${details.namedCurve}`);
  }
  if (spec.family === 'rsa' || spec.family === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new ConfigurationError(`${what}: RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
    }
    if (bits > MAX_RSA_BITS) throw new ConfigurationError(`${what}: RSA key of ${bits} bits is too large`);
    const e = details.publicExponent;
    if (e === undefined || e < 3n || (e & 1n) === 0n) {
      throw new ConfigurationError(`${what}: RSA public exponent must be odd and at least 3`);
    }
  }
}

const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** Only the public members of a public JWK (drops anything else Node might add). */
function publicMembers(jwk: JsonWebKey): JsonWebKey {
  const names = PUBLIC_MEMBERS[jwk.kty ?? ''];
  if (!names) throw new ConfigurationError(`unexpected JWK kty ${jwk.kty}`);
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = (jwk as Record<string, unknown>)[name];
  return out as JsonWebKey;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public RSA, EC or OKP key, or an oct key. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  let members: Record<string, unknown>;
  switch (jwk.kty) {
    case 'RSA':
      members = { e: jwk.e, kty: 'RSA', n: jwk.n };
      break;
    case 'EC':
      members = { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
      break;
    case 'OKP':
      members = { crv: jwk.crv, kty: 'OKP', x: jwk.x };
      break;
    case 'oct':
      members = { k: jwk.k, kty: 'oct' };
      break;
    default:
      throw new ConfigurationError(`cannot compute a thumbprint for kty ${jwk.kty}`);
  }
  for (const [name, value] of Object.entries(members)) {
    if (typeof value !== 'string') throw new ConfigurationError(`JWK member ${name} missing for thumbprint`);
  }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A key id for a secret that reveals nothing about it: HMAC-SHA-256 of a fixed label, truncated. */
function secretKid(secret: KeyObject, alg: Algorithm): string {
  return createHmac('sha256', secret)
    .update(`jwt-sessions key id v1 ${alg}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

export interface GeneratedKey {
  alg: Algorithm;
  kid: string;
  privateKey: KeyObject;
  publicKey?: KeyObject;
  privatePem?: string;
  publicPem?: string;
  privateJwk: Jwk;
  publicJwk?: Jwk;
  /** HS*: the secret, base64url (as many random bytes as the hash output). */
  secret?: string;
}

/**
 * Generates a fresh key for `alg` (for the CLI `keygen` and for tests): HS* a random secret as long
 * as the hash output; RS and PS 2048-bit RSA (plain `rsa` keys); ES* on the matching curve;
 * EdDSA Ed25519. `kid` is what `KeyRing.from` would derive by default.
 */
export function generateKey(alg: Algorithm): GeneratedKey {
  const spec = algorithmSpec(alg);
  if (!spec) throw new ConfigurationError(`unsupported algorithm ${JSON.stringify(String(alg))}`);
  if (spec.family === 'hmac') {
    const bytes = randomBytes(spec.hashBytes);
    const privateKey = createSecretKey(bytes);
    const secret = bytes.toString('base64url');
    const kid = secretKid(privateKey, spec.alg);
    return {
      alg: spec.alg,
      kid,
      privateKey,
      secret,
      privateJwk: { kty: 'oct', k: secret, kid, alg: spec.alg, use: 'sig' },
    };
  }
  const { privateKey, publicKey } =
    spec.family === 'ecdsa'
      ? generateKeyPairSync('ec', { namedCurve: spec.curve! })
      : spec.family === 'eddsa'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwkRaw = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  const kid = jwkThumbprint(publicJwkRaw);
  const meta = { kid, alg: spec.alg, use: 'sig' };
  return {
    alg: spec.alg,
    kid,
    privateKey,
    publicKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JsonWebKey), ...meta },
    publicJwk: { ...publicMembers(publicJwkRaw), ...meta },
  };
}

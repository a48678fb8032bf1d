import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, createSecretKey, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  type Algorithm,
  generateKey,
  type JwtClaims,
  JwtCodec,
  type KeyMaterial,
  KeyRing,
} from '../../src/tokens/index.js';
import { ALGORITHMS, claims, expectCode, keyFor, NOW } from './helpers.js';

const ASYMMETRIC = ALGORITHMS.filter((a) => !a.startsWith('HS'));
const HMAC = ALGORITHMS.filter((a) => a.startsWith('HS'));

function roundTrip(alg: Algorithm, signing: KeyMaterial): JwtClaims {
  const signer = new JwtCodec({ keys: { signing: { alg, key: signing } } });
  const token = signer.sign('at+jwt', claims({ custom: { nested: [1, 'two', null, true] } }));
  const { header, payload } = signer.verify(token, { typ: 'at+jwt', now: NOW });
  expect(header).toEqual({ alg, typ: 'at+jwt', kid: signer.keys.signingKid });
  return payload;
}

describe('round trips', () => {
  it.each(ALGORITHMS)('%s: sign then verify (access and refresh types)', (alg) => {
    const key = keyFor(alg);
    const codec = new JwtCodec({
      keys: { signing: { alg, key: key.privateKey } },
      issuer: 'iss',
      audience: 'aud',
    });
    for (const typ of ['at+jwt', 'rt+jwt'] as const) {
      const token = codec.sign(typ, claims({ typ_marker: typ }));
      const { header, payload } = codec.verify(token, { typ, now: NOW });
      // Refresh tokens: HS256 under the derived refresh key, never the access key (SPEC §1).
      expect(header).toEqual(
        typ === 'at+jwt' ? { alg, typ, kid: key.kid } : { alg: 'HS256', typ, kid: codec.keys.refreshKid },
      );
      expect(payload).toEqual({ ...claims({ typ_marker: typ }), iss: 'iss', aud: 'aud' });
    }
    expect(codec.keys.signingAlg).toBe(alg);
    expect(codec.keys.signingKid).toBe(key.kid);
  });

  it.each(ASYMMETRIC)('%s: key given as PEM, JWK and KeyObject', (alg) => {
    const key = keyFor(alg);
    const payloads = [
      roundTrip(alg, key.privatePem!),
      roundTrip(alg, key.privateJwk),
      roundTrip(alg, key.privateKey),
      roundTrip(alg, createPrivateKey(key.privatePem!)),
    ];
    for (const p of payloads) expect(p.sub).toBe('1234567890');
    // A verify-only ring built from the public key (PEM, JWK, KeyObject) accepts the tokens.
    const signer = new JwtCodec({ keys: { signing: { alg, key: key.privatePem! } } });
    const token = signer.sign('at+jwt', claims());
    for (const pub of [key.publicPem!, key.publicJwk!, key.publicKey!, createPublicKey(key.publicPem!)]) {
      const verifier = new JwtCodec({
        keys: { signing: { alg: 'HS256', key: randomBytes(32) }, previous: [{ alg, key: pub }] },
      });
      expect(verifier.verify(token, { typ: 'at+jwt', now: NOW }).payload.sid).toBe('Yk3vX1s9b2QpL0aZr8TuWg');
    }
  });

  it.each(HMAC)('%s: secret given as string, bytes, KeyObject and oct JWK', (alg) => {
    const bytes = randomBytes(Number(alg.slice(2)) / 8);
    const text = bytes.toString('hex'); // a string secret is used as its UTF-8 bytes
    for (const material of [
      text,
      bytes,
      new Uint8Array(bytes),
      createSecretKey(bytes),
      { kty: 'oct', k: bytes.toString('base64url') },
    ] as KeyMaterial[]) {
      expect(roundTrip(alg, material).exp).toBe(NOW + 900);
    }
    // The same secret in different forms gives the same default kid and interoperates.
    const a = KeyRing.from({ signing: { alg, key: bytes } });
    const b = KeyRing.from({ signing: { alg, key: createSecretKey(bytes) } });
    expect(a.signingKid).toBe(b.signingKid);
    expect(a.refreshKid).toBe(b.refreshKid);
    expect(a.refreshKid).not.toBe(a.signingKid);
    const token = new JwtCodec({ keys: a }).sign('rt+jwt', claims());
    expect(new JwtCodec({ keys: b }).verify(token, { typ: 'rt+jwt', now: NOW }).payload.jti).toBeDefined();
  });

  it('a string secret and its bytes are the same key', () => {
    const secret = 'correct horse battery staple, but much longer!!';
    const a = new JwtCodec({ keys: { signing: { alg: 'HS256', key: secret } } });
    const b = new JwtCodec({ keys: { signing: { alg: 'HS256', key: Buffer.from(secret, 'utf8') } } });
    expect(b.verify(a.sign('at+jwt', claims()), { typ: 'at+jwt', now: NOW }).payload.sub).toBe('1234567890');
  });

  it('the key ring copies secret bytes (later changes by the caller do not reach the key)', () => {
    const bytes = randomBytes(32);
    const codec = new JwtCodec({ keys: { signing: { alg: 'HS256', key: bytes } } });
    const token = codec.sign('at+jwt', claims());
    bytes.fill(0);
    expect(codec.verify(token, { typ: 'at+jwt', now: NOW }).payload.sub).toBe('1234567890');
  });

  it('createJwtCodec and new JwtCodec are equivalent; a KeyRing or its options are accepted', async () => {
    const { createJwtCodec } = await import('../../src/tokens/index.js');
    const ring = KeyRing.from({ signing: { alg: 'HS256', key: randomBytes(32) } });
    const a = createJwtCodec({ keys: ring });
    const b = new JwtCodec({ keys: ring });
    expect(a.keys).toBe(ring);
    expect(b.verify(a.sign('at+jwt', claims()), { typ: 'at+jwt', now: NOW }).payload.sub).toBe('1234567890');
  });
});

describe('rotation', () => {
  it('a token signed by a previous key verifies; signing uses the new key', () => {
    const oldKey = generateKey('ES256');
    const newKey = generateKey('EdDSA');
    const oldSecret = randomBytes(32);
    const before = new JwtCodec({ keys: { signing: { alg: 'ES256', key: oldKey.privateKey } } });
    const beforeHs = new JwtCodec({ keys: { signing: { alg: 'HS256', key: oldSecret } } });
    const oldToken = before.sign('at+jwt', claims());
    const oldHsToken = beforeHs.sign('rt+jwt', claims());

    const after = new JwtCodec({
      keys: {
        signing: { alg: 'EdDSA', key: newKey.privateKey },
        previous: [
          { alg: 'ES256', key: oldKey.publicKey! },
          { alg: 'HS256', key: oldSecret },
        ],
      },
    });
    expect(after.verify(oldToken, { typ: 'at+jwt', now: NOW }).header.kid).toBe(oldKey.kid);
    expect(after.verify(oldHsToken, { typ: 'rt+jwt', now: NOW }).header.alg).toBe('HS256');
    const fresh = after.sign('at+jwt', claims());
    const { header } = after.verify(fresh, { typ: 'at+jwt', now: NOW });
    expect(header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: newKey.kid });
    expect(after.keys.signingKid).toBe(newKey.kid);
    // The old ring does not know the new key.
    expectCode(() => before.verify(fresh, { typ: 'at+jwt', now: NOW }), 'kid_unknown');
  });

  it('a previous key given as a private key is used only to verify', () => {
    const oldKey = generateKey('ES256');
    const newKey = keyFor('ES256');
    const ring = KeyRing.from({
      signing: { alg: 'ES256', key: newKey.privateKey },
      previous: [{ alg: 'ES256', key: oldKey.privatePem! }],
    });
    const codec = new JwtCodec({ keys: ring });
    for (let i = 0; i < 5; i++)
      expect(codec.verify(codec.sign('at+jwt', claims()), { typ: 'at+jwt', now: NOW }).header.kid).toBe(
        newKey.kid,
      );
  });
});

describe('JWKS and key ids', () => {
  const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

  it('exports the public keys of asymmetric keys only, with kid, alg and use', () => {
    const rs = keyFor('RS256');
    const es = keyFor('ES384');
    const ed = keyFor('EdDSA');
    const ring = KeyRing.from({
      signing: { alg: 'RS256', key: rs.privatePem! },
      previous: [
        { alg: 'ES384', key: es.privateJwk },
        { alg: 'EdDSA', key: ed.publicKey! },
        { alg: 'HS512', key: randomBytes(64) },
      ],
    });
    const { keys } = ring.jwks();
    expect(keys.map((k) => k.kid)).toEqual([rs.kid, es.kid, ed.kid]);
    expect(keys.map((k) => k.alg)).toEqual(['RS256', 'ES384', 'EdDSA']);
    for (const k of keys) {
      expect(k.use).toBe('sig');
      for (const m of PRIVATE_MEMBERS) expect(k).not.toHaveProperty(m);
    }
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(Object.keys(keys[1]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(Object.keys(keys[2]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    // Callers cannot alter the ring through the returned document.
    (keys[0] as Record<string, unknown>).n = 'tampered';
    expect(ring.jwks().keys[0]!.n).not.toBe('tampered');
  });

  it('an HMAC-only ring exports an empty JWKS', () => {
    expect(KeyRing.from({ signing: { alg: 'HS256', key: randomBytes(32) } }).jwks()).toEqual({ keys: [] });
  });

  it.each(ASYMMETRIC)('%s: default kid is the RFC 7638 thumbprint of the public key', async (alg) => {
    const key = keyFor(alg);
    const ring = KeyRing.from({ signing: { alg, key: key.privateKey } });
    expect(ring.signingKid).toBe(
      await calculateJwkThumbprint(key.publicJwk as Parameters<typeof calculateJwkThumbprint>[0]),
    );
  });

  it('default kid of a secret reveals nothing about it and differs per algorithm', () => {
    const bytes = randomBytes(64);
    const kid256 = KeyRing.from({ signing: { alg: 'HS256', key: bytes } }).signingKid;
    const kid512 = KeyRing.from({ signing: { alg: 'HS512', key: bytes } }).signingKid;
    expect(kid256).not.toBe(kid512);
    expect(kid256).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(bytes.toString('base64url')).not.toContain(kid256);
  });

  it('an explicit kid is used as given', () => {
    const codec = new JwtCodec({ keys: { signing: { alg: 'HS256', key: randomBytes(32), kid: '2025-01' } } });
    expect(codec.verify(codec.sign('at+jwt', claims()), { typ: 'at+jwt', now: NOW }).header.kid).toBe(
      '2025-01',
    );
  });

  it.each(ALGORITHMS)('%s: generateKey gives usable, self-consistent material', (alg) => {
    const key = generateKey(alg);
    expect(key.alg).toBe(alg);
    expect(key.privateJwk.kid).toBe(key.kid);
    if (alg.startsWith('HS')) {
      expect(Buffer.from(key.secret!, 'base64url').length).toBe(Number(alg.slice(2)) / 8);
      expect(key.publicKey).toBeUndefined();
      expect(KeyRing.from({ signing: { alg, key: key.secret! } }).signingKid).not.toBe(key.kid); // the text, not the bytes
      expect(KeyRing.from({ signing: { alg, key: Buffer.from(key.secret!, 'base64url') } }).signingKid).toBe(
        key.kid,
      );
    } else {
      expect(key.privatePem).toContain('-----BEGIN PRIVATE KEY-----');
      expect(key.publicPem).toContain('-----BEGIN PUBLIC KEY-----');
      for (const m of PRIVATE_MEMBERS) expect(key.publicJwk).not.toHaveProperty(m);
      expect(KeyRing.from({ signing: { alg, key: key.privatePem! } }).signingKid).toBe(key.kid);
    }
  });

  it('a ring is immutable', () => {
    const ring = KeyRing.from({ signing: { alg: 'HS256', key: randomBytes(32) } });
    expect(() => {
      (ring as { signingKid: string }).signingKid = 'x';
    }).toThrow(TypeError);
    expect(() => KeyRing.from(undefined as never)).toThrow(ConfigurationError);
  });
});

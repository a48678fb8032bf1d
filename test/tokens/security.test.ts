/**
 * One named test per rule of SECURITY.md, "Token parsing and verification" (the Wycheproof rule has
 * its own file, wycheproof.test.ts). Tokens are crafted with node:crypto directly (helpers.craft),
 * so every case is signed correctly unless the rule under test is about the signature: each refusal
 * below is caused by the rule, not by a bad signature.
 */
import { Buffer } from 'node:buffer';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ClaimsVerificationError,
  ConfigurationError,
  TokenExpiredError,
  TokenFormatError,
} from '../../src/errors.js';
import { type Algorithm, JwtCodec, KeyRing } from '../../src/tokens/index.js';
import { b64, claims, craft, expectCode, expectRefused, keyFor, NOW, rawSign } from './helpers.js';

const SECRET = randomBytes(32);
const SECRET_KEY = createSecretKey(SECRET);
const hs = new JwtCodec({ keys: { signing: { alg: 'HS256', key: SECRET } } });
const KID = hs.keys.signingKid;
const HEADER = { alg: 'HS256', typ: 'at+jwt', kid: KID };
const at = { typ: 'at+jwt' as const, now: NOW };

/** A correctly signed HS256 token with the given header/payload (objects or raw JSON text). */
function hsToken(header: object | string = HEADER, payload: object | string = claims()): string {
  return craft({ header, payload, alg: 'HS256', key: SECRET_KEY });
}

function segments(token: string): [string, string, string] {
  const [h, p, s] = token.split('.');
  return [h!, p!, s!];
}

describe('SECURITY.md: token parsing and verification', () => {
  it('sanity: the crafted baseline token verifies', () => {
    expect(hs.verify(hsToken(), at).payload.sub).toBe('1234567890');
  });

  it('[T1] size cap before any parsing (default 8 KiB, configurable)', () => {
    // A correctly signed token just over the cap is refused as too large, not parsed.
    const big = hsToken(HEADER, claims({ pad: 'x'.repeat(8192) }));
    expectCode(() => hs.verify(big, at), 'token_too_large', TokenFormatError);
    // Garbage over the cap: too large, never "malformed" (no parsing happened).
    expectCode(() => hs.verify('.'.repeat(10_000), at), 'token_too_large');
    expectCode(() => hs.verify('a'.repeat(8193), at), 'token_too_large');
    // A configurable cap.
    const small = new JwtCodec({ keys: hs.keys, maxTokenBytes: 256 });
    const token = hsToken(HEADER, claims({ pad: 'x'.repeat(200) }));
    expect(token.length).toBeGreaterThan(256);
    expectCode(() => small.verify(token, at), 'token_too_large');
    expect(hs.verify(token, at).payload.pad).toBe('x'.repeat(200));
    // Bounded time whatever the size: 14 MB of pathological JSON-ish text is refused without being read.
    const huge = `${'{"a":['.repeat(1 << 20)}.${'"\\'.repeat(1 << 22)}.x`;
    const started = performance.now();
    for (let i = 0; i < 1000; i++) expectCode(() => hs.verify(huge, at), 'token_too_large');
    // Generous: 1000 O(1) refusals take about a millisecond; one scan of the 14 MB would take ~10 ms.
    expect(performance.now() - started).toBeLessThan(2000);
    // Nothing at all.
    expectCode(() => hs.verify('', at), 'token_missing', TokenFormatError);
    expectCode(() => hs.verify(undefined as unknown as string, at), 'token_missing');
  });

  it('[T2] exactly three segments', () => {
    const [h, p, s] = segments(hsToken());
    for (const bad of [
      `${h}.${p}`,
      `${h}.${p}.${s}.`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}.${p}.${s}`, // JWE-like: five segments
      `${h}..${p}.${s}`,
      `.${h}.${p}.${s}`,
      `${h}${p}${s}`,
      `${h}.${p}`,
    ]) {
      expectCode(() => hs.verify(bad, at), 'token_malformed', TokenFormatError);
    }
    expectCode(() => hs.verify(`.${p}.${s}`, at), 'token_malformed');
    expectCode(() => hs.verify(`${h}..${s}`, at), 'token_malformed');
  });

  it('[T2] each segment strict canonical base64url: alphabet only, no padding, no whitespace, no unused non-zero bits', () => {
    const token = hsToken();
    const [h, p, s] = segments(token);
    const variants: string[] = [];
    for (const [i, seg] of [h, p, s].entries()) {
      const put = (v: string) => {
        const parts = [h, p, s];
        parts[i] = v;
        variants.push(parts.join('.'));
      };
      put(`${seg}=`); // padding
      put(`${seg}==`);
      put(` ${seg}`); // whitespace
      put(`${seg}\n`);
      put(`${seg.slice(0, 10)} ${seg.slice(10)}`);
      put(`${seg.slice(0, 10)}\t${seg.slice(10)}`);
      put(`${seg.slice(0, 4)}+${seg.slice(5)}`); // standard-alphabet characters
      put(`${seg.slice(0, 4)}/${seg.slice(5)}`);
      put(`${seg.slice(0, 4)}\u0141${seg.slice(5)}`); // a lenient decoder reads U+0141 as "A"
      put(`${seg.slice(0, 4)}é${seg.slice(5)}`);
      put(`${seg.slice(0, 4)}.${seg.slice(5)}`);
      put(seg.slice(0, seg.length - ((((seg.length - 1) % 4) + 4) % 4))); // length % 4 === 1
    }
    for (const v of variants) expectRefused(() => hs.verify(v, at));

    // Non-zero unused bits: the same bytes spelled differently (last char differs only in unused bits).
    const sig = Buffer.from(s, 'base64url'); // 32 bytes -> 43 chars, 2 unused bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1)!);
    for (let bits = 1; bits < 4; bits++) {
      const sneaky = `${s.slice(0, -1)}${alphabet[last | bits]}`;
      if (sneaky === s) continue;
      expect(Buffer.from(sneaky, 'base64url').equals(sig)).toBe(true); // lenient decoders agree...
      expectCode(() => hs.verify(`${h}.${p}.${sneaky}`, at), 'token_malformed'); // ...we do not
    }
    // Header and payload with unused bits set: payload of length 2 mod 4 / 3 mod 4.
    for (const pad of ['', 'x', 'xx']) {
      const t = hsToken(HEADER, claims({ pad }));
      const [th, tp] = segments(t);
      const rem = tp.length % 4;
      if (rem === 0) continue;
      const idx = alphabet.indexOf(tp.at(-1)!);
      const sneakyP = `${tp.slice(0, -1)}${alphabet[idx | 1]}`;
      if (sneakyP === tp) continue;
      const input = `${th}.${sneakyP}`;
      const resigned = `${input}.${rawSign('HS256', SECRET_KEY, input).toString('base64url')}`;
      expectCode(() => hs.verify(resigned, at), 'token_malformed');
    }
    // Correctly signed (by a key holder) yet not canonical: still refused as malformed, for the
    // payload of an HMAC token and the signature of an asymmetric one.
    const es = keyFor('ES256');
    const esCodec = new JwtCodec({ keys: { signing: { alg: 'ES256', key: es.privateKey } } });
    const [eh, ep, esig] = segments(esCodec.sign('at+jwt', claims()));
    for (const ch of ['+', '/', '=', ' ', '\n', 'é', '\u0141', '!', '.']) {
      const input = `${h}.${p.slice(0, 8)}${ch}${p.slice(9)}`;
      const resigned = `${input}.${rawSign('HS256', SECRET_KEY, input).toString('base64url')}`;
      expectCode(() => hs.verify(resigned, at), 'token_malformed');
      if (ch !== '.') {
        const sneakySig = `${esig.slice(0, 8)}${ch}${esig.slice(9)}`;
        expectRefused(() => esCodec.verify(`${eh}.${ep}.${sneakySig}`, at));
      }
    }
  });

  it('[T2] a JWE, JSON serialization or polyglot input is refused', () => {
    const token = hsToken();
    const [h, p, s] = segments(token);
    const jwe = `${b64(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: KID }))}..${b64('iv')}.${p}.${s}`;
    expectCode(() => hs.verify(jwe, at), 'token_malformed');
    const flattened = JSON.stringify({ protected: h, payload: p, signature: s });
    expectCode(() => hs.verify(flattened, at), 'token_malformed');
    const general = JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] });
    expectCode(() => hs.verify(general, at), 'token_malformed');
    // Polyglot: a compact token with a JSON tail, or embedded in JSON.
    expectRefused(() => hs.verify(`${token}{"payload":"${p}"}`, at));
    expectRefused(() => hs.verify(`{"a":"${token}"}`, at));
    // A header announcing JWE members in a three-segment token.
    expectCode(() => hs.verify(hsToken({ ...HEADER, enc: 'A256GCM' }), at), 'token_malformed');
    expectCode(() => hs.verify(hsToken({ ...HEADER, zip: 'DEF' }), at), 'token_malformed');
  });

  it('[T3] header and payload must be JSON objects', () => {
    for (const notObject of [
      '[]',
      '"string"',
      '42',
      'null',
      'true',
      '[{"alg":"HS256"}]',
      '',
      '{',
      '{"a":1',
      "{'a':1}",
      '{"a":1}x',
      '{"a":1}{"b":2}',
    ]) {
      expectCode(() => hs.verify(hsToken(notObject, claims()), at), 'token_malformed');
      if (notObject !== '') expectCode(() => hs.verify(hsToken(HEADER, notObject), at), 'token_malformed');
    }
    // JSON whitespace around a genuine object is fine (still an object, still signed).
    expect(
      hs.verify(hsToken(` ${JSON.stringify(HEADER)}\n`, `\t${JSON.stringify(claims())} `), at).payload.sub,
    ).toBe('1234567890');
  });

  it('[T3] header and payload must be valid UTF-8', () => {
    const json = Buffer.from(JSON.stringify(claims({ name: 'XX' })), 'utf8');
    const at1 = json.indexOf('XX');
    const illFormed = [
      [0xc0, 0xaf], // overlong "/"
      [0xed, 0xa0], // start of an encoded surrogate (ED A0 80)
      [0x80, 0x80], // lone continuation bytes
      [0xff, 0xfe],
      [0xe2, 0x82], // truncated 3-byte sequence followed by a quote
    ];
    for (const bytes of illFormed) {
      const raw = Buffer.from(json);
      raw[at1] = bytes[0]!;
      raw[at1 + 1] = bytes[1]!;
      expectCode(
        () => hs.verify(craft({ header: HEADER, payload: { raw }, alg: 'HS256', key: SECRET_KEY }), at),
        'token_malformed',
      );
      const rawHeader = Buffer.from(JSON.stringify({ ...HEADER, x: 'XX' }), 'utf8');
      const hx = rawHeader.indexOf('XX');
      rawHeader[hx] = bytes[0]!;
      rawHeader[hx + 1] = bytes[1]!;
      expectCode(
        () =>
          hs.verify(
            craft({ header: { raw: rawHeader }, payload: claims(), alg: 'HS256', key: SECRET_KEY }),
            at,
          ),
        'token_malformed',
      );
    }
    // A byte-order mark is not JSON whitespace.
    expectCode(() => hs.verify(hsToken(`\ufeff${JSON.stringify(HEADER)}`), at), 'token_malformed');
    // Well-formed non-ASCII, including a genuine U+FFFD, is accepted.
    const ok = hs.verify(hsToken(HEADER, claims({ name: 'Zoë \ufffd 😀 日本' })), at);
    expect(ok.payload.name).toBe('Zoë \ufffd 😀 日本');
  });

  it('[T3] no duplicate member names, at any depth', () => {
    const h = JSON.stringify(HEADER);
    const p = JSON.stringify(claims());
    const dupHeaders = [
      `{"alg":"none",${h.slice(1)}`,
      `${h.slice(0, -1)},"alg":"HS256"}`,
      `${h.slice(0, -1)},"typ":"rt+jwt"}`,
      `${h.slice(0, -1)},"kid":"other"}`,
      `${h.slice(0, -1)},"k\\u0069d":${JSON.stringify(KID)}}`, // "kid" spelled with an escape
    ];
    for (const dh of dupHeaders) expectCode(() => hs.verify(hsToken(dh, p), at), 'token_malformed');
    const dupPayloads = [
      `${p.slice(0, -1)},"exp":${NOW + 999999}}`,
      `{"exp":1,${p.slice(1)}`,
      `${p.slice(0, -1)},"sub":"admin"}`,
      `${p.slice(0, -1)},"\\u0073ub":"admin"}`,
      `${p.slice(0, -1)}, "sub" : "admin"}`,
      `${p.slice(0, -1)},"nested":{"a":1,"a":2}}`,
      `${p.slice(0, -1)},"list":[{"deep":{"x":[{"k":1,"k":1}]}}]}`,
      `${p.slice(0, -1)},"__proto__":1,"__proto__":2}`,
    ];
    for (const dp of dupPayloads) expectCode(() => hs.verify(hsToken(h, dp), at), 'token_malformed');
    // No false positives: colons, quotes and backslashes inside strings; same name in different objects.
    const tricky = claims({
      url: 'https://example.com:8443/a:b',
      quote: 'say "a": 1, "sub": "x"',
      backslash: 'C:\\dir\\',
      spaced: 'a : b',
      quoteColon: '":',
      nested: { sub: 'inner', list: [{ sub: 1 }, { sub: 2 }] },
    });
    expect(hs.verify(hsToken(HEADER, tricky), at).payload).toEqual(tricky);
    expect(hs.verify(hsToken(HEADER, JSON.stringify(tricky, null, 2)), at).payload).toEqual(tricky);
  });

  it('[T4] signature checked before any claim (an expired token with a bad signature reports the signature)', () => {
    const expired = hsToken(HEADER, claims({ exp: NOW - 10 }));
    expect(() => hs.verify(expired, at)).toThrow(TokenExpiredError);
    const [h, p, s] = segments(expired);
    const flipped = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
    expectCode(() => hs.verify(flipped, at), 'signature_invalid', TokenFormatError);
    // Also before typ, nbf, iss, aud, and before the payload is even parsed.
    const other = new JwtCodec({
      keys: { signing: { alg: 'HS256', key: randomBytes(32), kid: KID } },
      issuer: 'x',
    });
    expectCode(
      () => other.verify(hsToken(HEADER, claims({ nbf: NOW + 999 })), { typ: 'rt+jwt', now: NOW }),
      'signature_invalid',
    );
    expectCode(() => other.verify(hsToken(HEADER, '{"not json'), at), 'signature_invalid');
    // The same for asymmetric keys: an expired ES256/EdDSA token under a foreign key.
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const ours = keyFor(alg);
      const codec = new JwtCodec({ keys: { signing: { alg, key: ours.privateKey } } });
      const expiredEs = codec.sign('at+jwt', claims({ exp: NOW - 10 }));
      expectCode(() => codec.verify(expiredEs, at), 'token_expired', TokenExpiredError);
      const forged = craft({
        header: { alg, typ: 'at+jwt', kid: ours.kid },
        payload: claims({ exp: NOW - 10 }),
        alg,
        key: (alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519')
        ).privateKey,
      });
      expectCode(() => codec.verify(forged, at), 'signature_invalid', TokenFormatError);
    }
  });

  it('[T5] refuses alg none in any case', () => {
    const p = claims();
    for (const alg of ['none', 'NONE', 'None', 'nOnE', 'none ']) {
      const header = { alg, typ: 'at+jwt', kid: KID };
      // Unsecured JWS (empty signature), and with a signature attached.
      expectCode(
        () => hs.verify(`${b64(JSON.stringify(header))}.${b64(JSON.stringify(p))}.`, at),
        'alg_not_allowed',
      );
      expectCode(() => hs.verify(hsToken(header, p), at), 'alg_not_allowed');
    }
    // Without a kid, or with no alg at all.
    expectCode(() => hs.verify(`${b64('{"alg":"none"}')}.${b64(JSON.stringify(p))}.`, at), 'alg_not_allowed');
    expectCode(() => hs.verify(hsToken({ typ: 'at+jwt', kid: KID }, p), at), 'alg_not_allowed');
    expectCode(() => hs.verify(hsToken({ alg: null, typ: 'at+jwt', kid: KID }, p), at), 'alg_not_allowed');
    // `none` cannot even be configured.
    expect(() => KeyRing.from({ signing: { alg: 'none' as Algorithm, key: SECRET } })).toThrow(
      ConfigurationError,
    );
  });

  it("[T5] refuses an algorithm outside the key's (the algorithm comes from the key, never the token)", () => {
    const p = claims();
    // Same secret, other HMAC algorithms: correctly MACed with that algorithm, still refused.
    for (const alg of ['HS384', 'HS512'] as const) {
      expectCode(
        () => hs.verify(craft({ header: { ...HEADER, alg }, payload: p, alg, key: SECRET_KEY }), at),
        'alg_not_allowed',
      );
    }
    for (const alg of ['RS256', 'ES256', 'EdDSA', 'PS256', 'hs256', 'HS256 ', 'ES256K', 'RSA1_5', 'A128KW']) {
      expectCode(() => hs.verify(hsToken({ ...HEADER, alg }, p), at), 'alg_not_allowed');
    }
    // An RSA key configured for RS256 does not accept PS256 signatures made with the same key.
    const rsa = keyFor('RS256');
    const rs = new JwtCodec({ keys: { signing: { alg: 'RS256', key: rsa.privateKey } } });
    const ps = craft({
      header: { alg: 'PS256', typ: 'at+jwt', kid: rsa.kid },
      payload: p,
      alg: 'PS256',
      key: rsa.privateKey,
    });
    expectCode(() => rs.verify(ps, at), 'alg_not_allowed');
    // ES256 header on an ES384 key.
    const es = keyFor('ES384');
    const es384 = new JwtCodec({ keys: { signing: { alg: 'ES384', key: es.privateKey } } });
    expectCode(
      () =>
        es384.verify(
          craft({
            header: { alg: 'ES256', typ: 'at+jwt', kid: es.kid },
            payload: p,
            alg: 'ES384',
            key: es.privateKey,
          }),
          at,
        ),
      'alg_not_allowed',
    );
  });

  it('[T5] HMAC with a public key as secret (key confusion) is impossible', () => {
    const rsa = keyFor('RS256');
    const ed = keyFor('EdDSA');
    // Configuration: a public (or private) key, in any form, is never an HMAC secret.
    for (const key of [
      rsa.publicPem!,
      rsa.privatePem!,
      JSON.stringify(rsa.publicJwk),
      rsa.publicJwk!,
      rsa.publicKey!,
      rsa.privateKey,
      ed.publicPem!,
      ed.publicKey!,
    ]) {
      expect(() => KeyRing.from({ signing: { alg: 'HS256', key } })).toThrow(ConfigurationError);
      expect(() =>
        KeyRing.from({ signing: { alg: 'HS256', key: SECRET }, previous: [{ alg: 'HS256', key }] }),
      ).toThrow(ConfigurationError);
    }
    // The classic attack: HS256-MAC a token with the RS256 public key PEM as the secret.
    const rs = new JwtCodec({ keys: { signing: { alg: 'RS256', key: rsa.privateKey } } });
    for (const secret of [
      rsa.publicPem!,
      JSON.stringify(rsa.publicJwk),
      rsa.publicJwk!.n!,
      Buffer.from(rsa.publicKey!.export({ format: 'der', type: 'spki' })),
    ]) {
      const forged = craft({
        header: { alg: 'HS256', typ: 'at+jwt', kid: rsa.kid },
        payload: claims({ sub: 'admin' }),
        alg: 'HS256',
        key: createSecretKey(typeof secret === 'string' ? Buffer.from(secret) : secret),
      });
      expectCode(() => rs.verify(forged, at), 'alg_not_allowed');
    }
    // And secrets never stand in for asymmetric keys.
    expect(() => KeyRing.from({ signing: { alg: 'RS256', key: SECRET } })).toThrow(ConfigurationError);
    expect(() => KeyRing.from({ signing: { alg: 'ES256', key: 'a'.repeat(64) } })).toThrow(
      ConfigurationError,
    );
    expect(() => KeyRing.from({ signing: { alg: 'EdDSA', key: SECRET_KEY } })).toThrow(ConfigurationError);
    expect(() =>
      KeyRing.from({ signing: { alg: 'RS256', key: { kty: 'oct', k: SECRET.toString('base64url') } } }),
    ).toThrow(ConfigurationError);
  });

  it('[T5] refuses an empty signature', () => {
    const [h, p] = segments(hsToken());
    expectCode(() => hs.verify(`${h}.${p}.`, at), 'signature_invalid', TokenFormatError);
    for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
      const k = keyFor(alg);
      const codec = new JwtCodec({ keys: { signing: { alg, key: k.privateKey } } });
      const [th, tp] = segments(codec.sign('at+jwt', claims()));
      expectCode(() => codec.verify(`${th}.${tp}.`, at), 'signature_invalid');
    }
    expectCode(() => hs.decodeUnverified(`${h}.${p}.`), 'signature_invalid');
  });

  it('[T6] kid is only an exact lookup among configured keys', () => {
    const p = claims();
    expectCode(
      () => hs.verify(hsToken({ alg: 'HS256', typ: 'at+jwt' }, p), at),
      'kid_unknown',
      TokenFormatError,
    );
    for (const kid of [
      `${KID} `,
      KID.toUpperCase() === KID ? KID.toLowerCase() : KID.toUpperCase(),
      KID.slice(1),
      `${KID}x`,
      '',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ]) {
      if (kid === KID) continue;
      expectCode(() => hs.verify(hsToken({ ...HEADER, kid }, p), at), 'kid_unknown');
    }
    for (const kid of [1, null, true, [KID], { kid: KID }]) {
      expectCode(() => hs.verify(hsToken({ ...HEADER, kid }, p), at), 'kid_unknown');
    }
    // Keys with kids "__proto__" / "constructor" are plain entries, found exactly.
    const weird = new JwtCodec({
      keys: {
        signing: { alg: 'HS256', key: SECRET, kid: '__proto__' },
        previous: [{ alg: 'HS256', key: randomBytes(32), kid: 'constructor' }],
      },
    });
    expect(weird.verify(weird.sign('at+jwt', p), at).header.kid).toBe('__proto__');
    expectCode(() => weird.verify(hsToken({ ...HEADER, kid: 'toString' }, p), at), 'kid_unknown');
  });

  it('[T6] jku, x5u, jwk and x5c never select a key (headers carrying them are refused)', () => {
    const p = claims({ sub: 'admin' });
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
    const es = keyFor('ES256');
    const codec = new JwtCodec({ keys: { signing: { alg: 'ES256', key: es.privateKey } } });
    // Embedded-key attack: the attacker's own key in `jwk`, the token signed with it.
    const embedded = craft({
      header: { alg: 'ES256', typ: 'at+jwt', kid: es.kid, jwk: attackerJwk },
      payload: p,
      alg: 'ES256',
      key: attacker.privateKey,
    });
    expectRefused(() => codec.verify(embedded, at));
    // Even correctly signed with OUR key, a header carrying any of them is refused.
    const members: Record<string, unknown> = {
      jku: 'https://attacker.example/jwks.json',
      x5u: 'https://attacker.example/cert.pem',
      jwk: attackerJwk,
      x5c: ['MIIB...'],
    };
    for (const [name, value] of Object.entries(members)) {
      const t = craft({
        header: { alg: 'ES256', typ: 'at+jwt', kid: es.kid, [name]: value },
        payload: p,
        alg: 'ES256',
        key: es.privateKey,
      });
      expectCode(() => codec.verify(t, at), 'token_malformed');
      expectCode(() => hs.verify(hsToken({ ...HEADER, [name]: value }, p), at), 'token_malformed');
    }
  });

  it('[T6] refuses crit (any value, known or unknown) and b64 (false or true)', () => {
    for (const extra of [
      { crit: ['exp'] },
      { crit: [] },
      { crit: ['b64'], b64: false },
      { b64: false },
      { b64: true },
    ]) {
      expectCode(() => hs.verify(hsToken({ ...HEADER, ...extra }), at), 'token_malformed', TokenFormatError);
    }
    // Unprotected payload trick for b64:false: the raw payload in the middle segment.
    const header = { ...HEADER, b64: false, crit: ['b64'] };
    const input = `${b64(JSON.stringify(header))}.$.02`;
    expectRefused(() =>
      hs.verify(`${input}.${rawSign('HS256', SECRET_KEY, input).toString('base64url')}`, at),
    );
  });

  it('[T7] ECDSA signatures: IEEE P1363 of the exact length; all-zero, r=0 and s=0 refused', () => {
    for (const [alg, half] of [
      ['ES256', 32],
      ['ES384', 48],
      ['ES512', 66],
    ] as const) {
      const k = keyFor(alg);
      const codec = new JwtCodec({ keys: { signing: { alg, key: k.privateKey } } });
      const token = codec.sign('at+jwt', claims());
      const [h, p, s] = segments(token);
      const sig = Buffer.from(s, 'base64url');
      expect(sig.length).toBe(2 * half);
      expect(codec.verify(token, at).payload.sub).toBe('1234567890');
      const r = sig.subarray(0, half);
      const sv = sig.subarray(half);
      const der = derSignature(r, sv);
      const bad = [
        der, // DER instead of P1363
        sig.subarray(0, sig.length - 1), // truncated
        Buffer.concat([sig, Buffer.from([0])]), // extended
        Buffer.concat([Buffer.from([0]), sig]), // left-padded
        Buffer.alloc(2 * half), // all zero
        Buffer.concat([Buffer.alloc(half), sv]), // r = 0
        Buffer.concat([r, Buffer.alloc(half)]), // s = 0
      ];
      for (const b of bad) {
        expectCode(() => codec.verify(`${h}.${p}.${b.toString('base64url')}`, at), 'signature_invalid');
      }
    }
  });

  it('[T8] weak keys refused at configuration: HMAC secret shorter than the hash output, RSA under 2048 bits', () => {
    for (const [alg, bytes] of [
      ['HS256', 32],
      ['HS384', 48],
      ['HS512', 64],
    ] as const) {
      expect(() => KeyRing.from({ signing: { alg, key: randomBytes(bytes - 1) } })).toThrow(
        ConfigurationError,
      );
      expect(() => KeyRing.from({ signing: { alg, key: 'x'.repeat(bytes - 1) } })).toThrow(
        ConfigurationError,
      );
      expect(() => KeyRing.from({ signing: { alg, key: createSecretKey(randomBytes(bytes - 1)) } })).toThrow(
        ConfigurationError,
      );
      expect(() =>
        KeyRing.from({
          signing: { alg, key: { kty: 'oct', k: randomBytes(bytes - 1).toString('base64url') } },
        }),
      ).toThrow(ConfigurationError);
      expect(() =>
        KeyRing.from({
          signing: { alg: 'HS256', key: SECRET },
          previous: [{ alg, key: randomBytes(bytes - 1) }],
        }),
      ).toThrow(ConfigurationError);
      expect(KeyRing.from({ signing: { alg, key: randomBytes(bytes) } }).signingAlg).toBe(alg);
    }
    expect(() => KeyRing.from({ signing: { alg: 'HS256', key: '' } })).toThrow(ConfigurationError);
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    for (const alg of ['RS256', 'PS256'] as const) {
      expect(() => KeyRing.from({ signing: { alg, key: weakRsa.privateKey } })).toThrow(/2048/);
      expect(() =>
        KeyRing.from({ signing: { alg: 'HS256', key: SECRET }, previous: [{ alg, key: weakRsa.publicKey }] }),
      ).toThrow(ConfigurationError);
    }
    // Wrong curve for ES*, non-Ed25519 for EdDSA, RSA-PSS-restricted keys, public key for signing, duplicate kid.
    const p384 = keyFor('ES384');
    expect(() => KeyRing.from({ signing: { alg: 'ES256', key: p384.privateKey } })).toThrow(
      ConfigurationError,
    );
    expect(() => KeyRing.from({ signing: { alg: 'ES512', key: p384.privateJwk } })).toThrow(
      ConfigurationError,
    );
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() => KeyRing.from({ signing: { alg: 'ES256', key: k1.privateKey } })).toThrow(ConfigurationError);
    const ed448 = generateKeyPairSync('ed448');
    expect(() => KeyRing.from({ signing: { alg: 'EdDSA', key: ed448.privateKey } })).toThrow(/Ed25519/);
    expect(() => KeyRing.from({ signing: { alg: 'EdDSA', key: p384.privateKey } })).toThrow(
      ConfigurationError,
    );
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    expect(() => KeyRing.from({ signing: { alg: 'PS256', key: pss.privateKey } })).toThrow(
      ConfigurationError,
    );
    for (const alg of ['ES384', 'RS256', 'EdDSA'] as const) {
      const k = keyFor(alg === 'ES384' ? 'ES384' : alg);
      for (const pub of [k.publicKey!, k.publicPem!, k.publicJwk!]) {
        expect(() => KeyRing.from({ signing: { alg, key: pub } })).toThrow(/public key cannot sign/);
      }
    }
    expect(() =>
      KeyRing.from({ signing: { alg: 'HS256', key: SECRET }, previous: [{ alg: 'HS256', key: SECRET }] }),
    ).toThrow(/duplicate kid/);
    expect(() =>
      KeyRing.from({
        signing: { alg: 'HS256', key: SECRET, kid: 'a' },
        previous: [{ alg: 'HS512', key: randomBytes(64), kid: 'a' }],
      }),
    ).toThrow(/duplicate kid/);
    for (const kid of ['', 'a\nb', 'x'.repeat(257), 42]) {
      expect(() => KeyRing.from({ signing: { alg: 'HS256', key: SECRET, kid: kid as string } })).toThrow(
        ConfigurationError,
      );
    }
    // A JWK whose alg or use says otherwise.
    expect(() =>
      KeyRing.from({ signing: { alg: 'ES384', key: { ...p384.privateJwk, alg: 'ES256' } } }),
    ).toThrow(ConfigurationError);
    expect(() =>
      KeyRing.from({ signing: { alg: 'ES384', key: { ...p384.privateJwk, use: 'enc' } } }),
    ).toThrow(ConfigurationError);
  });

  it('[T9] exp required, a finite integer', () => {
    const cases: unknown[] = [
      undefined,
      '1760000000',
      1.5,
      NOW + 0.5,
      null,
      true,
      [NOW + 10],
      { v: 1 },
      2 ** 53,
      -(2 ** 53),
    ];
    for (const exp of cases) {
      const payload = claims();
      if (exp === undefined) delete payload.exp;
      else payload.exp = exp;
      const e = expectCode(
        () => hs.verify(hsToken(HEADER, payload), at),
        'claim_invalid',
        ClaimsVerificationError,
      );
      expect((e as ClaimsVerificationError).claim).toBe('exp');
    }
    // 1e400 parses as Infinity; -0 and 1.0 are integers written differently and are accepted.
    expectCode(() => hs.verify(hsToken(HEADER, `{"exp":1e400}`), at), 'claim_invalid');
    expect(hs.verify(hsToken(HEADER, `{"exp":${NOW + 10}.0}`), at).payload.exp).toBe(NOW + 10);
    // ignoreExpiration still requires exp to be present and an integer.
    const noExp = claims();
    delete noExp.exp;
    expectCode(() => hs.verify(hsToken(HEADER, noExp), { ...at, ignoreExpiration: true }), 'claim_invalid');
    expectCode(
      () => hs.verify(hsToken(HEADER, claims({ exp: 'never' })), { ...at, ignoreExpiration: true }),
      'claim_invalid',
    );
    expect(
      hs.verify(hsToken(HEADER, claims({ exp: NOW - 100 })), { ...at, ignoreExpiration: true }).payload.exp,
    ).toBe(NOW - 100);
  });

  it('[T9] exp is exact with the default leeway 0; nbf and iat checked with a finite, bounded leeway', () => {
    const exp = NOW + 100;
    const t = hsToken(HEADER, claims({ exp }));
    expect(hs.verify(t, { ...at, now: exp - 0.001 }).payload.exp).toBe(exp);
    expectCode(() => hs.verify(t, { ...at, now: exp }), 'token_expired', TokenExpiredError);
    expect(hs.verify(t, { ...at, now: exp + 29.9, leeway: 30 }).payload.exp).toBe(exp);
    expectCode(() => hs.verify(t, { ...at, now: exp + 30, leeway: 30 }), 'token_expired');

    const nbfToken = hsToken(HEADER, claims({ nbf: NOW + 10 }));
    expectCode(() => hs.verify(nbfToken, at), 'token_not_yet_valid', ClaimsVerificationError);
    expect(hs.verify(nbfToken, { ...at, now: NOW + 10 }).payload.nbf).toBe(NOW + 10);
    expect(hs.verify(nbfToken, { ...at, leeway: 10 }).payload.nbf).toBe(NOW + 10);
    const iatToken = hsToken(HEADER, claims({ iat: NOW + 5 }));
    const e = expectCode(() => hs.verify(iatToken, at), 'token_not_yet_valid');
    expect((e as ClaimsVerificationError).claim).toBe('iat');
    expect(hs.verify(iatToken, { ...at, leeway: 5 }).payload.iat).toBe(NOW + 5);
    for (const bad of ['1', null, true, [1]]) {
      expectCode(() => hs.verify(hsToken(HEADER, claims({ nbf: bad })), at), 'claim_invalid');
      expectCode(() => hs.verify(hsToken(HEADER, claims({ iat: bad })), at), 'claim_invalid');
    }
    expectCode(() => hs.verify(hsToken(HEADER, '{"exp":1900000000,"nbf":1e999}'), at), 'claim_invalid');
    // The leeway itself: finite, 0..300, at configuration and per call.
    for (const leeway of [-1, 301, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      expect(() => new JwtCodec({ keys: hs.keys, leeway: leeway as number })).toThrow(ConfigurationError);
      expectCode(() => hs.verify(t, { ...at, leeway: leeway as number }), 'payload_invalid');
    }
    const lenient = new JwtCodec({ keys: hs.keys, leeway: 60 });
    expect(lenient.verify(t, { ...at, now: exp + 59 }).payload.exp).toBe(exp);
    expectCode(() => lenient.verify(t, { ...at, now: exp + 59, leeway: 0 }), 'token_expired');
  });

  it('[T9] iss / aud / sub exact when configured (no array tricks)', () => {
    const codec = new JwtCodec({ keys: hs.keys, issuer: 'https://auth.example.com', audience: 'api' });
    const good = { iss: 'https://auth.example.com', aud: 'api' };
    expect(codec.verify(hsToken(HEADER, claims(good)), at).payload.aud).toBe('api');
    const bad: Record<string, unknown>[] = [
      {},
      { iss: 'https://auth.example.com' },
      { aud: 'api' },
      { ...good, iss: 'https://auth.example.com/' },
      { ...good, iss: 'HTTPS://AUTH.EXAMPLE.COM' },
      { ...good, iss: ['https://auth.example.com'] },
      { ...good, aud: ['api'] },
      { ...good, aud: ['api', 'other'] },
      { ...good, aud: ['other', 'api'] },
      { ...good, aud: 'api,other' },
      { ...good, aud: 'ap' },
      { ...good, aud: '' },
      { ...good, aud: null },
      { ...good, aud: { 0: 'api' } },
    ];
    for (const c of bad) {
      const e = expectCode(
        () => codec.verify(hsToken(HEADER, claims(c)), at),
        'claim_invalid',
        ClaimsVerificationError,
      );
      expect(['iss', 'aud']).toContain((e as ClaimsVerificationError).claim);
    }
    // sub (and any claim) exact via per-call expectations, strictly typed.
    const t = hsToken(HEADER, claims({ ...good, sub: '42', admin: true, n: 7 }));
    expect(codec.verify(t, { ...at, expected: { sub: '42', admin: true, n: 7 } }).payload.sub).toBe('42');
    for (const expected of [
      { sub: 42 },
      { sub: '4' },
      { sub: '42 ' },
      { admin: 'true' },
      { n: '7' },
      { missing: null },
      { aud: 'admin' },
    ]) {
      expectCode(() => codec.verify(t, { ...at, expected }), 'claim_invalid');
    }
    // Expectations must be primitives: undefined (e.g. a missing user id) is an error, never "skip".
    for (const expected of [{ sub: undefined }, { sub: ['42'] }, { sub: { v: '42' } }, { n: Number.NaN }]) {
      expectCode(() => codec.verify(t, { ...at, expected }), 'payload_invalid');
    }
    // Signing writes the configured values and refuses conflicting ones.
    const signed = codec.verify(codec.sign('at+jwt', claims()), at).payload;
    expect(signed.iss).toBe('https://auth.example.com');
    expect(signed.aud).toBe('api');
    expectCode(() => codec.sign('at+jwt', claims({ aud: 'other' })), 'payload_invalid');
    expectCode(() => codec.sign('at+jwt', claims({ iss: 'other' })), 'payload_invalid');
  });

  it('[T9] exp - iat never beyond the configured lifetime', () => {
    const t = hsToken(HEADER, claims({ iat: NOW, exp: NOW + 900 }));
    expect(hs.verify(t, { ...at, maxLifetime: 900 }).payload.exp).toBe(NOW + 900);
    expectCode(() => hs.verify(t, { ...at, maxLifetime: 899 }), 'claim_invalid');
    const noIat = claims();
    delete noIat.iat;
    expectCode(() => hs.verify(hsToken(HEADER, noIat), { ...at, maxLifetime: 900 }), 'claim_invalid');
    // Also when expiration is ignored (refresh by access).
    const old = hsToken(HEADER, claims({ iat: NOW - 10_000, exp: NOW - 100 }));
    expectCode(() => hs.verify(old, { ...at, ignoreExpiration: true, maxLifetime: 900 }), 'claim_invalid');
    for (const maxLifetime of [-1, Number.NaN, '900']) {
      expectCode(() => hs.verify(t, { ...at, maxLifetime: maxLifetime as number }), 'payload_invalid');
    }
  });

  it('[T9] typ separates access from refresh tokens', () => {
    const access = hs.sign('at+jwt', claims());
    const refresh = hs.sign('rt+jwt', claims());
    expect(hs.verify(access, at).header.typ).toBe('at+jwt');
    expect(hs.verify(refresh, { ...at, typ: 'rt+jwt' }).header.typ).toBe('rt+jwt');
    expectCode(() => hs.verify(access, { ...at, typ: 'rt+jwt' }), 'token_type_mismatch', TokenFormatError);
    expectCode(() => hs.verify(refresh, at), 'token_type_mismatch');
    for (const typ of ['JWT', 'AT+JWT', 'application/at+jwt', 'at+jwt ', undefined, null, ['at+jwt']]) {
      const header: Record<string, unknown> = { ...HEADER, typ };
      if (typ === undefined) delete header.typ;
      expectCode(() => hs.verify(hsToken(header), at), 'token_type_mismatch');
    }
    expectCode(() => hs.verify(access, { typ: 'JWT' as never }), 'payload_invalid');
    expectCode(() => hs.verify(access, undefined as never), 'payload_invalid');
  });

  it('[T10] a payload carrying __proto__ / constructor keys pollutes nothing', () => {
    const payload = `{"exp":${NOW + 60},"__proto__":{"polluted":"yes","exp":1},"constructor":{"prototype":{"polluted":"yes"}},"nested":{"__proto__":{"isAdmin":true}}}`;
    const { payload: verified } = hs.verify(hsToken(HEADER, payload), at);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(verified)).toBe(Object.prototype);
    expect(Object.hasOwn(verified, '__proto__')).toBe(true);
    expect(verified.exp).toBe(NOW + 60);
    expect((verified.nested as Record<string, unknown>).isAdmin).toBeUndefined();
    // expected claims are own properties only: inherited members never satisfy them.
    expectCode(
      () => hs.verify(hsToken(HEADER, claims()), { ...at, expected: { toString: null } }),
      'claim_invalid',
    );
    // A polluted prototype cannot supply a missing claim.
    const proto = Object.prototype as Record<string, unknown>;
    proto.iss = 'https://auth.example.com';
    try {
      const codec = new JwtCodec({ keys: hs.keys, issuer: 'https://auth.example.com' });
      expectCode(() => codec.verify(hsToken(HEADER, claims()), at), 'claim_invalid');
    } finally {
      delete proto.iss;
    }
    // Header members too.
    expectCode(
      () =>
        hs.verify(hsToken(`{"__proto__":{"alg":"HS256"},"typ":"at+jwt","kid":${JSON.stringify(KID)}}`), at),
      'alg_not_allowed',
    );
  });

  it('[T13] HMAC signature comparison: any length or content of the presented signature is a typed refusal, never a throw', () => {
    const [h, p, s] = segments(hsToken());
    for (const sig of ['', 'AA', s.slice(0, -2), `${s}AA`, `${s}${s}`, 'A'.repeat(43)]) {
      expectRefused(() => hs.verify(`${h}.${p}.${sig}`, at));
    }
    // HS512 signature on an HS256 key: a different length, a typed refusal.
    const t512 = craft({
      header: HEADER,
      payload: claims(),
      alg: 'HS512',
      key: createSecretKey(randomBytes(64)),
    });
    expectCode(() => hs.verify(t512, at), 'signature_invalid');
  });
});

describe('decodeUnverified', () => {
  it('decodes without a key but is just as strict about the format', () => {
    const other = new JwtCodec({ keys: { signing: { alg: 'HS256', key: randomBytes(32) } } });
    const token = hsToken(HEADER, claims({ exp: NOW - 1 }));
    const { header, payload } = other.decodeUnverified(token);
    expect(header).toEqual(HEADER);
    expect(payload.exp).toBe(NOW - 1);
    expectCode(() => other.decodeUnverified(hsToken(HEADER, `{"a":1,"a":2}`)), 'token_malformed');
    expectCode(() => other.decodeUnverified(`${token}=`), 'token_malformed');
    expectCode(() => other.decodeUnverified('a.b'), 'token_malformed');
    expectCode(() => other.decodeUnverified('x'.repeat(9000)), 'token_too_large');
    expectCode(() => other.decodeUnverified(''), 'token_missing');
  });
});

describe('sign refuses what verify would refuse', () => {
  it('refuses non-JSON values, a missing or non-integer exp, and oversize tokens', () => {
    const bad: Record<string, unknown>[] = [
      { exp: undefined },
      { exp: NOW + 0.5 },
      { exp: `${NOW}` },
      { exp: Number.POSITIVE_INFINITY },
      { iat: Number.NaN },
      { nbf: '0' },
      { x: Number.NaN },
      { x: Number.NEGATIVE_INFINITY },
      { x: 1n },
      { x: () => 1 },
      { x: Symbol('s') },
      { x: new Date(0) },
      { x: new Map() },
      { x: [1, undefined] },
      { x: { toJSON: () => 'x' } },
      { pad: 'x'.repeat(9000) },
    ];
    for (const extra of bad) {
      const c = { ...claims(), ...extra };
      expectCode(() => hs.sign('at+jwt', c), 'payload_invalid');
    }
    const cyclic: Record<string, unknown> = claims();
    cyclic.self = cyclic;
    expectCode(() => hs.sign('at+jwt', cyclic), 'payload_invalid');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expectCode(() => hs.sign('at+jwt', claims({ deep })), 'payload_invalid');
    expectCode(() => hs.sign('jwt' as never, claims()), 'payload_invalid');
    expectCode(() => hs.sign('at+jwt', [] as never), 'payload_invalid');
    expectCode(
      () =>
        hs.sign(
          'at+jwt',
          new (class X {
            exp = NOW;
          })() as never,
        ),
      'payload_invalid',
    );
    // Undefined members are omitted, like JSON.stringify; null-prototype objects are fine.
    const withUndefined = hs.verify(
      hs.sign('at+jwt', claims({ ns: undefined, extra: Object.assign(Object.create(null), { a: 1 }) })),
      at,
    ).payload;
    expect(withUndefined).not.toHaveProperty('ns');
    expect(withUndefined.extra).toEqual({ a: 1 });
  });
});

/** DER `SEQUENCE { INTEGER r, INTEGER s }` for a P1363 (r, s). */
function derSignature(r: Uint8Array, s: Uint8Array): Buffer {
  const int = (v: Uint8Array) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    let body = Buffer.from(v.subarray(i));
    if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(r), int(s)]);
  return seq.length < 128
    ? Buffer.concat([Buffer.from([0x30, seq.length]), seq])
    : Buffer.concat([Buffer.from([0x30, 0x81, seq.length]), seq]);
}

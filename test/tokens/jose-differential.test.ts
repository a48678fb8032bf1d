/**
 * Differential tests with `jose` as the oracle: every token we sign verifies in jose, every token
 * jose signs (with our header shape) verifies here, and tokens jose rejects are rejected here too.
 * (We are deliberately stricter than jose in places — duplicate names, non-integer `exp`, `aud`
 * arrays, foreign header members — those are listed at the end.)
 */
import { Buffer } from 'node:buffer';
import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CompactSign, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { type Algorithm, generateKey, JwtCodec } from '../../src/tokens/index.js';
import { refreshSecretOf } from '../support/refresh-key.js';
import { ALGORITHMS, b64, claims, craft, expectRefused, keyFor, NOW } from './helpers.js';

const ISS = 'https://auth.example.com';
const AUD = 'api';

interface Setup {
  alg: Algorithm;
  codec: JwtCodec;
  signKey: KeyObject;
  verifyKey: KeyObject;
  kid: string;
  /** Refresh tokens: HS256 with the key derived from the signing key (never the access key). */
  refreshKey: KeyObject;
  refreshKid: string;
}

function setup(alg: Algorithm): Setup {
  const k = keyFor(alg);
  const codec = new JwtCodec({ keys: { signing: { alg, key: k.privateKey } }, issuer: ISS, audience: AUD });
  return {
    alg,
    codec,
    signKey: k.privateKey,
    verifyKey: k.publicKey ?? k.privateKey,
    kid: codec.keys.signingKid,
    refreshKey: refreshSecretOf(k.privateKey),
    refreshKid: codec.keys.refreshKid,
  };
}

async function joseVerify(s: Setup, token: string, typ = 'at+jwt') {
  const refresh = typ === 'rt+jwt';
  return jwtVerify(token, refresh ? s.refreshKey : s.verifyKey, {
    algorithms: [refresh ? 'HS256' : s.alg],
    typ,
    issuer: ISS,
    audience: AUD,
    currentDate: new Date(NOW * 1000),
  });
}

async function joseRejects(s: Setup, token: string, typ = 'at+jwt'): Promise<boolean> {
  try {
    await joseVerify(s, token, typ);
    return false;
  } catch {
    return true;
  }
}

/** For each algorithm, another one of the same family (same key type where the family allows it). */
const SIBLING: Record<Algorithm, Algorithm> = {
  HS256: 'HS384',
  HS384: 'HS512',
  HS512: 'HS256',
  RS256: 'PS256',
  RS384: 'RS512',
  RS512: 'RS256',
  PS256: 'RS256',
  PS384: 'PS512',
  PS512: 'PS256',
  ES256: 'ES384',
  ES384: 'ES512',
  ES512: 'ES256',
  EdDSA: 'ES256',
};

describe('differential with jose', () => {
  it.each(ALGORITHMS)('%s: every token we sign verifies in jose with the same claims', async (alg) => {
    const s = setup(alg);
    for (const typ of ['at+jwt', 'rt+jwt'] as const) {
      const c = claims({ name: 'Zoë', roles: ['a', 'b'], deep: { x: [1, { y: null }] } });
      const token = s.codec.sign(typ, c);
      const { payload, protectedHeader } = await joseVerify(s, token, typ);
      expect(protectedHeader).toEqual(
        typ === 'at+jwt' ? { alg, typ, kid: s.kid } : { alg: 'HS256', typ, kid: s.refreshKid },
      );
      expect(payload).toEqual({ ...c, iss: ISS, aud: AUD });
    }
  });

  it.each(ALGORITHMS)('%s: every token jose signs with our header shape verifies here', async (alg) => {
    const s = setup(alg);
    for (const typ of ['at+jwt', 'rt+jwt'] as const) {
      const refresh = typ === 'rt+jwt';
      const ourHeader = refresh ? { alg: 'HS256', typ, kid: s.refreshKid } : { alg, typ, kid: s.kid };
      const token = await new SignJWT({ sid: 'abc', jti: 'def', name: 'Zoë' })
        .setProtectedHeader(ourHeader)
        .setSubject('42')
        .setIssuer(ISS)
        .setAudience(AUD)
        .setIssuedAt(NOW)
        .setNotBefore(NOW - 5)
        .setExpirationTime(NOW + 300)
        .sign(refresh ? s.refreshKey : s.signKey);
      const { header, payload } = s.codec.verify(token, { typ, now: NOW });
      expect(header).toEqual(ourHeader);
      expect(payload).toEqual({
        sid: 'abc',
        jti: 'def',
        name: 'Zoë',
        sub: '42',
        iss: ISS,
        aud: AUD,
        iat: NOW,
        nbf: NOW - 5,
        exp: NOW + 300,
      });
    }
  });

  it.each(ALGORITHMS)('%s: tokens jose rejects are rejected here too', async (alg) => {
    const s = setup(alg);
    const good = () => new SignJWT(claims()).setIssuer(ISS).setAudience(AUD);
    const header = { alg, typ: 'at+jwt', kid: s.kid };
    const valid = await good().setProtectedHeader(header).sign(s.signKey);
    const [h, p, sig] = valid.split('.') as [string, string, string];
    const flip = (x: string) => `${x.slice(0, 5)}${x[5] === 'A' ? 'B' : 'A'}${x.slice(6)}`;
    const foreign = generateKey(alg).privateKey; // same algorithm, another key
    const cases: Record<string, string> = {
      'bad signature': `${h}.${p}.${flip(sig)}`,
      'tampered payload': `${h}.${b64(JSON.stringify(claims({ sub: 'admin', iss: ISS, aud: AUD })))}.${sig}`,
      'alg none': new UnsecuredJWT(claims({ iss: ISS, aud: AUD })).encode(),
      'alg none with our kid': `${b64(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: s.kid }))}.${p}.`,
      'wrong typ': await good()
        .setProtectedHeader({ ...header, typ: 'rt+jwt' })
        .sign(s.signKey),
      expired: await good()
        .setProtectedHeader(header)
        .setExpirationTime(NOW - 1)
        .sign(s.signKey),
      'expiring exactly now': await good().setProtectedHeader(header).setExpirationTime(NOW).sign(s.signKey),
      'nbf in the future': await good()
        .setProtectedHeader(header)
        .setNotBefore(NOW + 60)
        .sign(s.signKey),
      'wrong issuer': await new SignJWT(claims())
        .setIssuer('https://evil.example')
        .setAudience(AUD)
        .setProtectedHeader(header)
        .sign(s.signKey),
      'wrong audience': await new SignJWT(claims())
        .setIssuer(ISS)
        .setAudience('other')
        .setProtectedHeader(header)
        .sign(s.signKey),
      'missing issuer': await new SignJWT(claims())
        .setAudience(AUD)
        .setProtectedHeader(header)
        .sign(s.signKey),
      'signed by another key': await good().setProtectedHeader(header).sign(foreign),
      'unknown crit': await new CompactSign(Buffer.from(JSON.stringify(claims({ iss: ISS, aud: AUD }))))
        .setProtectedHeader({ ...header, crit: ['urn:example:x'], 'urn:example:x': 1 })
        .sign(s.signKey)
        .catch(() => `${b64(JSON.stringify({ ...header, crit: ['x'] }))}.${p}.${sig}`),
      'payload not an object': await new CompactSign(Buffer.from('[1,2,3]'))
        .setProtectedHeader(header)
        .sign(s.signKey),
      'payload not JSON': await new CompactSign(Buffer.from('not json'))
        .setProtectedHeader(header)
        .sign(s.signKey),
      'two segments': `${h}.${p}`,
      'four segments': `${h}.${p}.${sig}.${sig}`,
      'empty signature': `${h}.${p}.`,
      'header not JSON': `${b64('{alg')}.${p}.${sig}`,
    };
    // Another algorithm of the same family in the header (jose is given only the key's algorithm).
    const sibling = SIBLING[alg];
    cases[`${sibling} header on the ${alg} key`] = await good()
      .setProtectedHeader({ ...header, alg: sibling })
      .sign(sibling.startsWith('HS') ? createSecretKey(randomBytes(64)) : keyFor(sibling).privateKey);
    for (const [name, token] of Object.entries(cases)) {
      expect(await joseRejects(s, token), `jose should reject: ${name}`).toBe(true);
      const e = expectRefused(() => s.codec.verify(token, { typ: 'at+jwt', now: NOW }));
      expect(e.status, name).toBe(401);
    }
    // And the valid one is accepted by both.
    await expect(joseVerify(s, valid)).resolves.toBeDefined();
    expect(s.codec.verify(valid, { typ: 'at+jwt', now: NOW }).payload.sub).toBe('1234567890');
  });

  it('random claim sets: our tokens verify in jose with identical payloads (HS256, EdDSA)', async () => {
    const setups = [setup('HS256'), setup('EdDSA')];
    const key = fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !['exp', 'iss', 'aud', 'iat', 'nbf'].includes(k));
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        async (extra, ttl) => {
          const c = { ...extra, exp: NOW + ttl };
          for (const s of setups) {
            let token: string;
            try {
              token = s.codec.sign('at+jwt', c);
            } catch (error) {
              // Only values the JSON rules refuse (e.g. -0 is fine, but a token over 8 KiB is not).
              expect((error as Error).name).toBe('InvalidPayloadError');
              continue;
            }
            const ours = s.codec.verify(token, { typ: 'at+jwt', now: NOW }).payload;
            const theirs = (await joseVerify(s, token)).payload;
            expect(ours).toEqual(theirs);
            expect(JSON.stringify(ours)).toBe(
              JSON.stringify({ ...JSON.parse(JSON.stringify(c)), iss: ISS, aud: AUD }),
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('where we are stricter than jose (documented, deliberate)', async () => {
    const s = setup('HS256');
    const key = s.signKey;
    const header = { alg: 'HS256', typ: 'at+jwt', kid: s.kid };
    const base = `"iss":"${ISS}","aud":"${AUD}"`;
    const stricter: Record<string, string> = {
      'duplicate claim names': craft({
        header,
        payload: `{${base},"sub":"a","sub":"admin","exp":${NOW + 60}}`,
        alg: 'HS256',
        key,
      }),
      'non-integer exp': craft({ header, payload: `{${base},"exp":${NOW + 60.5}}`, alg: 'HS256', key }),
      'missing exp': craft({ header, payload: `{${base}}`, alg: 'HS256', key }),
      'aud array containing ours': craft({
        header,
        payload: `{"iss":"${ISS}","aud":["${AUD}","other"],"exp":${NOW + 60}}`,
        alg: 'HS256',
        key,
      }),
      'jwk header member': craft({
        header: { ...header, jwk: { kty: 'oct' } },
        payload: `{${base},"exp":${NOW + 60}}`,
        alg: 'HS256',
        key,
      }),
      'missing kid': craft({
        header: { alg: 'HS256', typ: 'at+jwt' },
        payload: `{${base},"exp":${NOW + 60}}`,
        alg: 'HS256',
        key,
      }),
    };
    const valid = s.codec.sign('at+jwt', claims());
    stricter['padded signature (jose decodes leniently)'] = `${valid}=`;
    for (const [name, token] of Object.entries(stricter)) {
      await expect(joseVerify(s, token), name).resolves.toBeDefined();
      expectRefused(() => s.codec.verify(token, { typ: 'at+jwt', now: NOW }));
    }
  });
});

/**
 * SECURITY.md "DPoP": every check of RFC 9449 §4.3 on its own, with the stable code and the named
 * check; RFC 7638 / RFC 9449 example values; the key cache.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidPayloadError } from '../../src/errors.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { proofKeyCacheSize } from '../../src/tokens/dpop-jwk.js';
import {
  accessTokenHash,
  assertProofUnused,
  createDpopProof,
  type DpopAlgorithm,
  jwkThumbprint,
  normalizeHtu,
  verifyDpopProof,
} from '../../src/tokens/index.js';
import { expectDpop, NOW, proofKeyFor, rawProof, URL_ } from './dpop-support.js';
import { b64, rawSign } from './helpers.js';

const request = { method: 'POST', url: URL_, now: NOW };

describe('RFC example values', () => {
  it('RFC 7638 §3.1: the RSA thumbprint', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('RFC 9449 §4.1 example proof verifies, with the §6.1 thumbprint', () => {
    const proof =
      'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19' +
      '.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ' +
      '.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';
    const verified = verifyDpopProof(proof, {
      method: 'POST',
      url: 'https://server.example.com/token',
      now: 1562262616,
    });
    expect(verified.jkt).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
    expect(verified.jti).toBe('-BwC3ESc6acc2lTc');
    expect(verified.iat).toBe(1562262616);
    expect(verified.alg).toBe('ES256');
  });

  it('RFC 9449 §7.1 example ath', () => {
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(
      'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
    );
  });

  it('thumbprints of EC P-384/P-521 and OKP Ed25519 cover only the required members', () => {
    for (const alg of ['ES384', 'ES512', 'EdDSA'] as const) {
      const { publicJwk } = proofKeyFor(alg);
      const withExtras = { ...publicJwk, kid: 'x', use: 'sig', alg };
      expect(jwkThumbprint(withExtras)).toBe(jwkThumbprint(publicJwk as JsonWebKey));
      expect(verifyDpopProof(rawProof({ alg }), { ...request, allowedAlgorithms: [alg] }).jkt).toBe(
        jwkThumbprint(publicJwk as JsonWebKey),
      );
    }
  });
});

describe('accepts valid proofs', () => {
  const algs: DpopAlgorithm[] = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];
  for (const alg of algs) {
    it(`${alg}`, () => {
      const allowedAlgorithms = [alg];
      const verified = verifyDpopProof(rawProof({ alg }), { ...request, allowedAlgorithms });
      expect(verified.alg).toBe(alg);
      expect(verified.htu).toBe(URL_);
      expect(verified.htm).toBe('POST');
      expect(verified.replayKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(verified.replayUntil).toBe((NOW + 300 + 30) * 1000 + 1);
    });
  }

  it('createDpopProof makes proofs that verify, with ath and nonce', () => {
    const { privateKey } = proofKeyFor('ES256');
    const proof = createDpopProof({
      privateKey,
      alg: 'ES256',
      method: 'GET',
      url: 'https://api.example.com/me?x=1',
      accessToken: 'token-123',
      nonce: 'n-1',
      iat: NOW,
    });
    const verified = verifyDpopProof(proof, {
      method: 'GET',
      url: 'https://api.example.com/me',
      accessToken: 'token-123',
      nonce: ['n-0', 'n-1'],
      now: NOW,
    });
    expect(verified.nonce).toBe('n-1');
  });
});

describe('RFC 9449 §4.3 checks, one by one', () => {
  it('1: a missing proof is dpop_proof_missing', () => {
    expectDpop(() => verifyDpopProof(undefined, request), 'dpop_proof_missing', 'presence');
    expectDpop(() => verifyDpopProof('', request), 'dpop_proof_missing', 'presence');
  });

  it('1: several header values or comma-joined values are refused', () => {
    const proof = rawProof();
    expectDpop(() => verifyDpopProof([proof, proof], request), 'dpop_proof_invalid', 'format');
    expectDpop(() => verifyDpopProof(`${proof},${proof}`, request), 'dpop_proof_invalid', 'format');
    expectDpop(() => verifyDpopProof(`${proof}, ${proof}`, request), 'dpop_proof_invalid', 'format');
  });

  it('size cap before parsing', () => {
    const big = `${'a'.repeat(9000)}.b.c`;
    expectDpop(() => verifyDpopProof(big, request), 'dpop_proof_invalid', 'size');
    const proof = rawProof();
    expectDpop(
      () => verifyDpopProof(proof, { ...request, maxProofBytes: proof.length - 1 }),
      'dpop_proof_invalid',
      'size',
    );
  });

  it('2: three canonical base64url segments, none empty', () => {
    const proof = rawProof();
    const [h, p, s] = proof.split('.');
    for (const bad of [
      `${h}.${p}`,
      `${proof}.`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${p}.`,
      `${h}=.${p}.${s}`,
      `${h}.${p} .${s}`,
      `${h}.${p}.${s}+`,
      ` ${proof}`,
      `${h}.${p}.${s!.slice(0, -1)}\u0141`,
      `${h!.slice(0, -1)}\u0141.${p}.${s}`,
      `${h}.\u0141${p!.slice(1)}.${s}`,
    ]) {
      expectDpop(() => verifyDpopProof(bad, request), 'dpop_proof_invalid');
    }
  });

  it('2: a proof signed over non-ASCII segment text is refused (one spelling per proof)', () => {
    const { privateKey } = proofKeyFor('ES256');
    const [h, p] = rawProof().split('.');
    const input = `${h!.slice(0, -1)}\u0141.${p}`;
    const signature = rawSign('ES256', privateKey, input).toString('base64url');
    expectDpop(() => verifyDpopProof(`${input}.${signature}`, request), 'dpop_proof_invalid', 'format');
  });

  it('2: header and payload must be JSON objects without duplicate names', () => {
    const jwk = JSON.stringify(proofKeyFor('ES256').publicJwk);
    expectDpop(
      () =>
        verifyDpopProof(
          rawProof({ header: `{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256","jwk":${jwk}}` }),
          request,
        ),
      'dpop_proof_invalid',
      'format',
    );
    expectDpop(() => verifyDpopProof(rawProof({ header: '[1]' }), request), 'dpop_proof_invalid', 'format');
    expectDpop(
      () =>
        verifyDpopProof(
          rawProof({ payload: `{"jti":"a","jti":"b","htm":"POST","htu":"${URL_}","iat":${NOW}}` }),
          request,
        ),
      'dpop_proof_invalid',
      'format',
    );
    expectDpop(() => verifyDpopProof(rawProof({ payload: '"x"' }), request), 'dpop_proof_invalid', 'format');
  });

  it('4: typ must be exactly dpop+jwt', () => {
    for (const typ of [undefined, 'JWT', 'DPOP+JWT', 'at+jwt', 'application/dpop+jwt']) {
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { typ } }), request),
        'dpop_proof_invalid',
        'typ',
      );
    }
  });

  it('5: alg must be asymmetric and allow-listed: none, HS256 and unlisted algorithms refused', () => {
    // { toString: '' } was found by the fuzz test: describing it in the message must not throw.
    for (const alg of ['none', 'None', 'HS256', 'ES256K', '', 42, { toString: '' }, ['ES256'], null]) {
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { alg } }), request),
        'dpop_proof_invalid',
        'alg',
      );
    }
    expectDpop(() => verifyDpopProof(rawProof({ alg: 'ES384' }), request), 'dpop_proof_invalid', 'alg');
    expectDpop(
      () => verifyDpopProof(rawProof(), { ...request, allowedAlgorithms: ['EdDSA'] }),
      'dpop_proof_invalid',
      'alg',
    );
  });

  it('an allowlist with HMAC, none or nothing is a configuration error', () => {
    for (const allowedAlgorithms of [['HS256'], ['none'], []]) {
      expect(() =>
        verifyDpopProof(rawProof(), { ...request, allowedAlgorithms: allowedAlgorithms as DpopAlgorithm[] }),
      ).toThrow(ConfigurationError);
    }
  });

  it('header members that would select or change the key are refused', () => {
    for (const name of ['crit', 'b64', 'jku', 'x5u', 'x5c']) {
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { [name]: name === 'b64' ? false : ['x'] } }), request),
        'dpop_proof_invalid',
        'format',
      );
    }
  });

  it('6: jwk must be a public key: every private member refused', () => {
    for (const name of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) {
      const jwk = { ...proofKeyFor('ES256').publicJwk, [name]: 'AAAA' };
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { jwk } }), request),
        'dpop_proof_invalid',
        'jwk',
      );
    }
  });

  it('6: jwk missing, not an object, or of the wrong type / curve for alg', () => {
    const ec = proofKeyFor('ES256').publicJwk;
    const ed = proofKeyFor('EdDSA').publicJwk;
    for (const jwk of [undefined, 'x', [ec], null, ed, { ...ec, crv: 'P-384' }, { ...ec, kty: 'RSA' }]) {
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { jwk } }), request),
        'dpop_proof_invalid',
        'jwk',
      );
    }
    expectDpop(
      () => verifyDpopProof(rawProof({ alg: 'EdDSA', headerExtra: { jwk: ec } }), request),
      'dpop_proof_invalid',
      'jwk',
    );
  });

  it('6: jwk coordinates must be canonical and of the exact length; the point on the curve', () => {
    const ec = proofKeyFor('ES256').publicJwk as Record<string, string>;
    const cases = [
      { ...ec, x: `${ec['x']}=` },
      { ...ec, x: ec['x']!.slice(1) },
      { ...ec, x: b64(Buffer.alloc(33, 1)) },
      { ...ec, y: b64(Buffer.alloc(32, 7)) }, // not on the curve
      { ...ec, x: 5 },
    ];
    for (const jwk of cases) {
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { jwk } }), request),
        'dpop_proof_invalid',
        'jwk',
      );
    }
  });

  it('6: jwk alg / use / key_ops must agree with the proof', () => {
    const ec = proofKeyFor('ES256').publicJwk;
    for (const extra of [{ alg: 'ES384' }, { use: 'enc' }, { key_ops: ['sign'] }]) {
      const jwk = { ...ec, ...extra };
      expectDpop(
        () => verifyDpopProof(rawProof({ headerExtra: { jwk } }), request),
        'dpop_proof_invalid',
        'jwk',
      );
    }
    const ok = { ...ec, alg: 'ES256', use: 'sig', key_ops: ['verify'], kid: 'k1' };
    expect(verifyDpopProof(rawProof({ headerExtra: { jwk: ok } }), request).jkt).toBe(
      jwkThumbprint(ec as JsonWebKey),
    );
  });

  it('6: RSA keys under 2048 bits or with a bad exponent are refused', () => {
    const rsa = proofKeyFor('RS256').publicJwk as Record<string, string>;
    const short = b64(Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(127, 0x11)]));
    for (const jwk of [
      { ...rsa, n: short },
      { ...rsa, n: b64(Buffer.concat([Buffer.from([0]), Buffer.from(rsa['n']!, 'base64url')])) },
      { ...rsa, e: 'AQAA' }, // even
      { ...rsa, e: 'AQ' }, // 1
    ]) {
      expectDpop(
        () => verifyDpopProof(rawProof({ alg: 'RS256', headerExtra: { jwk } }), request),
        'dpop_proof_invalid',
        'jwk',
      );
    }
  });

  it('7: the signature must verify with the jwk of the header', () => {
    const other = proofKeyFor('ES256', 1).publicJwk;
    expectDpop(
      () => verifyDpopProof(rawProof({ headerExtra: { jwk: other } }), request),
      'dpop_proof_invalid',
      'signature',
    );
    const proof = rawProof();
    const tampered = proof.replace(
      /\.[^.]+\./,
      `.${b64(JSON.stringify({ jti: 'x', htm: 'POST', htu: URL_, iat: NOW }))}.`,
    );
    expectDpop(() => verifyDpopProof(tampered, request), 'dpop_proof_invalid', 'signature');
  });

  it('7: ECDSA signatures: r = 0, s = 0, all zero, wrong length, DER form, s + n refused', () => {
    const proof = rawProof();
    const input = proof.slice(0, proof.lastIndexOf('.'));
    const sig = Buffer.from(proof.slice(proof.lastIndexOf('.') + 1), 'base64url');
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const sPlusN = (BigInt(`0x${sig.subarray(32).toString('hex')}`) + n).toString(16).padStart(66, '0');
    const der = Buffer.concat([
      Buffer.from([0x30, 0x44, 0x02, 0x20]),
      sig.subarray(0, 32),
      Buffer.from([0x02, 0x20]),
      sig.subarray(32),
    ]);
    for (const bad of [
      Buffer.concat([Buffer.alloc(32), sig.subarray(32)]),
      Buffer.concat([sig.subarray(0, 32), Buffer.alloc(32)]),
      Buffer.alloc(64),
      sig.subarray(0, 63),
      Buffer.concat([sig, Buffer.from([0])]),
      der,
      Buffer.concat([sig.subarray(0, 32), Buffer.from(sPlusN, 'hex')]),
    ]) {
      expectDpop(
        () => verifyDpopProof(`${input}.${bad.toString('base64url')}`, request),
        'dpop_proof_invalid',
        'signature',
      );
    }
  });

  it('7: Ed25519 signatures: wrong length, all zero, s >= L refused', () => {
    const proof = rawProof({ alg: 'EdDSA' });
    const input = proof.slice(0, proof.lastIndexOf('.'));
    const sig = Buffer.from(proof.slice(proof.lastIndexOf('.') + 1), 'base64url');
    const bigS = Buffer.concat([sig.subarray(0, 32), Buffer.alloc(32, 0xff)]);
    for (const bad of [sig.subarray(0, 63), Buffer.alloc(64), bigS]) {
      expectDpop(
        () => verifyDpopProof(`${input}.${bad.toString('base64url')}`, request),
        'dpop_proof_invalid',
        'signature',
      );
    }
  });

  it('8: htm must equal the request method exactly', () => {
    for (const htm of ['GET', 'post', 'POST ', undefined, 1]) {
      expectDpop(() => verifyDpopProof(rawProof({ claims: { htm } }), request), 'dpop_proof_invalid', 'htm');
    }
  });

  it('9: htu must equal the request URL without query and fragment, after normalisation', () => {
    const accepted = [
      'HTTPS://API.example.COM/resource',
      'https://api.example.com:443/resource',
      'https://api.example.com/resource?q=1',
      'https://api.example.com/resource#frag',
      'https://api.example.com/%72esource',
      'https://api.example.com/a/../resource',
    ];
    for (const htu of accepted) {
      expect(verifyDpopProof(rawProof({ claims: { htu } }), request).htu, htu).toBe(URL_);
    }
    const refused = [
      'http://api.example.com/resource',
      'https://api.example.com:8443/resource',
      'https://other.example.com/resource',
      'https://api.example.com/resource/',
      'https://api.example.com/Resource',
      'https://user@api.example.com/resource',
      'https://api.example.com/res\nource',
      ' https://api.example.com/resource',
      '/resource',
      'ftp://api.example.com/resource',
      42,
      undefined,
    ];
    for (const htu of refused) {
      expectDpop(() => verifyDpopProof(rawProof({ claims: { htu } }), request), 'dpop_proof_invalid', 'htu');
    }
  });

  it('9: percent-encoding hex case is normalised both ways', () => {
    expect(normalizeHtu('https://a.example/x%2fy')).toBe('https://a.example/x%2Fy');
    expect(normalizeHtu('https://a.example:80/')).toBe('https://a.example:80/');
    expect(normalizeHtu('http://a.example:80')).toBe('http://a.example/');
  });

  it('10: iat within the window, not in the future', () => {
    const ok = [NOW, NOW - 330, NOW + 30, NOW - 0.5];
    for (const iat of ok) expect(verifyDpopProof(rawProof({ claims: { iat } }), request).iat).toBe(iat);
    for (const iat of [NOW - 331, NOW + 31, '1750000000', null, undefined]) {
      expectDpop(() => verifyDpopProof(rawProof({ claims: { iat } }), request), 'dpop_proof_invalid', 'iat');
    }
    expectDpop(
      () =>
        verifyDpopProof(rawProof({ claims: { iat: NOW - 61 } }), {
          ...request,
          maxAgeSeconds: 60,
          clockSkew: 0,
        }),
      'dpop_proof_invalid',
      'iat',
    );
  });

  it('out-of-range window options are configuration errors', () => {
    for (const opts of [{ maxAgeSeconds: 3601 }, { clockSkew: -1 }, { clockSkew: Number.NaN }]) {
      expect(() => verifyDpopProof(rawProof(), { ...request, ...opts })).toThrow(ConfigurationError);
    }
  });

  it('jti must be present and bounded', () => {
    for (const jti of [undefined, '', 'x'.repeat(257), 7]) {
      expectDpop(() => verifyDpopProof(rawProof({ claims: { jti } }), request), 'dpop_proof_invalid', 'jti');
    }
    expect(verifyDpopProof(rawProof({ claims: { jti: 'x'.repeat(256) } }), request).jti).toHaveLength(256);
  });

  it('11: ath required and equal when an access token is presented; refused without one', () => {
    const accessToken = 'eyJ.access.token';
    const withToken = { ...request, accessToken };
    expect(
      verifyDpopProof(rawProof({ claims: { ath: accessTokenHash(accessToken) } }), withToken).jkt,
    ).toBeTruthy();
    expectDpop(() => verifyDpopProof(rawProof(), withToken), 'dpop_proof_invalid', 'ath');
    expectDpop(
      () => verifyDpopProof(rawProof({ claims: { ath: accessTokenHash('another') } }), withToken),
      'dpop_proof_invalid',
      'ath',
    );
    expectDpop(
      () => verifyDpopProof(rawProof({ claims: { ath: accessTokenHash(accessToken) } }), request),
      'dpop_proof_invalid',
      'ath',
    );
  });

  it('12: a required nonce missing or different is dpop_nonce_required', () => {
    const withNonce = { ...request, nonce: 'server-nonce' };
    expect(verifyDpopProof(rawProof({ claims: { nonce: 'server-nonce' } }), withNonce).nonce).toBe(
      'server-nonce',
    );
    expectDpop(() => verifyDpopProof(rawProof(), withNonce), 'dpop_nonce_required', 'nonce');
    expectDpop(
      () => verifyDpopProof(rawProof({ claims: { nonce: 'old' } }), withNonce),
      'dpop_nonce_required',
      'nonce',
    );
    expectDpop(
      () => verifyDpopProof(rawProof({ claims: { nonce: 5 } }), withNonce),
      'dpop_proof_invalid',
      'nonce',
    );
    // A nonce the server did not ask for is harmless.
    expect(verifyDpopProof(rawProof({ claims: { nonce: 'x' } }), request).nonce).toBe('x');
  });

  it('a nonce failure is reported only for an otherwise valid proof', () => {
    expectDpop(
      () => verifyDpopProof(rawProof({ claims: { htm: 'GET' } }), { ...request, nonce: 'n' }),
      'dpop_proof_invalid',
      'htm',
    );
  });

  it('expectedJkt: a proof by another key is dpop_key_mismatch', () => {
    const jkt = jwkThumbprint(proofKeyFor('ES256').publicJwk as JsonWebKey);
    expect(verifyDpopProof(rawProof(), { ...request, expectedJkt: jkt }).jkt).toBe(jkt);
    expectDpop(
      () => verifyDpopProof(rawProof({ slot: 1 }), { ...request, expectedJkt: jkt }),
      'dpop_key_mismatch',
      'jkt',
    );
  });

  it('the signature is checked before the claims', () => {
    const proof = rawProof({ claims: { iat: NOW - 10_000, htm: 'GET' } });
    const broken = `${proof.slice(0, proof.lastIndexOf('.'))}.${b64(Buffer.alloc(64, 3))}`;
    expectDpop(() => verifyDpopProof(broken, request), 'dpop_proof_invalid', 'signature');
  });

  it('bad request options are typed errors', () => {
    const proof = rawProof();
    expect(() => verifyDpopProof(proof, { ...request, url: '/relative' })).toThrow(InvalidPayloadError);
    expect(() => verifyDpopProof(proof, { ...request, method: '' })).toThrow(InvalidPayloadError);
    expect(() => verifyDpopProof(proof, { ...request, accessToken: '' })).toThrow(InvalidPayloadError);
    expect(() => verifyDpopProof(proof, null as never)).toThrow(InvalidPayloadError);
    expect(() => verifyDpopProof(proof, { ...request, expectedJkt: 5 as never })).toThrow(
      InvalidPayloadError,
    );
    expect(() => verifyDpopProof(proof, { ...request, nonce: [1] as never })).toThrow(InvalidPayloadError);
    expect(() => verifyDpopProof(proof, { ...request, nonce: {} as never })).toThrow(InvalidPayloadError);
  });
});

describe('replay', () => {
  it('assertProofUnused: the first use passes, the second is dpop_replayed, after the window it is gone', async () => {
    const store = new MemoryStore();
    const verified = verifyDpopProof(rawProof(), request);
    await assertProofUnused(store, verified, NOW * 1000);
    let caught: unknown;
    await assertProofUnused(store, verified, NOW * 1000 + 1).catch((e: unknown) => {
      caught = e;
    });
    expect((caught as { code?: string }).code).toBe('dpop_replayed');
    // The same jti from another key is another proof.
    await assertProofUnused(store, verifyDpopProof(rawProof({ slot: 1 }), request), NOW * 1000);
    await store.close();
  });
});

describe('key cache', () => {
  it('stays bounded under many distinct keys', () => {
    for (let i = 0; i < 1030; i++) {
      // Distinct (alg, key) entries without generating 1100 keys: vary the RSA exponent.
      const rsa = proofKeyFor('RS256').publicJwk as Record<string, string>;
      const exponent = 0x010001 + 2 * i;
      const e = b64(Buffer.from([exponent >> 16, (exponent >> 8) & 0xff, exponent & 0xff]));
      try {
        verifyDpopProof(rawProof({ alg: 'RS256', headerExtra: { jwk: { ...rsa, e } } }), request);
      } catch {
        // the signature does not verify with the altered key; the key was still prepared
      }
    }
    expect(proofKeyCacheSize()).toBeLessThanOrEqual(1024);
    expect(proofKeyCacheSize()).toBeGreaterThan(1000);
  });
});

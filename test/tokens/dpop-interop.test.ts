/**
 * Interoperability with independent implementations (issue 16, part 5 for the token layer):
 * - proofs made by panva's `dpop` package (WebCrypto) are accepted by `verifyDpopProof`;
 * - proofs made by `createDpopProof` (node:crypto) verify with `jose` (`jwtVerify` + `EmbeddedJWK`,
 *   `typ: dpop+jwt`), and their thumbprint equals jose's `calculateJwkThumbprint`.
 */
import { generateKeyPair as dpopKeyPair, generateProof } from 'dpop';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  accessTokenHash,
  createDpopProof,
  type DpopAlgorithm,
  verifyDpopProof,
} from '../../src/tokens/index.js';
import { proofKeyFor } from './dpop-support.js';

const URL_ = 'https://rs.example.com/api/items';

describe('proofs by the dpop package are accepted', () => {
  for (const alg of ['ES256', 'Ed25519', 'RS256', 'PS256'] as const) {
    it(`${alg}, with ath and nonce`, async () => {
      const keyPair = await dpopKeyPair(alg);
      const accessToken = 'at.example.token';
      const proof = await generateProof(keyPair, `${URL_}?page=2`, 'GET', 'nonce-1', accessToken);
      const verified = verifyDpopProof(proof, {
        method: 'GET',
        url: URL_,
        accessToken,
        nonce: 'nonce-1',
      });
      const exported = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
      expect(verified.jkt).toBe(await calculateJwkThumbprint(exported as never));
      expect(verified.htu).toBe(URL_);
    });

    it(`${alg}, without a token (login)`, async () => {
      const keyPair = await dpopKeyPair(alg);
      const proof = await generateProof(keyPair, URL_, 'POST');
      expect(verifyDpopProof(proof, { method: 'POST', url: URL_ }).alg).toBe(alg);
      // and the package's proof fails where it should
      expect(() => verifyDpopProof(proof, { method: 'GET', url: URL_ })).toThrow(/htm/);
    });
  }
});

describe('proofs made here verify with jose', () => {
  const algs: DpopAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];
  for (const alg of algs) {
    it(`${alg}`, async () => {
      const { privateKey, publicJwk } = proofKeyFor(alg);
      const proof = createDpopProof({
        privateKey,
        alg,
        method: 'PUT',
        url: URL_,
        accessToken: 'tok',
        nonce: 'n',
      });
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [alg],
      });
      expect(protectedHeader.jwk).toEqual(publicJwk);
      expect(payload).toMatchObject({ htm: 'PUT', htu: URL_, ath: accessTokenHash('tok'), nonce: 'n' });
      expect(typeof payload.jti).toBe('string');
      const ours = verifyDpopProof(proof, { method: 'PUT', url: URL_, accessToken: 'tok' });
      expect(ours.jkt).toBe(await calculateJwkThumbprint(publicJwk as never));
    });
  }
});

/**
 * Interoperability of the browser client's DPoP proofs with independent implementations by
 * another author (panva): `jose` verifies their signature with the embedded `jwk` and checks `typ`
 * and `alg`; the `dpop` package (which makes proofs but has no verifier) computes the same RFC 7638
 * thumbprint and makes proofs with the same header members and claims for the same request.
 */
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  importJWK,
  type JWK,
  jwtVerify,
} from 'jose';
import { afterEach, expect, it } from 'vitest';
import { createSessionClient, type SessionClient } from '../../src/client/index.js';
import { accessTokenHash } from '../../src/tokens/dpop.js';
import { FakeServer } from './fake-server.js';

let client: SessionClient | undefined;
afterEach(() => client?.close());

/** Signs in a bound header-mode client and makes one request; resolves the proof it sent. */
async function clientProof(): Promise<{ proof: string; token: string; thumbprint: string }> {
  const server = new FakeServer({ dpop: {} });
  client = createSessionClient({
    baseUrl: 'http://interop.test/auth',
    transport: 'header',
    fetch: server.fetch,
    dpop: true,
  });
  await client.login({ login: 'x', password: 'pw' });
  expect((await client.fetch('http://interop.test/api/me?x=1', { method: 'PATCH' })).status).toBe(200);
  const headers = server.requests.at(-1)!.headers;
  return {
    proof: headers.get('dpop')!,
    token: headers.get('authorization')!.replace(/^DPoP /, ''),
    thumbprint: (await client.dpopThumbprint())!,
  };
}

it('jose verifies the client’s proof with its embedded jwk; its claims are the request’s', async () => {
  const { proof, token } = await clientProof();
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256'],
    maxTokenAge: '60s',
  });
  expect(protectedHeader.alg).toBe('ES256');
  expect(Object.keys(protectedHeader.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
  expect(payload).toMatchObject({
    htm: 'PATCH',
    htu: 'http://interop.test/api/me',
    ath: accessTokenHash(token),
  });
  expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
});

it('the dpop package and jose compute the thumbprint the client reports (RFC 7638)', async () => {
  const { proof, thumbprint } = await clientProof();
  const jwk = decodeProtectedHeader(proof).jwk as JWK;
  expect(await calculateJwkThumbprint(jwk, 'sha256')).toBe(thumbprint);
  const publicKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  expect(await calculateThumbprint(publicKey)).toBe(thumbprint);
});

it('a proof by the dpop package and one by the client have the same header members and claims', async () => {
  const { proof, token } = await clientProof();
  const keyPair = await generateKeyPair('ES256');
  const theirs = await generateProof(keyPair, 'http://interop.test/api/me', 'PATCH', undefined, token);
  const members = (jws: string) => {
    const [header, payload] = jws
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    return {
      header: Object.keys(header).sort(),
      jwk: Object.keys(header.jwk).sort(),
      claims: Object.keys(payload).sort(),
      ath: payload.ath,
    };
  };
  expect(members(proof)).toEqual(members(theirs));
});

/**
 * The HTTP core's DPoP pieces without a framework (src/http/dpop.ts and its hooks): option
 * validation, the `htu` a request must be proved for, the per-route `dpop: 'required'` option,
 * `requireRefresh` of a bound session, and mode `off` failing closed for a bound session.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, JwtSessionsError } from '../../src/errors.js';
import { requestHtu, resolveDpopConfig } from '../../src/http/dpop.js';
import { createSessionHttp } from '../../src/http/session-http.js';
import { createSessions } from '../../src/session/engine.js';
import { createDpopProof } from '../../src/tokens/index.js';
import { fakeRequest } from '../http/request.js';

const ORIGIN = 'https://app.example';
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

function proof(method: string, path: string, accessToken?: string): string {
  return createDpopProof({
    privateKey: KEY,
    alg: 'ES256',
    method,
    url: `${ORIGIN}${path}`,
    ...(accessToken !== undefined && { accessToken }),
  });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JwtSessionsError);
  return (error as JwtSessionsError).code;
}

function setup() {
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
  });
  const http = createSessionHttp(sessions, { dpop: { mode: 'optional', origin: ORIGIN } });
  return { sessions, http };
}

describe('dpop option', () => {
  it('absent or off: null (no DPoP header is read)', () => {
    expect(resolveDpopConfig(undefined)).toBeNull();
    expect(resolveDpopConfig({ mode: 'off' })).toBeNull();
    expect(resolveDpopConfig({ mode: 'required', origin: 'HTTPS://App.Example:443/' })).toMatchObject({
      mode: 'required',
      origin: 'https://app.example',
      nonces: null,
    });
  });

  it('bad values are a ConfigurationError at creation', () => {
    const bad: unknown[] = [
      null,
      'optional',
      { mode: 'on' },
      { mode: 'optional', origin: 'https://app.example/path' },
      { mode: 'optional', origin: 'app.example' },
      { mode: 'optional', nonce: 'yes' },
      { mode: 'optional', nonce: { secret: 'short' } },
      { mode: 'optional', nonce: { windowSeconds: 0 } },
      { mode: 'optional', maxAgeSeconds: -1 },
      { mode: 'optional', clockSkew: 10_000 },
      { mode: 'optional', allowedAlgorithms: [] },
    ];
    for (const options of bad) {
      expect(() => resolveDpopConfig(options as never), JSON.stringify(options)).toThrow(ConfigurationError);
    }
    const sessions = createSessions({
      keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
    });
    const http = createSessionHttp(sessions, { dpop: { mode: 'optional' } });
    expect(() => http.authorize(fakeRequest(), { dpop: 'always' as never })).toThrow(ConfigurationError);
  });

  it('htu: the configured origin, else scheme + Host; absolute URLs of Fetch adapters; no Host is a 400', () => {
    const withOrigin = resolveDpopConfig({ mode: 'optional', origin: ORIGIN })!;
    const fromRequest = resolveDpopConfig({ mode: 'optional' })!;
    const request = fakeRequest({ url: '/api/me?x=1#f', headers: { host: 'internal:8080' } });
    expect(requestHtu(request, withOrigin)).toBe(`${ORIGIN}/api/me`);
    expect(requestHtu(request, fromRequest)).toBe('http://internal:8080/api/me');
    expect(requestHtu({ ...request, protocol: 'https' }, fromRequest)).toBe('https://internal:8080/api/me');
    expect(requestHtu(fakeRequest({ url: 'https://edge.example/a/b?q' }), fromRequest)).toBe(
      'https://edge.example/a/b',
    );
    expect(() => requestHtu(fakeRequest({ url: '/api/me' }), fromRequest)).toThrow(/Host/);
    expect(() => requestHtu(fakeRequest({ url: '/x', headers: { host: 'a b' } }), fromRequest)).toThrow(
      /Host/,
    );
  });
});

describe('authorize', () => {
  it("per route dpop: 'required' refuses an unbound token, accepts a bound one with its proof", async () => {
    const { sessions, http } = setup();
    const plain = await sessions.login({});
    const unbound = fakeRequest({ url: '/api/admin', headers: { authorization: `Bearer ${plain.access}` } });
    expect(await refusal(http.authorize(unbound, { dpop: 'required' }))).toBe('dpop_proof_missing');
    expect((await http.authorize(unbound)).session.sessionId).toBe(plain.sessionId);
    const bound = await sessions.login({
      dpop: { proof: proof('POST', '/auth/login'), method: 'POST', url: `${ORIGIN}/auth/login` },
    });
    const request = fakeRequest({
      url: '/api/admin',
      headers: { authorization: `DPoP ${bound.access}`, dpop: proof('GET', '/api/admin', bound.access) },
    });
    expect((await http.authorize(request, { dpop: 'required' })).session.claims).toMatchObject({
      cnf: { jkt: bound.jkt },
    });
  });

  it("kind 'refresh' of a bound session needs the proof; checking it does not spend it", async () => {
    const { sessions, http } = setup();
    const bound = await sessions.login({
      dpop: { proof: proof('POST', '/auth/login'), method: 'POST', url: `${ORIGIN}/auth/login` },
    });
    const bare = fakeRequest({
      method: 'POST',
      url: '/api/refresh-check',
      headers: { 'x-refresh-token': bound.refresh },
    });
    expect(await refusal(http.authorize(bare, { kind: 'refresh' }))).toBe('dpop_proof_missing');
    const refreshProof = proof('POST', '/api/refresh-check');
    const request = fakeRequest({
      method: 'POST',
      url: '/api/refresh-check',
      headers: { 'x-refresh-token': bound.refresh, dpop: refreshProof },
    });
    expect((await http.authorize(request, { kind: 'refresh' })).session.sessionId).toBe(bound.sessionId);
    const dpop = { proof: refreshProof, method: 'POST', url: `${ORIGIN}/api/refresh-check` };
    expect((await sessions.refresh(bound.refresh, { dpop })).jkt).toBe(bound.jkt);
  });

  it('mode off: a bound session fails closed (no proof is read; the DPoP scheme is not understood)', async () => {
    const { sessions } = setup();
    const off = createSessionHttp(sessions, {});
    const bound = await sessions.login({
      dpop: { proof: proof('POST', '/auth/login'), method: 'POST', url: `${ORIGIN}/auth/login` },
    });
    const dpopProof = proof('GET', '/api/me', bound.access);
    expect(
      await refusal(
        off.authorize(
          fakeRequest({
            url: '/api/me',
            headers: { authorization: `Bearer ${bound.access}`, dpop: dpopProof },
          }),
        ),
      ),
    ).toBe('dpop_proof_missing');
    expect(
      await refusal(
        off.authorize(
          fakeRequest({
            url: '/api/me',
            headers: { authorization: `DPoP ${bound.access}`, dpop: dpopProof },
          }),
        ),
      ),
    ).toBe('token_malformed');
  });
});

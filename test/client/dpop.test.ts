/**
 * The browser client with `dpop: true` against the fake session routes, whose DPoP checks are the
 * project's own verifier (`verifyDpopProof`, `assertProofUnused`): every proof the client sends is
 * verified there (signature, typ, alg, jwk, htm, htu, iat, ath, nonce, jti once), and the tests
 * read back what it verified. Node has WebCrypto but no IndexedDB: the client's in-memory key.
 * In real Chromium (IndexedDB, tabs, the real server): test/e2e/dpop.test.ts.
 */
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { attachSessionClient } from '../../src/client/axios.js';
import { createSessionClient, type SessionClient, type Transport } from '../../src/client/index.js';
import { accessTokenHash } from '../../src/tokens/dpop.js';
import { FakeServer, type FakeServerOptions } from './fake-server.js';

let clients: SessionClient[] = [];
let hosts = 0;

afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
});

/** A client ("tab"); `host` keeps the tests apart (their channel, lock and key are per base URL). */
function tab(server: FakeServer, transport: Transport, host: string, dpop = true) {
  const client = createSessionClient({
    baseUrl: `http://${host}/auth`,
    transport,
    fetch: server.fetch,
    dpop,
    autoRefresh: false,
  });
  clients.push(client);
  return client;
}

async function boundLogin(transport: Transport, options: FakeServerOptions = { dpop: {} }) {
  const server = new FakeServer(options);
  const host = `dpop${++hosts}.test`;
  const client = tab(server, transport, host);
  await client.login({ login: 'demo@example.com', password: 'pw' });
  return { server, client, host, session: [...server.sessions.values()][0]! };
}

/** The claims of the proof a request carried (as sent, before the server's normalisation). */
const claimsOf = (headers: Headers) =>
  JSON.parse(Buffer.from(headers.get('dpop')!.split('.')[1]!, 'base64url').toString());

describe('DPoP in the browser client', () => {
  it('dpop false: no proof on any request, the Bearer scheme, nothing bound', async () => {
    const server = new FakeServer({ dpop: {} });
    const host = `dpop${++hosts}.test`;
    const client = tab(server, 'header', host, false);
    await client.login({ login: 'x', password: 'pw' });
    server.expireAccess();
    expect((await client.fetch(`http://${host}/api/me`)).status).toBe(200);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    expect(server.requests.every((r) => !r.headers.has('dpop'))).toBe(true);
    expect(server.requests.at(-1)!.headers.get('authorization')).toMatch(/^Bearer /);
    expect(client.state).toMatchObject({ status: 'signed-in', jkt: null });
    expect(await client.dpopThumbprint()).toBeNull();
  });

  it('header: the login proof binds the session to the key; requests use the DPoP scheme and a proof with ath', async () => {
    const { server, client, host, session } = await boundLogin('header');
    const thumbprint = await client.dpopThumbprint();
    expect(thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.jkt).toBe(thumbprint);
    expect(client.state).toMatchObject({ status: 'signed-in', jkt: thumbprint });
    const login = server.proofs.at(-1)!;
    expect(login).toMatchObject({ method: 'POST', path: '/auth/login' });
    expect(login.proof).toMatchObject({ alg: 'ES256', htm: 'POST', htu: `http://${host}/auth/login` });
    expect(login.proof.jwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
    });

    // Query and fragment are not part of htu; the method is.
    // fetch upper-cases the six standard methods only: htm must be the method as sent.
    for (const [method, htm] of [
      ['GET', 'GET'],
      ['post', 'POST'],
      ['DELETE', 'DELETE'],
      ['patch', 'patch'],
    ]) {
      const response = await client.fetch(`http://${host}/api/me?page=2#top`, { method });
      expect(response.status).toBe(200);
      const sent = server.requests.at(-1)!;
      expect(sent.headers.get('authorization')).toBe(`DPoP ${session.access}`);
      expect(server.proofs.at(-1)!.proof).toMatchObject({
        htm,
        htu: `http://${host}/api/me`,
        jkt: thumbprint,
      });
      const payload = claimsOf(sent.headers);
      expect(payload.ath).toBe(accessTokenHash(session.access));
    }
    // Every proof is fresh: five requests, five verified proofs, five jtis.
    expect(server.proofs).toHaveLength(5);
    expect(new Set(server.proofs.map((p) => p.proof.jti)).size).toBe(5);
    expect(server.dpopRefusals).toEqual([]);
  });

  it('header: an expired token refreshes once with a proof (no ath) by the same key; the retry proves the new token', async () => {
    const { server, client, host, session } = await boundLogin('header');
    const before = session.access;
    server.expireAccess();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => client.fetch(`http://${host}/api/me`)),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    const refresh = server.proofs.find((p) => p.path === '/auth/refresh')!;
    expect(refresh.proof.htm).toBe('POST');
    expect(refresh.proof.jkt).toBe(session.jkt);
    const refreshRequest = server.requests.find((r) => r.path === '/auth/refresh')!;
    const payload = claimsOf(refreshRequest.headers);
    expect(payload.ath).toBeUndefined();
    expect(session.access).not.toBe(before);
    expect(server.requests.at(-1)!.headers.get('authorization')).toBe(`DPoP ${session.access}`);
    expect(new Set(server.proofs.map((p) => p.proof.jti)).size).toBe(server.proofs.length);
    expect(server.dpopRefusals).toEqual([]);
  });

  it('cookie: proofs without ath on resource requests, no Authorization header; the session jkt from the server', async () => {
    const { server, client, host, session } = await boundLogin('cookie');
    expect(session.jkt).toBe(await client.dpopThumbprint());
    expect(client.state).toMatchObject({ status: 'signed-in', jkt: session.jkt });
    const response = await client.fetch(`http://${host}/api/me`, { method: 'PUT' });
    expect(response.status).toBe(200);
    const sent = server.requests.at(-1)!;
    expect(sent.headers.has('authorization')).toBe(false);
    expect(sent.headers.get('x-csrf-token')).toBe(session.csrf);
    const payload = claimsOf(sent.headers);
    expect(payload).toMatchObject({ htm: 'PUT', htu: `http://${host}/api/me` });
    expect(payload.ath).toBeUndefined();
    server.expireAccess();
    expect((await client.fetch(`http://${host}/api/me`)).status).toBe(200);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    expect(server.dpopRefusals).toEqual([]);
  });

  it('nonce: dpop_nonce_required is retried exactly once with a fresh proof carrying the new nonce', async () => {
    const { server, client, host } = await boundLogin('header', { dpop: { nonce: true } });
    // The login: refused for want of a nonce, then accepted with it.
    expect(server.count('POST', '/auth/login')).toBe(2);
    expect(server.dpopRefusals).toEqual(['dpop_nonce_required']);
    const [first, second] = server.requests.filter((r) => r.path === '/auth/login');
    expect(second!.headers.get('dpop')).not.toBe(first!.headers.get('dpop'));
    expect(server.proofs.at(-1)!.proof.nonce).toBe(server.nonce);

    // The nonce kept from the last response is used: no refusal.
    expect((await client.fetch(`http://${host}/api/me`)).status).toBe(200);
    expect(server.dpopRefusals).toHaveLength(1);

    // A rotated nonce: one refusal, one retry with the new one, on a resource request and a refresh.
    server.rotateNonce();
    expect((await client.fetch(`http://${host}/api/me`)).status).toBe(200);
    expect(server.count('GET', '/api/me')).toBe(3);
    server.rotateNonce();
    await client.refresh();
    expect(server.count('POST', '/auth/refresh')).toBe(2);
    expect(client.state.status).toBe('signed-in');
    expect(server.dpopRefusals).toEqual([
      'dpop_nonce_required',
      'dpop_nonce_required',
      'dpop_nonce_required',
    ]);
    expect(new Set(server.proofs.map((p) => p.proof.jti)).size).toBe(server.proofs.length);

    // A server whose nonce is always stale: exactly one retry, then its 401 is the answer.
    server.alwaysNewNonce = true;
    const before = server.count('GET', '/api/me');
    const response = await client.fetch(`http://${host}/api/me`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'dpop_nonce_required' });
    expect(server.count('GET', '/api/me') - before).toBe(2);
    expect(server.count('POST', '/auth/refresh')).toBe(2);
    const error = await client.refresh().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeNull();
    // The refused refresh (twice: once retried) ends the session: no third attempt, no loop.
    expect(server.count('POST', '/auth/refresh')).toBe(4);
    expect(client.state).toEqual({ status: 'signed-out', reason: 'dpop_nonce_required' });
  });

  it('two tabs share one key: the second tab uses the first tab’s bound tokens with its own proofs', async () => {
    const { server, client, host, session } = await boundLogin('header');
    const other = tab(server, 'header', host);
    await other.ready;
    expect(await other.dpopThumbprint()).toBe(await client.dpopThumbprint());
    expect(other.state).toMatchObject({ status: 'signed-in', jkt: session.jkt });
    expect((await other.fetch(`http://${host}/api/me`)).status).toBe(200);
    expect(server.proofs.at(-1)!.proof.jkt).toBe(session.jkt);
    expect(server.dpopRefusals).toEqual([]);
  });

  it('a server that binds nothing (token_type Bearer): Bearer requests without proofs', async () => {
    const { server, client, host, session } = await boundLogin('header', {});
    expect(session.jkt).toBeNull();
    expect(client.state).toMatchObject({ status: 'signed-in', jkt: null });
    await client.fetch(`http://${host}/api/me`);
    const sent = server.requests.at(-1)!;
    expect(sent.headers.get('authorization')).toBe(`Bearer ${session.access}`);
    expect(sent.headers.has('dpop')).toBe(false);
  });

  it('axios: a bound request carries the DPoP scheme and a proof for the full URL', async () => {
    const { server, client, host, session } = await boundLogin('header');
    const api = axios.create({ baseURL: `http://${host}`, adapter: 'fetch', env: { fetch: server.fetch } });
    attachSessionClient(api, client);
    server.expireAccess();
    const response = await api.post('/api/me', { a: 1 }, { params: { q: 1 } });
    expect(response.status).toBe(200);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    expect(server.requests.at(-1)!.headers.get('authorization')).toBe(`DPoP ${session.access}`);
    expect(server.proofs.at(-1)!.proof).toMatchObject({
      htm: 'POST',
      htu: `http://${host}/api/me`,
      jkt: session.jkt,
    });
    expect(server.dpopRefusals).toEqual([]);
  });
});

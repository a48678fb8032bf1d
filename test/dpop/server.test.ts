/**
 * DPoP on the reference server (issue 16 parts 3 and 5): `DPOP`, `PUBLIC_ORIGIN` and `DPOP_NONCE`
 * validated at start-up, and the whole flow over HTTP with proofs made by an independent
 * implementation (panva's `dpop` package, WebCrypto): login, nonce retry, resource call,
 * refresh, and the stolen-token refusals with `DPOP=required`.
 */
import { generateKeyPair as dpopKeyPair, generateProof } from 'dpop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, describeConfig, ServerConfigError } from '../../src/server/config.js';
import type { RunningServer } from '../../src/server/server.js';
import { call, DEMO, type Reply, serverOn } from '../server/support.js';

function refusal(env: Record<string, string>): string {
  try {
    configFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ServerConfigError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe('DPOP, PUBLIC_ORIGIN, DPOP_NONCE', () => {
  it('default off; each value taken; described at start-up', () => {
    expect(configFromEnv({})).toMatchObject({ dpop: 'off', dpopNonce: false });
    expect(configFromEnv({}).publicOrigin).toBeUndefined();
    const config = configFromEnv({
      DPOP: 'required',
      DPOP_NONCE: 'on',
      PUBLIC_ORIGIN: 'https://app.example.com/',
    });
    expect(config).toMatchObject({
      dpop: 'required',
      dpopNonce: true,
      publicOrigin: 'https://app.example.com',
    });
    expect(describeConfig(config)).toContain('DPoP required with nonces');
    expect(configFromEnv({ DPOP: 'Optional' }).dpop).toBe('optional');
  });

  it('bad values stop the server with one line naming the variable', () => {
    expect(refusal({ DPOP: 'yes' })).toMatch(/^DPOP must be off, optional or required/);
    expect(refusal({ DPOP: 'optional', DPOP_NONCE: 'maybe' })).toMatch(/^DPOP_NONCE must be on or off/);
    expect(refusal({ DPOP_NONCE: 'on' })).toMatch(/DPOP_NONCE=on needs DPOP=optional or DPOP=required/);
    expect(refusal({ PUBLIC_ORIGIN: 'app.example.com' })).toMatch(/^PUBLIC_ORIGIN must be an origin/);
    expect(refusal({ PUBLIC_ORIGIN: 'https://app.example.com/app' })).toMatch(/^PUBLIC_ORIGIN/);
    expect(refusal({ PUBLIC_ORIGIN: 'ftp://app.example.com' })).toMatch(/^PUBLIC_ORIGIN/);
  });
});

const PUBLIC_ORIGIN = 'https://auth.example.test';

describe('reference server, DPOP=required, DPOP_NONCE=on, PUBLIC_ORIGIN: proofs by the dpop package', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serverOn('memory', { dpop: 'required', dpopNonce: true, publicOrigin: PUBLIC_ORIGIN });
  });
  afterAll(() => server.close());

  const htu = (path: string) => `${PUBLIC_ORIGIN}${path}`;

  /** Sends once; on use_dpop_nonce retries once with the nonce, as a client does. */
  async function withNonce(
    send: (nonce: string | undefined) => Promise<Reply>,
    nonce: { value?: string },
  ): Promise<Reply> {
    let reply = await send(nonce.value);
    if (reply.status === 401 && reply.body.code === 'dpop_nonce_required') {
      expect(reply.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"');
      nonce.value = reply.headers.get('dpop-nonce') ?? undefined;
      reply = await send(nonce.value);
    }
    const next = reply.headers.get('dpop-nonce');
    if (next !== null) nonce.value = next;
    return reply;
  }

  /** A login with a proof by `keyPair`, retried once with the server's nonce. */
  const loginWith = (keyPair: CryptoKeyPair, nonce: { value?: string }) =>
    withNonce(
      async (n) =>
        call(server.url, 'POST', '/auth/login', {
          body: DEMO,
          headers: { dpop: await generateProof(keyPair, htu('/auth/login'), 'POST', n) },
        }),
      nonce,
    );

  it('login, resource, refresh work; a stolen token is refused without the key', async () => {
    const keyPair = await dpopKeyPair('ES256');
    const nonce: { value?: string } = {};
    const noProof = await call(server.url, 'POST', '/auth/login', { body: DEMO });
    expect(noProof.status).toBe(401);
    expect(noProof.body.code).toBe('dpop_proof_missing');

    const login = await loginWith(keyPair, nonce);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.token_type).toBe('DPoP');
    expect(nonce.value).toBeDefined();
    const at = login.body.access_token as string;
    const rt = login.body.refresh_token as string;

    const me = await withNonce(
      async (n) =>
        call(server.url, 'GET', '/api/me', {
          headers: {
            authorization: `DPoP ${at}`,
            dpop: await generateProof(keyPair, htu('/api/me'), 'GET', n, at),
          },
        }),
      nonce,
    );
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect((me.body.cnf as { jkt: string }).jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const listed = await call(server.url, 'GET', '/auth/sessions', {
      headers: {
        authorization: `DPoP ${at}`,
        dpop: await generateProof(keyPair, htu('/auth/sessions'), 'GET', nonce.value, at),
      },
    });
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect((listed.body.sessions as Array<{ jkt: string }>)[0]!.jkt).toBe(
      (me.body.cnf as { jkt: string }).jkt,
    );

    // The thief: the tokens, no key (or another key).
    const thief = await dpopKeyPair('ES256');
    const asBearer = await call(server.url, 'GET', '/api/me', { token: at });
    expect([asBearer.status, asBearer.body.code]).toEqual([401, 'dpop_bound_token']);
    const otherKey = await call(server.url, 'GET', '/api/me', {
      headers: {
        authorization: `DPoP ${at}`,
        dpop: await generateProof(thief, htu('/api/me'), 'GET', nonce.value, at),
      },
    });
    expect([otherKey.status, otherKey.body.code]).toEqual([401, 'dpop_key_mismatch']);
    const stolenRefresh = await call(server.url, 'POST', '/auth/refresh', {
      headers: {
        'x-refresh-token': rt,
        dpop: await generateProof(thief, htu('/auth/refresh'), 'POST', nonce.value),
      },
    });
    expect([stolenRefresh.status, stolenRefresh.body.code]).toEqual([401, 'dpop_key_mismatch']);
    expect(stolenRefresh.headers.get('www-authenticate')).toBe(
      'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA RS256 PS256"',
    );

    const refreshed = await withNonce(
      async (n) =>
        call(server.url, 'POST', '/auth/refresh', {
          headers: {
            'x-refresh-token': rt,
            dpop: await generateProof(keyPair, htu('/auth/refresh'), 'POST', n),
          },
        }),
      nonce,
    );
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
  });

  it('an Ed25519 key from the dpop package binds too', async () => {
    const keyPair = await dpopKeyPair('Ed25519');
    const nonce: { value?: string } = {};
    const login = await loginWith(keyPair, nonce);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const at = login.body.access_token as string;
    const me = await call(server.url, 'GET', '/api/me', {
      headers: {
        authorization: `DPoP ${at}`,
        dpop: await generateProof(keyPair, htu('/api/me'), 'GET', nonce.value, at),
      },
    });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
  });
});

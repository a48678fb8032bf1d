/**
 * The reference server beyond the per-store contract (memory store): JWKS per algorithm, request
 * errors as JSON (404, 413, 400, 415), and the lifetimes / reuse grace / deadlines of the
 * configuration as the HTTP client sees them.
 */
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/server/config.js';
import { BODY_LIMIT, type RunningServer, startServer } from '../../src/server/server.js';
import { call, claimsOf, DEMO, headerOf, isIso, loginHeader } from './support.js';

const running: RunningServer[] = [];
afterAll(() => Promise.all(running.map((s) => s.close())));

async function server(env: Record<string, string> = {}): Promise<RunningServer> {
  const started = await startServer({ ...configFromEnv(env), port: 0, logLevel: false });
  running.push(started);
  return started;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

describe('GET /.well-known/jwks.json', () => {
  for (const alg of ['ES256', 'RS256', 'PS384', 'EdDSA']) {
    it(`${alg}: the public key, without private members, verifies the access token (checked with jose)`, async () => {
      const s = await server({ JWT_ALG: alg });
      const reply = await call(s.url, 'GET', '/.well-known/jwks.json');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
      const keys = reply.body.keys as Record<string, unknown>[];
      expect(keys).toHaveLength(1);
      for (const member of PRIVATE_MEMBERS) expect(keys[0]).not.toHaveProperty(member);
      const session = await loginHeader(s);
      expect(headerOf(session.access_token).kid).toBe(keys[0]!.kid);
      const verified = await jwtVerify(
        session.access_token,
        createLocalJWKSet(reply.body as unknown as Parameters<typeof createLocalJWKSet>[0]),
        { algorithms: [alg], typ: 'at+jwt' },
      );
      expect(verified.payload.sid).toBe(session.session_id);
    });
  }

  it('JWT_PRIVATE_KEY: the published key is the public half of that PEM', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const s = await server({ JWT_ALG: 'ES256', JWT_PRIVATE_KEY: pem });
    const [key] = (await call(s.url, 'GET', '/.well-known/jwks.json')).body.keys as Record<string, string>[];
    const expected = pair.publicKey.export({ format: 'jwk' });
    expect({ kty: key!.kty, crv: key!.crv, x: key!.x, y: key!.y }).toEqual(expected);
  });

  it('HS256: an empty key set — an HMAC secret is never published', async () => {
    const secret = 's'.repeat(48);
    const s = await server({ JWT_SECRET: secret });
    const reply = await call(s.url, 'GET', '/.well-known/jwks.json');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ keys: [] });
    const raw = await (await fetch(`${s.url}/.well-known/jwks.json`)).text();
    expect(raw).not.toContain(Buffer.from(secret).toString('base64url'));
  });
});

describe('request errors are JSON {error, code}', () => {
  it('unknown routes: 404 not_found, under /auth too, for every method', async () => {
    const s = await server();
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/api/nope'],
      ['GET', '/auth/nope'],
      ['DELETE', '/api/me'],
      ['GET', '/assets/missing.js'],
    ] as const) {
      const reply = await call(s.url, method, path);
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body.code).toBe('not_found');
      expect(typeof reply.body.error).toBe('string');
    }
  });

  it(`bodies over ${BODY_LIMIT / 1024} KiB: 413 payload_too_large; at the limit the route answers`, async () => {
    const s = await server();
    const padded = (size: number) => {
      const shell = JSON.stringify({ ...DEMO, padding: '' });
      return JSON.stringify({ ...DEMO, padding: 'x'.repeat(size - shell.length) });
    };
    const over = await call(s.url, 'POST', '/auth/login', { body: padded(BODY_LIMIT + 1) });
    expect(over.status).toBe(413);
    expect(over.body.code).toBe('payload_too_large');
    const big = await call(s.url, 'POST', '/auth/login', { body: padded(1024 * 1024) });
    expect(big.status).toBe(413);
    const atLimit = await call(s.url, 'POST', '/auth/login', { body: padded(BODY_LIMIT) });
    expect(atLimit.status).toBe(200);
  });

  it('invalid JSON: 400 invalid_json, whatever the route', async () => {
    const s = await server();
    for (const path of ['/auth/login', '/auth/refresh', '/auth/logout']) {
      for (const body of ['{"login":', 'not json', '{"a":1}}']) {
        const reply = await call(s.url, 'POST', path, { body });
        expect(reply.status, `${path} ${body}`).toBe(400);
        expect(reply.body.code).toBe('invalid_json');
      }
    }
  });

  it('a login body repeating a member name is 400 invalid_json, never "last one wins"', async () => {
    const s = await server();
    const body = `{"login":"${DEMO.login}","password":"wrong","password":"${DEMO.password}"}`;
    const reply = await call(s.url, 'POST', '/auth/login', { body });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('invalid_json');
  });

  it("a request Node's HTTP parser refuses (control character in a header) gets the JSON error shape", async () => {
    const s = await server();
    const { port } = new URL(s.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x01b\r\n\r\n');
      });
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 400 ')).toBe(true);
    const json = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { code: string };
    expect(json.code).toBe('bad_request');
  });

  it('a JSON body that is not an object, or misses login/password: 400', async () => {
    const s = await server();
    for (const body of ['[1,2]', '"text"', '{"login":"demo@example.com"}', '{"login":1,"password":2}']) {
      const reply = await call(s.url, 'POST', '/auth/login', { body });
      expect(reply.status, body).toBe(400);
      expect(typeof reply.body.code).toBe('string');
    }
  });

  it('[H5] simple content types on JSON routes: 415', async () => {
    const s = await server();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const reply = await call(s.url, 'POST', '/auth/login', {
        body: JSON.stringify(DEMO),
        headers: { 'content-type': type },
      });
      expect(reply.status, type).toBe(415);
      expect(reply.body.code).toBe('unsupported_media_type');
    }
  });

  it('GET / serves the SPA or says why it cannot, as JSON', async () => {
    const s = await server();
    const response = await fetch(`${s.url}/`);
    if (response.status === 200) {
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('<html');
    } else {
      expect(response.status).toBe(503);
      expect(((await response.json()) as { code: string }).code).toBe('spa_unavailable');
    }
  });
});

describe('token transport', () => {
  it('[H1] a token in the query string is ignored', async () => {
    const s = await server();
    const session = await loginHeader(s);
    for (const name of ['access_token', 'token', 'jwt_access']) {
      const reply = await call(s.url, 'GET', `/api/me?${name}=${session.access_token}`);
      expect(reply.status, name).toBe(401);
      expect(reply.body.code).toBe('token_missing');
    }
    expect((await call(s.url, 'GET', '/api/me', { token: session.access_token })).status).toBe(200);
  });
});

describe('lifetimes, reuse grace and deadlines from the environment', () => {
  it("ACCESS_TTL and REFRESH_TTL set the tokens' lifetimes", async () => {
    const s = await server({ ACCESS_TTL: '120', REFRESH_TTL: '7200' });
    const session = await loginHeader(s);
    const access = claimsOf(session.access_token);
    const refresh = claimsOf(session.refresh_token);
    expect((access.exp as number) - (access.iat as number)).toBe(120);
    expect((refresh.exp as number) - (refresh.iat as number)).toBe(7200);
    expect(isIso(session.access_expires_at)).toBe(true);
  });

  it('[R1] REUSE_GRACE=0: replaying a rotated-out refresh token ends the session (refresh_reused)', async () => {
    const s = await server({ REUSE_GRACE: '0' });
    const first = await loginHeader(s);
    const second = await call(s.url, 'POST', '/auth/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(second.status).toBe(200);
    const replay = await call(s.url, 'POST', '/auth/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('refresh_reused');
    expect((await call(s.url, 'GET', '/api/me', { token: second.body.access_token as string })).status).toBe(
      401,
    );
  });

  it('REUSE_GRACE=10 (default): a replay within the window gets the same new generation', async () => {
    const s = await server();
    const first = await loginHeader(s);
    const second = await call(s.url, 'POST', '/auth/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    const replay = await call(s.url, 'POST', '/auth/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(replay.status).toBe(200);
    expect(replay.body.refresh_token).toBe(second.body.refresh_token);
    expect((await call(s.url, 'GET', '/api/me', { token: replay.body.access_token as string })).status).toBe(
      200,
    );
  });

  it('ABSOLUTE_TIMEOUT caps the refresh expiry below REFRESH_TTL', async () => {
    const s = await server({ ABSOLUTE_TIMEOUT: '600', ACCESS_TTL: '60' });
    const before = Date.now();
    const session = await loginHeader(s);
    const refreshExpiry = Date.parse(session.refresh_expires_at);
    expect(refreshExpiry).toBeLessThanOrEqual(before + 601_000);
    expect(refreshExpiry).toBeGreaterThan(before + 590_000);
  });

  it('IDLE_TIMEOUT: a session unused for longer cannot be refreshed', async () => {
    const s = await server({ IDLE_TIMEOUT: '1', ACCESS_TTL: '1' });
    const session = await loginHeader(s);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const reply = await call(s.url, 'POST', '/auth/refresh', {
      body: { refresh_token: session.refresh_token },
    });
    expect(reply.status).toBe(401);
    expect(typeof reply.body.code).toBe('string');
  });
});

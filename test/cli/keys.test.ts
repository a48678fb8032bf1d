/**
 * `jwt-sessions keygen` and `jwt-sessions inspect`: keys that really sign and verify (checked with
 * jose and with the reference server), and token inspection with times in human terms, every key
 * form, and a clear error plus exit code 1 for anything that does not verify.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeygenResult } from '../../src/cli/keygen.js';
import { createSessions, type Sessions } from '../../src/index.js';
import { configFromEnv } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { call, loginHeader } from '../server/support.js';
import { cli, cliJson } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'jwt-sessions-cli-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const HASH_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

const servers: RunningServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

function engine(alg: string, key: string): Sessions {
  return createSessions({
    keys: { signing: { alg: alg as 'HS256', key } },
    store: new MemoryStore(),
    accessTtl: 900,
  });
}

describe('keygen', () => {
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`${alg}: a fresh secret of at least the hash size that the server takes as JWT_SECRET`, async () => {
      const a = await cliJson<KeygenResult>(['keygen', '--alg', alg]);
      const b = await cliJson<KeygenResult>(['keygen', '--alg', alg]);
      expect(a.secret).not.toBe(b.secret);
      expect(Buffer.byteLength(a.secret!)).toBeGreaterThanOrEqual(HASH_BYTES[alg]);
      expect(Buffer.from(a.private_jwk.k as string, 'base64url').toString('utf8')).toBe(a.secret);
      expect(a.private_pem).toBeUndefined();
      const server = await startServer({
        ...configFromEnv({ JWT_ALG: alg, JWT_SECRET: a.secret! }),
        port: 0,
        logLevel: false,
      });
      servers.push(server);
      const session = await loginHeader(server);
      const checked = await cli(['inspect', session.access_token, '--secret', a.secret!]);
      expect(checked.code).toBe(0);
      expect(checked.out).toContain(`Signature: valid (${alg}`);
    });
  }

  for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
    it(`${alg}: PEM pair, JWK and JWKS of one key; jose signs with the private JWK and verifies with the JWKS`, async () => {
      const key = await cliJson<KeygenResult>(['keygen', '--alg', alg]);
      expect(key.private_pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(key.public_pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      const fromPem = createPublicKey(createPrivateKey(key.private_pem!)).export({ format: 'jwk' });
      expect(createPublicKey(key.public_pem!).export({ format: 'jwk' })).toEqual(fromPem);
      for (const member of PRIVATE_MEMBERS) expect(key.public_jwk).not.toHaveProperty(member);
      expect(key.jwks).toEqual({ keys: [key.public_jwk] });
      expect(key.kid).toBe(
        await calculateJwkThumbprint(key.public_jwk as Parameters<typeof calculateJwkThumbprint>[0]),
      );
      const token = await new SignJWT({ hello: 'world' })
        .setProtectedHeader({ alg, kid: key.kid })
        .setExpirationTime('5m')
        .sign(await importJWK(key.private_jwk as Parameters<typeof importJWK>[0], alg));
      const { payload } = await jwtVerify(
        token,
        createLocalJWKSet(key.jwks as Parameters<typeof createLocalJWKSet>[0]),
      );
      expect(payload.hello).toBe('world');
    });
  }

  it('default ES256; --kid names the key; the text output shows PEM, JWK and JWKS', async () => {
    const result = await cli(['keygen', '--kid', 'prod-2026']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('Algorithm: ES256');
    expect(result.out).toContain('Key id:    prod-2026');
    expect(result.out).toContain('-----BEGIN PRIVATE KEY-----');
    expect(result.out).toContain('-----BEGIN PUBLIC KEY-----');
    const jwks = JSON.parse(result.out.split('\n').at(-1)!) as { keys: { kid: string; crv: string }[] };
    expect(jwks.keys[0]).toMatchObject({ kid: 'prod-2026', crv: 'P-256' });
  });

  it('usage errors exit 2 with a pointer to the help', async () => {
    for (const args of [
      ['keygen', '--alg', 'none'],
      ['keygen', 'extra'],
      ['keygen', '--kid', ' '],
      ['keygen', '--bits', '4096'],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toContain('jwt-sessions keygen --help');
      expect(result.out).toBe('');
    }
  });
});

describe('inspect', () => {
  const SECRET = 'an-hmac-secret-of-at-least-32-bytes!';
  const sessions = engine('HS256', SECRET);

  it('decodes without a key: header, claims with human times, not verified, exit 0', async () => {
    const pair = await sessions.login({ payload: { user_id: 42 }, namespace: 'user:42' });
    const { iat } = JSON.parse(Buffer.from(pair.access.split('.')[1]!, 'base64url').toString()) as {
      iat: number;
    };
    const result = await cli(['inspect', pair.access], { now: iat + 300 });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/typ\s+at\+jwt \(access token\)/);
    expect(result.out).toMatch(/user_id\s+42/);
    expect(result.out).toContain('(session id)');
    expect(result.out).toContain('expires in 10 min');
    expect(result.out).toContain('5 min ago');
    expect(result.out).toContain('Signature: not verified');
    // The signature was not checked: never "valid".
    expect(result.out).toContain('Status: signature not checked (no key given), expires in 10 min');
    expect(result.out).not.toMatch(/Status: valid/);

    const refresh = await cli(['inspect', pair.refresh], { now: iat });
    expect(refresh.out).toContain('rt+jwt (refresh token)');
    expect(refresh.out).toMatch(/ns\s+user:42 {2}\(namespace\)/);
  });

  it('verifies with --secret; a wrong secret is a signature error and exit 1', async () => {
    const pair = await sessions.login({});
    const good = await cli(['inspect', pair.access, '--secret', SECRET]);
    expect(good.code).toBe(0);
    expect(good.out).toContain('Signature: valid (HS256, key from --secret)');
    const bad = await cli(['inspect', pair.access, '--secret', 'another-secret-that-is-32-bytes-long']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('Signature/claims: INVALID');
    expect(bad.out).toContain('(signature_invalid)');
    expect(bad.out).toContain('Status: not trusted');
  });

  it('an expired token: "expired N ago"; exit 0 when only decoded, 1 when verified', async () => {
    const pair = await sessions.login({});
    const { exp } = JSON.parse(Buffer.from(pair.access.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    const later = exp + 2 * 3600;
    const decoded = await cli(['inspect', pair.access], { now: later });
    expect(decoded.code).toBe(0);
    expect(decoded.out).toContain('Status: expired 2 h ago');
    const verified = await cli(['inspect', pair.access, '--secret', SECRET], { now: later });
    expect(verified.code).toBe(1);
    expect(verified.out).toContain('Signature: valid');
    expect(verified.out).toContain('Status: expired 2 h ago');
    const json = await cli(['inspect', pair.access, '--secret', SECRET, '--json'], { now: later });
    expect(JSON.parse(json.out)).toMatchObject({
      verified: true,
      expired: true,
      expires_in: -7200,
      error: { code: 'token_expired' },
    });
  });

  it('--json: header, payload, type, verified and expiry as one object', async () => {
    const pair = await sessions.login({ payload: { role: 'admin' } });
    const result = await cliJson(['inspect', pair.access, '--secret', SECRET]);
    expect(result).toMatchObject({
      header: { alg: 'HS256', typ: 'at+jwt' },
      payload: { role: 'admin', sid: pair.sessionId },
      type: 'at+jwt',
      verified: true,
      expired: false,
      expires_at: pair.accessExpiresAt.toISOString(),
      key: { alg: 'HS256', source: '--secret' },
    });
  });

  it('verifies with a PEM (private or public), a JWK and the JWKS the server publishes', async () => {
    const key = await cliJson<KeygenResult>(['keygen', '--alg', 'ES384']);
    const server = await startServer({
      ...configFromEnv({ JWT_ALG: 'ES384', JWT_PRIVATE_KEY: key.private_pem! }),
      port: 0,
      logLevel: false,
    });
    servers.push(server);
    const session = await loginHeader(server);
    const jwks = (await call(server.url, 'GET', '/.well-known/jwks.json')).body;
    const files = {
      'private PEM': file('es384.key.pem', key.private_pem!),
      'public PEM': file('es384.pub.pem', key.public_pem!),
      'public JWK': file('es384.jwk.json', JSON.stringify(key.public_jwk)),
      'server JWKS': file('jwks.json', JSON.stringify(jwks)),
    };
    for (const [what, path] of Object.entries(files)) {
      const result = await cli(['inspect', session.access_token, '--key', path]);
      expect(result.code, `${what}: ${result.out}${result.err}`).toBe(0);
      expect(result.out).toContain(`Signature: valid (ES384, key from ${path})`);
    }
    // Another key of the same algorithm: a signature error, not a crash.
    const other = await cliJson<KeygenResult>(['keygen', '--alg', 'ES384']);
    const wrong = await cli(['inspect', session.access_token, '--key', file('other.pem', other.public_pem!)]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain('(signature_invalid)');
  });

  it("a JWKS without the token's kid, an unreadable key file: a clear error, exit 1", async () => {
    const pair = await sessions.login({});
    const a = await cliJson<KeygenResult>(['keygen', '--alg', 'ES256']);
    const b = await cliJson<KeygenResult>(['keygen', '--alg', 'ES256']);
    const jwks = file('two-keys.json', JSON.stringify({ keys: [a.public_jwk, b.public_jwk] }));
    const noKid = await cli(['inspect', pair.access, '--key', jwks]);
    expect(noKid.code).toBe(1);
    expect(noKid.err).toMatch(/no key with kid ".+" in the JWKS/);
    // One key with another kid is not the token's key either (as a JWKS or as a lone JWK).
    const kid = JSON.parse(Buffer.from(pair.access.split('.')[0]!, 'base64url').toString()).kid as string;
    for (const [name, content] of [
      ['one-key.json', { keys: [a.public_jwk] }],
      ['lone.json', a.public_jwk],
    ] as const) {
      const one = await cli(['inspect', pair.access, '--key', file(name, JSON.stringify(content))]);
      expect(one.code, name).toBe(1);
      expect(one.err).toBe(
        `jwt-sessions: no key with kid ${JSON.stringify(kid)} in the ${name === 'lone.json' ? 'JWK' : 'JWKS'} ` +
          `${join(dir, name)} (1 key: ${JSON.stringify(a.public_jwk!.kid)})`,
      );
    }
    const missing = await cli(['inspect', pair.access, '--key', join(dir, 'missing.pem')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot read key file');
    const notJson = await cli(['inspect', pair.access, '--key', file('broken.json', '{"kty":')]);
    expect(notJson.code).toBe(1);
    expect(notJson.err).toContain('is not valid JSON');
  });

  it('a malformed token: "not a valid token" and its code, exit 1, nothing printed on stdout', async () => {
    for (const token of ['abc', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', `${'x'.repeat(20)}.${'y'.repeat(20)}`]) {
      const result = await cli(['inspect', token]);
      expect(result.code, token).toBe(1);
      expect(result.err).toMatch(/^jwt-sessions: not a valid token: .+ \([a-z_]+\)$/);
      expect(result.out).toBe('');
    }
  });

  it('a secret or a token beginning with "-" is taken as typed', async () => {
    // HMAC secrets from keygen are base64url: one in 64 begins with "-".
    const dashSecret = '-4zQ9dPz0a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVw';
    const dashed = engine('HS256', dashSecret);
    const pair = await dashed.login({});
    for (const args of [
      ['inspect', pair.access, '--secret', dashSecret],
      ['inspect', '--secret', dashSecret, pair.access],
      ['inspect', `--secret=${dashSecret}`, pair.access],
    ]) {
      const result = await cli(args);
      expect(result.err, args.join(' ')).toBe('');
      expect(result.code).toBe(0);
      expect(result.out).toContain('Signature: valid (HS256, key from --secret)');
    }
    // A forgotten value is still a usage error, and so is a mistyped option.
    for (const args of [
      ['inspect', pair.access, '--secret'],
      ['inspect', pair.access, '--secret', '--json'],
      ['inspect', pair.access, '--jsno'],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toContain('jwt-sessions inspect --help');
    }
  });

  it('takes "Bearer <token>" as pasted from a header, and "-" for standard input', async () => {
    const pair = await sessions.login({});
    const bearer = await cli(['inspect', `Bearer ${pair.access}`, '--secret', SECRET]);
    expect(bearer.code).toBe(0);
    const stdin = await cli(['inspect', '-', '--secret', SECRET], { stdin: `${pair.access}\n` });
    expect(stdin.code).toBe(0);
    expect(stdin.out).toContain('Signature: valid');
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['inspect'],
      ['inspect', 'a.b.c', 'd.e.f'],
      ['inspect', 'a.b.c', '--key', 'k.pem', '--secret', 's'],
      ['inspect', 'a.b.c', '--alg', 'none'],
      ['inspect', 'a.b.c', '--secret', ''],
      ['inspect', 'a.b.c', '--secret', 'x', '--alg', 'ES256'],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toContain('jwt-sessions inspect --help');
    }
  });
});

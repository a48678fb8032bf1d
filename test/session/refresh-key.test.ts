/**
 * Issue 12 point 5 (SPEC §1, SECURITY.md "Refresh tokens and sessions"): refresh tokens are signed
 * with a key that is never published nor shared. Whatever a resource server holds — the JWKS
 * (asymmetric) or the access secret (HMAC) — a refresh token fails there, even in a verifier that
 * does not check `typ` (jose's `jwtVerify` without the `typ` option, or a bare signature check).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { ALGORITHMS, type Algorithm, generateKey } from '../../src/tokens/index.js';

const ASYMMETRIC = ALGORITHMS.filter((alg) => !alg.startsWith('HS'));
const HMAC = ALGORITHMS.filter((alg) => alg.startsWith('HS'));

async function refused(verify: () => Promise<unknown>): Promise<boolean> {
  try {
    await verify();
    return false;
  } catch {
    return true;
  }
}

function engine(
  signing: { alg: Algorithm; key: unknown },
  previous: { alg: Algorithm; key: unknown }[] = [],
) {
  return createSessions({
    keys: { signing, previous } as Parameters<typeof createSessions>[0]['keys'],
    store: new MemoryStore(),
  });
}

describe('[R5] refresh tokens cannot be used at a resource server', () => {
  it.each(ASYMMETRIC)(
    '%s: jose verifies access tokens against the JWKS, never refresh tokens',
    async (alg) => {
      const key = generateKey(alg);
      const sessions = engine({ alg, key: key.privateKey });
      const pair = await sessions.login({ payload: { user_id: 1 } });
      const jwks = createLocalJWKSet(sessions.jwks() as Parameters<typeof createLocalJWKSet>[0]);
      // The resource server's setup works: the access token verifies with the published keys.
      expect((await jwtVerify(pair.access, jwks)).payload.sid).toBe(pair.sessionId);
      // A refresh token fails there, without any typ check: by kid lookup, and by the key itself.
      expect(await refused(() => jwtVerify(pair.refresh, jwks))).toBe(true);
      expect(await refused(() => compactVerify(pair.refresh, key.publicKey!))).toBe(true);
      expect(await refused(() => compactVerify(pair.refresh, jwks))).toBe(true);
      // Nothing about the refresh key is published.
      const kids = sessions.jwks().keys.map((k) => (k as { kid?: string }).kid);
      expect(kids).toEqual([sessions.codec.keys.signingKid]);
      expect(kids).not.toContain(sessions.codec.keys.refreshKid);
    },
  );

  it.each(HMAC)(
    '%s: jose verifies access tokens with the access secret, never refresh tokens',
    async (alg) => {
      const secret = randomBytes(64);
      const sessions = engine({ alg, key: secret });
      const pair = await sessions.login({ payload: { user_id: 1 } });
      expect((await jwtVerify(pair.access, secret)).payload.sid).toBe(pair.sessionId);
      expect(await refused(() => jwtVerify(pair.refresh, secret))).toBe(true);
      expect(await refused(() => compactVerify(pair.refresh, secret))).toBe(true);
      expect(sessions.jwks().keys).toEqual([]);
    },
  );

  it('the engine itself still verifies and rotates its refresh tokens', async () => {
    const sessions = engine({ alg: 'ES256', key: generateKey('ES256').privateKey });
    const pair = await sessions.login({ namespace: 'u' });
    expect((await sessions.verifyRefresh(pair.refresh)).sessionId).toBe(pair.sessionId);
    const next = await sessions.refresh(pair.refresh);
    expect(next.refresh).not.toBe(pair.refresh);
    // Never confused with access tokens, in either direction.
    await expect(sessions.verifyAccess(pair.refresh)).rejects.toMatchObject({ code: 'token_type_mismatch' });
    await expect(sessions.refresh(next.access)).rejects.toMatchObject({ code: 'token_type_mismatch' });
  });

  it('a refresh-typed token signed with the access key (what a resource server could mint) is refused', async () => {
    const key = generateKey('ES256');
    const sessions = engine({ alg: 'ES256', key: key.privateKey });
    const pair = await sessions.login({ namespace: 'u' });
    const [, payload] = pair.refresh.split('.');
    const { SignJWT } = await import('jose');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const minted = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'rt+jwt', kid: key.kid })
      .sign(key.privateKey);
    await expect(sessions.refresh(minted)).rejects.toMatchObject({ code: 'token_type_mismatch' });
    await expect(sessions.revokeByRefresh(minted)).rejects.toMatchObject({ code: 'token_type_mismatch' });
    expect(await sessions.listSessions('u')).toHaveLength(1);
  });
});

describe('[R5] key rotation keeps refresh tokens working', () => {
  it.each([
    ['HS256', 'ES256'],
    ['ES256', 'EdDSA'],
    ['RS256', 'HS512'],
  ] as const)(
    '%s → %s: refresh tokens issued under the previous key still refresh',
    async (oldAlg, newAlg) => {
      const store = new MemoryStore();
      const oldKey = generateKey(oldAlg);
      const newKey = generateKey(newAlg);
      const oldMaterial =
        oldKey.secret === undefined ? oldKey.privatePem! : Buffer.from(oldKey.secret, 'base64url');
      const before = createSessions({ keys: { signing: { alg: oldAlg, key: oldMaterial } }, store });
      const pair = await before.login({ namespace: 'rotating' });

      const after = createSessions({
        keys: {
          signing: { alg: newAlg, key: newKey.secret ?? newKey.privateKey },
          // Given in another form (JWK) than at signing (PEM / raw bytes): the same key, the same refresh key.
          previous: [{ alg: oldAlg, key: oldKey.privateJwk }],
        },
        store,
      });
      expect(after.codec.keys.refreshKid).not.toBe(before.codec.keys.refreshKid);
      expect((await after.verifyAccess(pair.access)).sessionId).toBe(pair.sessionId);
      expect((await after.verifyRefresh(pair.refresh)).sessionId).toBe(pair.sessionId);
      const renewed = await after.refresh(pair.refresh);
      // New tokens use the new keys; the old engine cannot verify them.
      expect(after.codec.decodeUnverified(renewed.refresh).header.kid).toBe(after.codec.keys.refreshKid);
      await expect(before.refresh(renewed.refresh)).rejects.toMatchObject({ code: 'kid_unknown' });
    },
  );

  it('a previous key given as a public key verifies old access tokens only (no private material, no refresh key)', async () => {
    const store = new MemoryStore();
    const oldKey = generateKey('ES256');
    const before = createSessions({ keys: { signing: { alg: 'ES256', key: oldKey.privateKey } }, store });
    const pair = await before.login({ namespace: 'rotating' });
    const after = createSessions({
      keys: {
        signing: { alg: 'EdDSA', key: generateKey('EdDSA').privateKey },
        previous: [{ alg: 'ES256', key: oldKey.publicKey! }],
      },
      store,
    });
    expect((await after.verifyAccess(pair.access)).sessionId).toBe(pair.sessionId);
    await expect(after.refresh(pair.refresh)).rejects.toMatchObject({ code: 'kid_unknown' });
    expect(await after.listSessions('rotating')).toHaveLength(1);
  });
});

describe('[R5] jwt-sessions inspect and refresh tokens', () => {
  it('verifies a refresh token with the signing secret or private key; a JWKS cannot, and says why', async () => {
    const { cli } = await import('../cli/support.js');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'refresh-inspect-'));

    const secret = 'an-hmac-secret-of-at-least-32-bytes!';
    const hmac = createSessions({ keys: { signing: { alg: 'HS512', key: secret.repeat(2) } } });
    const hmacPair = await hmac.login({});
    expect((await cli(['inspect', hmacPair.refresh, '--secret', secret.repeat(2)])).code).toBe(0);
    const wrong = await cli(['inspect', hmacPair.refresh, '--secret', `${secret}-other`]);
    expect(wrong.code).toBe(1);

    const key = generateKey('ES256');
    const es = createSessions({ keys: { signing: { alg: 'ES256', key: key.privateKey } } });
    const pair = await es.login({});
    const privatePem = join(dir, 'private.pem');
    writeFileSync(privatePem, key.privatePem!);
    const good = await cli(['inspect', pair.refresh, '--key', privatePem]);
    expect(good.code).toBe(0);
    expect(good.out).toContain('Signature: valid');
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify(es.jwks()));
    const published = await cli(['inspect', pair.refresh, '--key', jwks]);
    expect(published.code).toBe(1);
    expect(published.out).toContain('derived from the private signing key');
    // Access tokens still verify with the published keys.
    expect((await cli(['inspect', pair.access, '--key', jwks])).code).toBe(0);
  });
});

/**
 * SECURITY.md T11: revocation and reuse detection are keyed on `sid`/`jti`, never on the token string
 * or its hash, because a signature can be re-spelled without the key. ECDSA: (r, s) and (r, n − s)
 * both verify (OpenSSL, like the JWS spec, does not demand low-s), so one token has two spellings
 * with the same claims. These tests show that the second spelling verifies, and that the session
 * engine treats it as the same token in every decision: strict access check, rotation, reuse
 * detection, revocation. Ed25519 is not malleable this way (S + L is refused).
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { type Algorithm, JwtCodec } from '../../src/tokens/index.js';
import { refreshSecretOf } from '../support/refresh-key.js';
import { claims, craft, expectCode, keyFor, NOW } from './helpers.js';

/**
 * Refresh tokens are HMAC-signed (SPEC §1), which has no second spelling: their "twin" is the same
 * generation (sid/jti) re-signed with the refresh key and one more claim — other bytes, same ids.
 */
function resignedRefresh(token: string, alg: Algorithm): string {
  const [h, p] = token.split('.') as [string, string];
  const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  return craft({
    header: decode(h),
    payload: { ...decode(p), twin: true },
    alg: 'HS256',
    key: refreshSecretOf(keyFor(alg).privateKey),
  });
}

/** Group orders of the curves (SEC 2 / RFC 8032). */
const ORDER: Record<'ES256' | 'ES384' | 'ES512', bigint> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512:
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toFixedBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** The same ECDSA token with its P1363 signature (r, s) re-spelled as (r, n − s). */
function withNegatedS(token: string, alg: 'ES256' | 'ES384' | 'ES512'): string {
  const d2 = token.lastIndexOf('.');
  const sig = Buffer.from(token.slice(d2 + 1), 'base64url');
  const half = sig.length / 2;
  const s = toBigInt(sig.subarray(half));
  const flipped = Buffer.concat([sig.subarray(0, half), toFixedBytes(ORDER[alg] - s, half)]);
  return `${token.slice(0, d2 + 1)}${flipped.toString('base64url')}`;
}

const at = { typ: 'at+jwt' as const, now: NOW };

describe('[T11] tokens are malleable: revocation and reuse detection are keyed on sid/jti', () => {
  it.each(['ES256', 'ES384', 'ES512'] as const)(
    '[T11] %s: (r, n − s) is a second valid spelling of the same token (same claims, different string)',
    (alg) => {
      const codec = new JwtCodec({ keys: { signing: { alg, key: keyFor(alg).privateKey } } });
      const token = codec.sign('at+jwt', claims());
      const twin = withNegatedS(token, alg);
      expect(twin).not.toBe(token);
      expect(twin.slice(0, twin.lastIndexOf('.'))).toBe(token.slice(0, token.lastIndexOf('.')));
      // It verifies: a verifier cannot tell the spellings apart, so nothing may key on the string.
      expect(codec.verify(twin, at)).toEqual(codec.verify(token, at));
    },
  );

  it('[T11] EdDSA: S + L (the Ed25519 analogue) is refused, so Ed25519 signatures have one spelling', () => {
    const alg: Algorithm = 'EdDSA';
    const codec = new JwtCodec({ keys: { signing: { alg, key: keyFor(alg).privateKey } } });
    const token = codec.sign('at+jwt', claims());
    const d2 = token.lastIndexOf('.');
    const sig = Buffer.from(token.slice(d2 + 1), 'base64url');
    const s = toBigInt(Buffer.from(sig.subarray(32)).reverse()); // little-endian scalar
    const sPlusL = toFixedBytes(s + ED25519_L, 32).reverse();
    const twin = `${token.slice(0, d2 + 1)}${Buffer.concat([sig.subarray(0, 32), sPlusL]).toString('base64url')}`;
    expect(codec.verify(token, at).payload.sub).toBe('1234567890');
    expectCode(() => codec.verify(twin, at), 'signature_invalid');
  });

  it('[T11] the session engine treats both spellings as one token: strict access, rotation, reuse, revocation', async () => {
    const alg = 'ES256' as const;
    const sessions = createSessions({
      keys: { signing: { alg, key: keyFor(alg).privateKey } },
      store: new MemoryStore(),
      reuseGrace: 0,
    });
    try {
      const first = await sessions.login({ payload: { user_id: 7 }, namespace: 'user:7' });
      const accessTwin = withNegatedS(first.access, alg);
      const refreshTwin = resignedRefresh(first.refresh, alg);
      expect(accessTwin).not.toBe(first.access);
      expect(refreshTwin).not.toBe(first.refresh);

      // The twin of the current access token is the current access token.
      const verified = await sessions.verifyAccess(accessTwin);
      expect(verified.sessionId).toBe(first.sessionId);
      expect(verified.claims.jti).toBe((await sessions.verifyAccess(first.access)).claims.jti);

      // Rotate with the original refresh token; then its twin is a rotated-out token like the original:
      // reuse is detected (by jti) and the whole session is revoked.
      const second = await sessions.refresh(first.refresh);
      await expect(sessions.verifyAccess(accessTwin)).rejects.toMatchObject({ code: 'access_revoked' });
      const reuse = await sessions.refresh(refreshTwin).catch((error: unknown) => error);
      expect(reuse).toBeInstanceOf(SessionError);
      expect((reuse as SessionError).code).toBe('refresh_reused');
      await expect(sessions.verifyAccess(second.access)).rejects.toBeInstanceOf(SessionError);
      await expect(sessions.refresh(second.refresh)).rejects.toBeInstanceOf(SessionError);

      // Revocation: a session revoked through one spelling is revoked for the other.
      const third = await sessions.login({ payload: { user_id: 7 }, namespace: 'user:7' });
      expect(await sessions.revokeByAccess(withNegatedS(third.access, alg))).toBe(1);
      await expect(sessions.verifyAccess(third.access)).rejects.toMatchObject({ code: 'session_not_found' });
      await expect(sessions.refresh(resignedRefresh(third.refresh, alg))).rejects.toBeInstanceOf(
        SessionError,
      );
      expect(await sessions.listSessions('user:7')).toEqual([]);
    } finally {
      await sessions.close();
    }
  });
});

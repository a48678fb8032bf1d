/**
 * The codec's verified-token cache (src/tokens/verified-cache.ts): a token presented again is
 * answered from the cache — observable as the very same frozen result object — while time, `typ`
 * and per-call claims are still checked on every call, failures are never kept, and the cache
 * stays within its size.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, TokenExpiredError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { JwtCodec } from '../../src/tokens/index.js';
import { claims, expectCode, NOW } from './helpers.js';

const KEYS = { signing: { alg: 'HS256' as const, key: randomBytes(32) } };
const at = { typ: 'at+jwt' as const, now: NOW };

function codecWith(verifiedCacheSize?: number): JwtCodec {
  return new JwtCodec({ keys: KEYS, ...(verifiedCacheSize !== undefined && { verifiedCacheSize }) });
}

describe('verified-token cache', () => {
  it('answers a token seen before with the same frozen result; off (0), every call parses anew', () => {
    const codec = codecWith();
    const token = codec.sign('at+jwt', claims({ roles: ['user'] }));
    const first = codec.verify(token, at);
    expect(codec.verify(token, at)).toBe(first);
    // Shared by every caller of this token, so nobody may change it.
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.payload)).toBe(true);
    expect(Object.isFrozen(first.payload.roles)).toBe(true);
    expect(() => {
      (first.payload as Record<string, unknown>).sub = 'someone else';
    }).toThrow(TypeError);
    expect(codec.verify(token, at).payload.sub).toBe('1234567890');

    const off = codecWith(0);
    const a = off.verify(token, at);
    const b = off.verify(token, at);
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
    // Frozen either way: the claims behave the same whether or not the cache answered.
    expect(Object.isFrozen(a.payload)).toBe(true);
  });

  it('re-checks time on every hit: expired is refused and dropped, not yet valid is never kept', () => {
    const codec = codecWith();
    const token = codec.sign('at+jwt', claims());
    const first = codec.verify(token, at);
    expectCode(
      () => codec.verify(token, { typ: 'at+jwt', now: NOW + 900 }),
      'token_expired',
      TokenExpiredError,
    );
    // The expired entry is gone: the next verification is a full one (a new result object).
    const again = codec.verify(token, at);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);

    const later = codec.sign('at+jwt', claims({ nbf: NOW + 60 }));
    expectCode(() => codec.verify(later, at), 'token_not_yet_valid');
    const valid = codec.verify(later, { typ: 'at+jwt', now: NOW + 60 });
    expect(codec.verify(later, { typ: 'at+jwt', now: NOW + 61 })).toBe(valid);
    // Going back in time (a clock step, another caller's `now`): still refused from the cache.
    expectCode(() => codec.verify(later, at), 'token_not_yet_valid');
  });

  it('re-checks the expected type, per-call claims, leeway and maxLifetime on every hit', () => {
    const codec = codecWith();
    const token = codec.sign('at+jwt', claims({ tenant: 'a' }));
    codec.verify(token, at);
    expectCode(() => codec.verify(token, { typ: 'rt+jwt', now: NOW }), 'token_type_mismatch');
    expectCode(() => codec.verify(token, { ...at, expected: { tenant: 'b' } }), 'claim_invalid');
    expect(codec.verify(token, { ...at, expected: { tenant: 'a' } }).payload.tenant).toBe('a');
    expectCode(() => codec.verify(token, { ...at, maxLifetime: 60 }), 'claim_invalid');
    expectCode(() => codec.verify(token, { ...at, expected: { tenant: {} } }), 'payload_invalid');
    expectCode(() => codec.verify(token, { typ: 'at+jwt', now: Number.NaN }), 'payload_invalid');
    expect(codec.verify(token, { typ: 'at+jwt', now: NOW + 905, leeway: 10 }).payload.exp).toBe(NOW + 900);
  });

  it('keeps only what verified: a tampered twin of a cached token is still refused', () => {
    const codec = codecWith();
    const token = codec.sign('at+jwt', claims());
    const first = codec.verify(token, at);
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    expectCode(() => codec.verify(`${h}.${p}.${flipped}`, at), 'signature_invalid');
    expectCode(() => codec.verify(`${h}.${p}.${flipped}`, at), 'signature_invalid');
    const forged = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
    expectCode(() => codec.verify(`${h}.${forged}.${s}`, at), 'signature_invalid');
    // The forgery ends with the cached token's signature (the cache's lookup key is the token's
    // tail): refused all the same, and the genuine entry is still there.
    expectCode(() => codec.verify(`${h}.${forged}.${s}`, at), 'signature_invalid');
    expect(codec.verify(token, at)).toBe(first);
    // Refresh tokens and expiry-blind checks are verified in full and never kept.
    const refresh = codec.sign('rt+jwt', claims());
    expect(codec.verify(refresh, { typ: 'rt+jwt', now: NOW })).not.toBe(
      codec.verify(refresh, { typ: 'rt+jwt', now: NOW }),
    );
    const other = codec.sign('at+jwt', claims({ n: 1 }));
    const blind = codec.verify(other, { ...at, ignoreExpiration: true });
    expect(codec.verify(other, at)).not.toBe(blind);
  });

  it('stays within its size, oldest out first', () => {
    const codec = codecWith(3);
    const tokens = [0, 1, 2, 3].map((n) => codec.sign('at+jwt', claims({ n })));
    const results = tokens.map((t) => codec.verify(t, at));
    // The fourth pushed out the first; the other three are still answered from the cache.
    expect(codec.verify(tokens[0]!, at)).not.toBe(results[0]);
    expect(codec.verify(tokens[3]!, at)).toBe(results[3]);
    expect(codec.verify(tokens[2]!, at)).toBe(results[2]);
  });

  it('refuses a bad size with a ConfigurationError', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2_000_000, '10' as unknown as number]) {
      expect(() => codecWith(bad)).toThrow(ConfigurationError);
    }
    expect(() => createSessions({ keys: KEYS, verifiedCacheSize: -1 })).toThrow(ConfigurationError);
  });

  it('strict verification still reads the session: a cached token of a revoked session is refused', async () => {
    const sessions = createSessions({ keys: KEYS, store: new MemoryStore() });
    const pair = await sessions.login({ payload: { user: 1 } });
    const first = await sessions.verifyAccess(pair.access);
    expect((await sessions.verifyAccess(pair.access)).claims).toBe(first.claims);
    await sessions.revokeByRefresh(pair.refresh);
    await expect(sessions.verifyAccess(pair.access)).rejects.toMatchObject({ code: 'session_not_found' });
    // Stateless checks the token alone, cached or not.
    expect((await sessions.verifyAccess(pair.access, { mode: 'stateless' })).claims).toBe(first.claims);
    await sessions.close();
  });
});

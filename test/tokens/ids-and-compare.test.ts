/**
 * SECURITY.md T12 (random ids: sid, jti, CSRF secrets, at least 128 bits from the CSPRNG) and T13
 * (comparisons of secrets are constant-time and never throw on unequal lengths), for the session
 * layer's src/session/ids.ts and src/session/csrf.ts (the token layer's own HMAC comparison is
 * covered in security.test.ts).
 *
 * `node:crypto` is wrapped, not replaced: `randomFillSync` and `timingSafeEqual` keep their real
 * behaviour and only count their calls, so the tests can show where the bytes and the comparisons
 * come from.
 */
import { Buffer } from 'node:buffer';
import * as crypto from 'node:crypto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CSRF_SECRET_BYTES,
  csrfTokenMatches,
  maskCsrfSecret,
  newCsrfSecret,
} from '../../src/session/csrf.js';
import { createSessions } from '../../src/session/engine.js';
import { randomBytesPooled, randomId } from '../../src/session/ids.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { JwtCodec } from '../../src/tokens/index.js';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    default: real,
    randomFillSync: vi.fn(real.randomFillSync),
    timingSafeEqual: vi.fn(real.timingSafeEqual),
  };
});

const randomFillSync = vi.mocked(crypto.randomFillSync);
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes a canonical unpadded base64url string (fails the test otherwise). */
function decode(text: string): Buffer {
  expect(text).toMatch(BASE64URL);
  const bytes = Buffer.from(text, 'base64url');
  expect(bytes.toString('base64url')).toBe(text);
  return bytes;
}

/** The secret inside a masked CSRF token: pad ‖ (pad XOR secret). */
function unmask(token: string): Buffer {
  const bytes = decode(token);
  const half = bytes.length / 2;
  const secret = Buffer.alloc(half);
  for (let i = 0; i < half; i++) secret[i] = bytes[i]! ^ bytes[half + i]!;
  return secret;
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

beforeEach(() => {
  randomFillSync.mockClear();
  timingSafeEqual.mockClear();
});

describe('[T12] random ids: at least 128 bits from the CSPRNG', () => {
  it('[T12] randomId is 16 random bytes (128 bits), canonical base64url, drawn from crypto.randomFillSync', () => {
    const n = 4096;
    const ids = Array.from({ length: n }, randomId);
    // 16 bytes per id from a 4096-byte pool: the pool is refilled from the CSPRNG every 256 ids.
    expect(randomFillSync.mock.calls.length).toBeGreaterThanOrEqual(Math.floor((n * 16) / 4096));
    expect(randomFillSync.mock.calls.length).toBeLessThanOrEqual(Math.ceil((n * 16) / 4096) + 1);
    const bits = new Array<number>(128).fill(0);
    for (const id of ids) {
      expect(id).toHaveLength(22);
      const bytes = decode(id);
      expect(bytes).toHaveLength(16);
      for (let i = 0; i < 128; i++) bits[i]! += (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
    }
    expect(new Set(ids).size).toBe(n);
    // Every one of the 128 bit positions varies (none is constant or fixed by the encoding):
    // each is set in about half the ids (bound at 8 standard deviations: never a false alarm).
    const sigma = Math.sqrt(n) / 2;
    for (const count of bits) expect(Math.abs(count - n / 2)).toBeLessThan(8 * sigma);
  });

  it('[T12] pooled random bytes are never handed out twice (copies, pool zeroed after use)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const bytes = randomBytesPooled(16);
      const hex = bytes.toString('hex');
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
      const copy = Buffer.from(bytes);
      randomBytesPooled(16);
      expect(bytes.equals(copy)).toBe(true); // later draws never write into an id handed out
    }
    expect(() => randomBytesPooled(4097)).toThrow(RangeError);
  });

  it('[T12] CSRF secrets are 256 bits from the CSPRNG; masks are fresh random pads', () => {
    randomBytesPooled(4096); // drain the pool so the next draw must refill it from the CSPRNG
    randomFillSync.mockClear();
    const secret = newCsrfSecret();
    expect(randomFillSync).toHaveBeenCalledTimes(1);
    expect(decode(secret)).toHaveLength(CSRF_SECRET_BYTES);
    expect(CSRF_SECRET_BYTES * 8).toBeGreaterThanOrEqual(128);
    const masked = [maskCsrfSecret(secret), maskCsrfSecret(secret)];
    expect(masked[0]).not.toBe(masked[1]);
    for (const m of masked) expect(unmask(m).toString('base64url')).toBe(secret);
  });

  it('[T12] sessions: sid and jti of access and refresh tokens and the CSRF secret are 128+ random bits, all distinct', async () => {
    const sessions = createSessions({
      keys: { signing: { alg: 'HS256', key: crypto.randomBytes(32) } },
      store: new MemoryStore(),
    });
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const pair = await sessions.login({ payload: { user_id: i } });
        const access = payloadOf(pair.access);
        const refresh = payloadOf(pair.refresh);
        expect(access.sid).toBe(pair.sessionId);
        expect(refresh.sid).toBe(pair.sessionId);
        for (const id of [pair.sessionId, access.jti as string, refresh.jti as string]) {
          expect(decode(id).length).toBeGreaterThanOrEqual(16);
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
        const csrfSecret = unmask(pair.csrf);
        expect(csrfSecret.length).toBeGreaterThanOrEqual(16);
        expect(seen.has(csrfSecret.toString('hex'))).toBe(false);
        seen.add(csrfSecret.toString('hex'));
      }
    } finally {
      await sessions.close();
    }
  });
});

describe('[T13] comparisons of secrets are constant-time and never throw on unequal lengths', () => {
  const secret = newCsrfSecret();
  const good = maskCsrfSecret(secret);

  it('[T13] CSRF: every well-formed candidate is compared with crypto.timingSafeEqual over equal-length buffers', () => {
    expect(csrfTokenMatches(secret, good)).toBe(true);
    // Same length, one byte of the secret wrong (anywhere): refused, through timingSafeEqual.
    for (const at of [0, 17, CSRF_SECRET_BYTES - 1]) {
      const bytes = Buffer.from(good, 'base64url');
      bytes[CSRF_SECRET_BYTES + at]! ^= 0x01;
      expect(csrfTokenMatches(secret, bytes.toString('base64url'))).toBe(false);
    }
    expect(csrfTokenMatches(secret, maskCsrfSecret(newCsrfSecret()))).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(5);
    for (const [a, b] of timingSafeEqual.mock.calls) {
      expect((a as Buffer).length).toBe(CSRF_SECRET_BYTES);
      expect((b as Buffer).length).toBe(CSRF_SECRET_BYTES);
    }
  });

  it('[T13] CSRF: wrong lengths, non-strings and garbage are refused with false, never a throw', () => {
    for (const candidate of [
      '',
      good.slice(0, -1),
      `${good}A`,
      `${good}${good}`,
      good.replace(/.$/, '='),
      `${good.slice(0, 10)}+${good.slice(11)}`,
      secret, // the unmasked secret itself
      undefined,
      null,
      42,
      {},
      [good],
      Buffer.from(good),
    ]) {
      expect(csrfTokenMatches(secret, candidate)).toBe(false);
    }
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.anything()), (candidate) => {
        expect(csrfTokenMatches(secret, candidate)).toBe(candidate === good);
      }),
      { numRuns: 2000 },
    );
  });

  it('[T13] HMAC tokens: a signature of any length or content is a typed refusal, never a throw', () => {
    const codec = new JwtCodec({ keys: { signing: { alg: 'HS256', key: crypto.randomBytes(32) } } });
    const token = codec.sign('at+jwt', { exp: 2_000_000_000 });
    const input = token.slice(0, token.lastIndexOf('.') + 1);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'AQgw-_09azAZ'.split('')), maxLength: 120 }),
        (sig) => {
          fc.pre(`${input}${sig}` !== token);
          let error: unknown;
          try {
            codec.verify(`${input}${sig}`, { typ: 'at+jwt', now: 1_900_000_000 });
          } catch (e) {
            error = e;
          }
          expect(error).toMatchObject({ status: 401 });
          expect(['signature_invalid', 'token_malformed']).toContain((error as { code: string }).code);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

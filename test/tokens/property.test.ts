/**
 * Property-based tests (fast-check): mutations of valid tokens are never accepted and never cause
 * an untyped error; arbitrary input never causes an untyped error.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClaimsVerificationError, InvalidPayloadError, TokenFormatError } from '../../src/errors.js';
import { ALGORITHMS, type Algorithm, JwtCodec } from '../../src/tokens/index.js';
import { claims, keyFor, NOW } from './helpers.js';

const at = { typ: 'at+jwt' as const, now: NOW };

function codecFor(alg: Algorithm): JwtCodec {
  const key = alg.startsWith('HS') ? randomBytes(64) : keyFor(alg).privateKey;
  return new JwtCodec({ keys: { signing: { alg, key } }, issuer: 'iss', audience: 'aud' });
}

/** Verifying `token` must throw a token-level typed error; returns nothing, fails otherwise. */
function mustRefuse(codec: JwtCodec, token: string): void {
  let accepted = false;
  try {
    codec.verify(token, at);
    accepted = true;
  } catch (error) {
    if (!(error instanceof TokenFormatError || error instanceof ClaimsVerificationError)) {
      throw new Error(`untyped error for ${JSON.stringify(token)}: ${String(error)}`);
    }
  }
  if (accepted) throw new Error(`mutated token accepted: ${JSON.stringify(token)}`);
}

/** Any outcome but an untyped throw. */
function neverUntyped(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (
      !(
        error instanceof TokenFormatError ||
        error instanceof ClaimsVerificationError ||
        error instanceof InvalidPayloadError
      )
    ) {
      throw new Error(`untyped error: ${String(error)}`);
    }
  }
}

const BYTE_CHARS = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).concat([
  'é',
  '\u0141',
  '\u2028',
  '\ufeff',
  '😀',
]);

const mutation = fc.oneof(
  // replace one character with any character (ASCII, base64 lookalikes, non-ASCII)
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), ch: fc.constantFrom(...BYTE_CHARS) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: fc.constantFrom(...BYTE_CHARS) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  // flip one bit of one decoded byte of a segment and re-encode canonically
  fc.record({
    kind: fc.constant('bitflip' as const),
    segment: fc.integer({ min: 0, max: 2 }),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  // swap, duplicate, drop or empty whole segments
  fc.record({
    kind: fc.constant('segments' as const),
    op: fc.constantFrom('swap01', 'swap12', 'dup0', 'dup1', 'drop2', 'empty0', 'empty1', 'empty2', 'extra'),
  }),
  // splice a segment from another valid token (other claims, other type)
  fc.record({ kind: fc.constant('splice' as const), segment: fc.integer({ min: 0, max: 2 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(token: string, m: Mutation, donor: string): string {
  const parts = token.split('.');
  switch (m.kind) {
    case 'replace': {
      const i = m.at % token.length;
      return token.slice(0, i) + m.ch + token.slice(i + 1);
    }
    case 'insert': {
      const i = m.at % (token.length + 1);
      return token.slice(0, i) + m.ch + token.slice(i);
    }
    case 'delete': {
      const i = m.at % token.length;
      return token.slice(0, i) + token.slice(i + 1);
    }
    case 'bitflip': {
      const bytes = Buffer.from(parts[m.segment]!, 'base64url');
      if (bytes.length === 0) return `${token}x`;
      const i = m.at % bytes.length;
      bytes[i] = bytes[i]! ^ (1 << m.bit);
      parts[m.segment] = bytes.toString('base64url');
      return parts.join('.');
    }
    case 'segments': {
      const [h, p, s] = parts as [string, string, string];
      switch (m.op) {
        case 'swap01':
          return [p, h, s].join('.');
        case 'swap12':
          return [h, s, p].join('.');
        case 'dup0':
          return [h, h, s].join('.');
        case 'dup1':
          return [h, p, p].join('.');
        case 'drop2':
          return [h, p].join('.');
        case 'empty0':
          return ['', p, s].join('.');
        case 'empty1':
          return [h, '', s].join('.');
        case 'empty2':
          return [h, p, ''].join('.');
        default:
          return `${token}.${s}`;
      }
    }
    case 'splice': {
      const other = donor.split('.');
      parts[m.segment] = other[m.segment]!;
      return parts.join('.');
    }
  }
}

describe('property: mutations of valid tokens are refused with typed errors', () => {
  // Every algorithm; the most runs where verifying is cheap and the token is the default one.
  const runs: [Algorithm, number][] = ALGORITHMS.map((alg) => [
    alg,
    alg === 'HS256' ? 2500 : alg.startsWith('HS') ? 600 : alg === 'ES256' || alg === 'EdDSA' ? 400 : 120,
  ]);
  for (const [alg, numRuns] of runs) {
    it(`[T2][T5] ${alg}: ${numRuns} random single mutations are never accepted, always a typed error`, () => {
      const codec = codecFor(alg);
      const token = codec.sign('at+jwt', claims({ name: 'Jane Doe', roles: ['user'] }));
      const donor = codec.sign('at+jwt', claims({ sub: 'admin', name: 'Mallory' }));
      expect(codec.verify(token, at).payload.name).toBe('Jane Doe');
      fc.assert(
        fc.property(mutation, (m) => {
          const mutated = mutate(token, m, donor);
          fc.pre(mutated !== token);
          mustRefuse(codec, mutated);
        }),
        { numRuns },
      );
    });
  }
});

describe('property: arbitrary input never throws an untyped error', () => {
  const codec = codecFor('HS256');
  const valid = codec.sign('at+jwt', claims());
  const segment = fc.oneof(
    fc.base64String().map((s) => s.replace(/\+/g, '-').replace(/\//g, '_')),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
    fc
      .dictionary(
        fc.constantFrom('alg', 'typ', 'kid', 'crit', 'b64', 'jwk', 'exp', 'nbf', 'iat', 'aud', '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64url')),
    fc.constantFrom(...valid.split('.')),
  );

  it('[T1][T2][T3] random strings (ASCII, unicode, near-tokens): typed errors only', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.tuple(segment, segment, segment).map((t) => t.join('.')),
          fc.array(segment, { maxLength: 6 }).map((t) => t.join('.')),
        ),
        fc.constantFrom<'at+jwt' | 'rt+jwt'>('at+jwt', 'rt+jwt'),
        (input, typ) => {
          neverUntyped(() => codec.verify(input, { typ, now: NOW }));
          neverUntyped(() =>
            codec.verify(input, {
              typ,
              now: NOW,
              ignoreExpiration: true,
              maxLifetime: 60,
              expected: { sub: 'x' },
            }),
          );
          neverUntyped(() => codec.decodeUnverified(input));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('non-string inputs and odd options', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (input, options) => {
        neverUntyped(() => codec.verify(input as string, options as never));
        neverUntyped(() => codec.verify(valid, { typ: 'at+jwt', ...(options as object) } as never));
        neverUntyped(() => codec.decodeUnverified(input as string));
        neverUntyped(() => codec.sign('at+jwt', input as Record<string, unknown>));
        neverUntyped(() => codec.sign('at+jwt', { exp: NOW, x: input }));
      }),
      { numRuns: 1000 },
    );
  });
});

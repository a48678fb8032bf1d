import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHttpToken, isTokenChars, parseAuthorization, parseTokenHeader } from '../../src/http/bearer.js';

const IGNORED = new Set(['basic', 'digest']);
const JWT_CHAR = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.');
const jwtLike = fc.string({ unit: JWT_CHAR, minLength: 1, maxLength: 200 });
const ows = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 5 });

/** Median time of a few runs of `fn`, in ms. */
function time(fn: () => void): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    fn();
    runs.push(performance.now() - t);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

describe('parseAuthorization', () => {
  it('accepts Bearer with a case-insensitive scheme and exactly one token', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(parseAuthorization(`${scheme} abc.def.ghi`, IGNORED)).toEqual({
        kind: 'token',
        token: 'abc.def.ghi',
      });
    }
    expect(parseAuthorization('  Bearer \t  a.b.c \t', IGNORED)).toEqual({ kind: 'token', token: 'a.b.c' });
  });

  it('absent or empty headers are absent', () => {
    expect(parseAuthorization(undefined, IGNORED).kind).toBe('absent');
    expect(parseAuthorization('', IGNORED).kind).toBe('absent');
    expect(parseAuthorization('   \t ', IGNORED).kind).toBe('absent');
  });

  it('Basic and Digest (any case) are ignored', () => {
    expect(parseAuthorization('Basic ZGVtbzpwdw==', IGNORED)).toEqual({ kind: 'ignored', scheme: 'Basic' });
    expect(parseAuthorization('digest username="x", realm="y"', IGNORED)).toEqual({
      kind: 'ignored',
      scheme: 'digest',
    });
    expect(parseAuthorization('BASIC', IGNORED).kind).toBe('ignored');
  });

  it('everything else present is malformed', () => {
    for (const value of [
      'Bearer',
      'Bearer    ',
      'Bearer a.b.c d.e.f',
      'Bearer a.b.c,d',
      'Bearer a.b.c;',
      'Bearer "a.b.c"',
      'Bearer a+b/c=',
      'Token a.b.c',
      'a.b.c',
      'Bearer\u00a0a.b.c',
      'Bearer a.b.c\u0000',
      'Beärer a.b.c',
      // One character from Bearer, or one too many or too few: not the scheme.
      'Bearar a.b.c',
      'Bearers a.b.c',
      'Beare a.b.c',
      'Bea-er a.b.c',
      'Bear`r a.b.c',
      'Bearer a.b.\u0100c',
      'Bearer, Bearer a.b.c',
    ]) {
      expect(parseAuthorization(value, IGNORED).kind, value).toBe('malformed');
    }
  });

  it('property: Bearer + OWS + JWT characters always yields exactly that token', () => {
    fc.assert(
      fc.property(
        ows,
        fc.mixedCase(fc.constant('bearer')),
        fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 1, maxLength: 5 }),
        jwtLike,
        ows,
        (lead, scheme, gap, token, trail) => {
          expect(parseAuthorization(`${lead}${scheme}${gap}${token}${trail}`, IGNORED)).toEqual({
            kind: 'token',
            token,
          });
        },
      ),
    );
  });

  it('property: two tokens are never accepted', () => {
    fc.assert(
      fc.property(
        jwtLike,
        fc.string({ unit: fc.constantFrom(' ', '\t', ',', ';'), minLength: 1, maxLength: 3 }),
        jwtLike,
        (a, sep, b) => {
          expect(parseAuthorization(`Bearer ${a}${sep}${b}`, IGNORED).kind).toBe('malformed');
        },
      ),
    );
  });

  it('property: never throws, and a token result is always JWT characters found in the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        const parsed = parseAuthorization(value, IGNORED);
        if (parsed.kind === 'token') {
          expect(isTokenChars(parsed.token)).toBe(true);
          expect(value).toContain(parsed.token);
          expect(value.trim().toLowerCase().startsWith('bearer')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('[H7] runs in linear time: 100 KB and 1 MB of spaces, tabs or token characters', () => {
    for (const filler of [' ', '\t', 'a', ' a']) {
      const small = `Bearer ${filler.repeat(100_000 / filler.length)}x y`;
      const large = `Bearer ${filler.repeat(1_000_000 / filler.length)}x y`;
      expect(parseAuthorization(small, IGNORED).kind).toBe('malformed');
      // A quadratic scan of 1 MB is ~10^12 steps (minutes); a linear one is milliseconds. The bound
      // is generous so that load on a shared machine cannot make it flaky (no ratio of tiny timings).
      expect(time(() => parseAuthorization(large, IGNORED))).toBeLessThan(500);
    }
  });
});

describe('parseTokenHeader (X-Refresh-Token)', () => {
  it('takes a bare token or Bearer', () => {
    expect(parseTokenHeader('a.b.c')).toEqual({ kind: 'token', token: 'a.b.c' });
    expect(parseTokenHeader(' Bearer a.b.c ')).toEqual({ kind: 'token', token: 'a.b.c' });
    expect(parseTokenHeader('bearer a.b.c')).toEqual({ kind: 'token', token: 'a.b.c' });
    expect(parseTokenHeader(undefined).kind).toBe('absent');
    expect(parseTokenHeader(' ').kind).toBe('absent');
  });

  it('refuses anything else, Basic included', () => {
    for (const value of ['a b', 'Basic a.b.c', 'Bearer a b', 'a,b', 'a.b.c!', 'Token a.b.c']) {
      expect(parseTokenHeader(value).kind, value).toBe('malformed');
    }
  });

  it('[H7] property: never throws; linear on long whitespace', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        parseTokenHeader(value);
      }),
    );
    expect(time(() => parseTokenHeader(`${' '.repeat(1_000_000)}x y`))).toBeLessThan(100);
  });
});

describe('character classes', () => {
  it('isTokenChars: JWT characters only, non-empty', () => {
    expect(isTokenChars('aZ09-_.')).toBe(true);
    expect(isTokenChars('')).toBe(false);
    expect(isTokenChars('a=')).toBe(false);
    expect(isTokenChars('é')).toBe(false);
  });

  it('isHttpToken: RFC 9110 tchar', () => {
    expect(isHttpToken('X-CSRF-Token')).toBe(true);
    expect(isHttpToken('__Host-jwt_access')).toBe(true);
    expect(isHttpToken('a b')).toBe(false);
    expect(isHttpToken('a;b')).toBe(false);
    expect(isHttpToken('')).toBe(false);
  });
});

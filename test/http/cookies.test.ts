import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  type CookieAttributes,
  lookupCookie,
  parseCookieHeader,
  serializeCookie,
  serializeExpiredCookie,
  validateCookieConfig,
} from '../../src/http/cookies.js';
import { resolveHttpConfig } from '../../src/http/options.js';

const BASE: CookieAttributes = { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' };
const NAME_CHAR = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-');
const cookieName = fc.string({ unit: NAME_CHAR, minLength: 1, maxLength: 20 });
const VALUE_CHAR = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.');
const cookieValue = fc.string({ unit: VALUE_CHAR, maxLength: 100 });

describe('parseCookieHeader', () => {
  it('parses name=value pairs with optional whitespace and quotes', () => {
    const cookies = parseCookieHeader(' a=1;b = 2 ;c="3"; d=; =x; novalue; e=a=b');
    expect([...cookies]).toEqual([
      ['a', ['1']],
      ['b', ['2']],
      ['c', ['3']],
      ['d', ['']],
      ['e', ['a=b']],
    ]);
  });

  it('keeps every value of a repeated name, and names are case-sensitive', () => {
    const cookies = parseCookieHeader('jwt_access=one; JWT_ACCESS=x; jwt_access=two');
    expect(cookies.get('jwt_access')).toEqual(['one', 'two']);
    expect(cookies.get('JWT_ACCESS')).toEqual(['x']);
  });

  it('lookupCookie: absent, empty (= absent), value, ambiguous', () => {
    const cookies = parseCookieHeader('a=1; b=; c=1; c=1');
    expect(lookupCookie(cookies, 'a')).toEqual({ kind: 'value', value: '1' });
    expect(lookupCookie(cookies, 'b')).toEqual({ kind: 'absent' });
    expect(lookupCookie(cookies, 'c')).toEqual({ kind: 'ambiguous' });
    expect(lookupCookie(cookies, 'zz')).toEqual({ kind: 'absent' });
    expect(lookupCookie(parseCookieHeader(undefined), 'a')).toEqual({ kind: 'absent' });
  });

  it('does not touch prototypes', () => {
    const cookies = parseCookieHeader('__proto__=x; constructor=y; toString=z');
    expect(cookies.get('__proto__')).toEqual(['x']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(lookupCookie(parseCookieHeader('a=1'), 'toString')).toEqual({ kind: 'absent' });
  });

  it('property: round-trips a list of distinct cookies', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(cookieName, cookieValue), { selector: ([n]) => n, maxLength: 10 }),
        fc.constantFrom('; ', ';', ' ;  '),
        (pairs, sep) => {
          const header = pairs.map(([n, v]) => `${n}=${v}`).join(sep);
          const cookies = parseCookieHeader(header);
          expect([...cookies.keys()]).toEqual(pairs.map(([n]) => n));
          for (const [n, v] of pairs) expect(cookies.get(n)).toEqual([v]);
        },
      ),
    );
  });

  it('[H4] property: a name present twice is always ambiguous, wherever the copies are', () => {
    fc.assert(
      fc.property(
        cookieName,
        cookieValue,
        cookieValue,
        fc.array(fc.tuple(cookieName, cookieValue), { maxLength: 5 }),
        fc.nat(),
        fc.nat(),
        (name, v1, v2, others, i, j) => {
          const pairs = others.filter(([n]) => n !== name);
          pairs.splice(i % (pairs.length + 1), 0, [name, v1 || 'x']);
          pairs.splice(j % (pairs.length + 1), 0, [name, v2 || 'y']);
          const header = pairs.map(([n, v]) => `${n}=${v}`).join('; ');
          expect(lookupCookie(parseCookieHeader(header), name).kind).toBe('ambiguous');
        },
      ),
    );
  });

  it('property: never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (header) => {
        parseCookieHeader(header);
      }),
      { numRuns: 2000 },
    );
  });

  it('[H7] linear time on separators without "=" and on long whitespace', () => {
    for (const filler of [';', 'a;', ' ', '=']) {
      const header = filler.repeat(1_000_000 / filler.length);
      const t = performance.now();
      parseCookieHeader(header);
      expect(performance.now() - t).toBeLessThan(500);
    }
  });
});

describe('serializeCookie', () => {
  it('writes every attribute', () => {
    const expires = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(
      serializeCookie('jwt_refresh', 'a.b.c', {
        ...BASE,
        path: '/auth',
        domain: 'example.com',
        maxAge: 60.9,
        expires,
        sameSite: 'Strict',
      }),
    ).toBe(
      'jwt_refresh=a.b.c; Path=/auth; Domain=example.com; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; SameSite=Strict',
    );
    expect(serializeCookie('a', 'b', { ...BASE, secure: false, httpOnly: false })).toBe(
      'a=b; Path=/; SameSite=Lax',
    );
  });

  it('[H6] expired cookie: empty value, same attributes, Max-Age=0 and the epoch', () => {
    expect(serializeExpiredCookie('__Host-jwt_access', BASE)).toBe(
      '__Host-jwt_access=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('refuses names and values that would inject attributes', () => {
    expect(() => serializeCookie('a;b', 'x', BASE)).toThrow(TypeError);
    expect(() => serializeCookie('a', 'x; Domain=evil', BASE)).toThrow(TypeError);
    expect(() => serializeCookie('a', 'x\r\nSet-Cookie: y', BASE)).toThrow(TypeError);
  });

  it('property: serialise then parse gives the value back', () => {
    fc.assert(
      fc.property(cookieName, cookieValue, (name, value) => {
        const line = serializeCookie(name, value, BASE);
        const pair = line.slice(0, line.indexOf(';'));
        expect(parseCookieHeader(pair).get(name)).toEqual([value]);
      }),
    );
  });
});

describe('cookie prefix rules (enforced at configuration)', () => {
  it('__Host- needs Secure, Path=/ and no Domain', () => {
    expect(() => validateCookieConfig('__Host-jwt', BASE)).not.toThrow();
    expect(() => validateCookieConfig('__Host-jwt', { ...BASE, secure: false })).toThrow(ConfigurationError);
    expect(() => validateCookieConfig('__Host-jwt', { ...BASE, path: '/auth' })).toThrow(ConfigurationError);
    expect(() => validateCookieConfig('__Host-jwt', { ...BASE, domain: 'example.com' })).toThrow(
      ConfigurationError,
    );
    expect(() => validateCookieConfig('__host-jwt', { ...BASE, path: '/auth' })).toThrow(ConfigurationError);
  });

  it('__Secure- needs Secure (and may be path-scoped); SameSite=None needs Secure', () => {
    expect(() => validateCookieConfig('__Secure-jwt_refresh', { ...BASE, path: '/auth' })).not.toThrow();
    expect(() => validateCookieConfig('__Secure-jwt', { ...BASE, secure: false })).toThrow(
      ConfigurationError,
    );
    expect(() => validateCookieConfig('jwt', { ...BASE, secure: false, sameSite: 'None' })).toThrow(
      ConfigurationError,
    );
  });

  it('invalid names, paths and domains', () => {
    expect(() => validateCookieConfig('a b', BASE)).toThrow(ConfigurationError);
    expect(() => validateCookieConfig('a', { ...BASE, path: 'auth' })).toThrow(ConfigurationError);
    expect(() => validateCookieConfig('a', { ...BASE, path: '/a;b' })).toThrow(ConfigurationError);
    expect(() => validateCookieConfig('a', { ...BASE, domain: '' })).toThrow(ConfigurationError);
  });

  it('resolveHttpConfig applies them to both cookies; the refresh cookie can be path-scoped', () => {
    expect(() => resolveHttpConfig({ accessCookie: { name: '__Host-a', secure: false } })).toThrow(
      ConfigurationError,
    );
    expect(() => resolveHttpConfig({ refreshCookie: { name: '__Host-r', path: '/auth' } })).toThrow(
      ConfigurationError,
    );
    const config = resolveHttpConfig({
      accessCookie: { name: '__Host-jwt_access' },
      refreshCookie: { name: '__Secure-jwt_refresh', path: '/auth', sameSite: 'Strict' },
    });
    expect(config.refreshCookie.attributes).toMatchObject({
      path: '/auth',
      sameSite: 'Strict',
      secure: true,
      httpOnly: true,
    });
    expect(() => resolveHttpConfig({ accessCookie: { name: 'x' }, refreshCookie: { name: 'x' } })).toThrow(
      ConfigurationError,
    );
  });
});

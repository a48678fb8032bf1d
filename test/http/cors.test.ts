/**
 * CORS for the ready-made routes (Rodauth jwt_cors): allowed origins as a list, RegExp or
 * function; preflight 204; Authorization (and the sliding header) exposed; list headers merged.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { applyPatchHeaders, type CorsOptions, createCors, mergeHeaderList } from '../../src/http/cors.js';
import { fakeRequest } from './request.js';

const fromOrigin = (origin?: string, method = 'GET') =>
  fakeRequest({ method, headers: origin === undefined ? {} : { origin } });

describe('mergeHeaderList', () => {
  it('appends missing entries, case-insensitively, keeping what is there', () => {
    expect(mergeHeaderList(undefined, 'Origin')).toBe('Origin');
    expect(mergeHeaderList('  ', 'Origin')).toBe('Origin');
    expect(mergeHeaderList('Accept-Encoding', 'Origin')).toBe('Accept-Encoding, Origin');
    expect(mergeHeaderList('origin, Accept', 'Origin')).toBe('origin, Accept');
    expect(mergeHeaderList('A', 'B, a, C')).toBe('A, B, C');
    expect(mergeHeaderList('*', 'Origin')).toBe('*');
  });
});

describe('applyPatchHeaders', () => {
  it('merges Vary and Access-Control-Expose-Headers, replaces the rest', () => {
    const target: Record<string, string> = {
      vary: 'Accept-Encoding',
      'access-control-expose-headers': 'X-Request-Id',
      'cache-control': 'public',
    };
    applyPatchHeaders(target, {
      headers: {
        vary: 'Origin',
        'access-control-expose-headers': 'Authorization',
        'cache-control': 'no-store',
      },
      cookies: [],
    });
    expect(target).toEqual({
      vary: 'Accept-Encoding, Origin',
      'access-control-expose-headers': 'X-Request-Id, Authorization',
      'cache-control': 'no-store',
    });
  });
});

describe('createCors', () => {
  const matchers: Array<[string, CorsOptions['origins']]> = [
    ['a list', ['https://app.example', 'https://other.example']],
    ['a RegExp', /^https:\/\/app\.example$/],
    ['a function', (origin) => origin === 'https://app.example'],
  ];

  it.each(matchers)('allowed origins as %s: reflected with credentials and exposed headers', (_, origins) => {
    const cors = createCors({ origins }, ['Authorization']);
    expect(cors.headers(fromOrigin('https://app.example'))).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'Authorization',
      vary: 'Origin',
    });
    expect(cors.headers(fromOrigin('https://evil.example'))).toEqual({ vary: 'Origin' });
    expect(cors.headers(fromOrigin())).toEqual({ vary: 'Origin' });
  });

  it('the "null" origin is never allowed, even by a function allowing everything', () => {
    const cors = createCors({ origins: () => true }, ['Authorization']);
    expect(cors.headers(fromOrigin('null'))).toEqual({ vary: 'Origin' });
    expect(cors.preflight(fromOrigin('null', 'OPTIONS'), ['POST']).headers).toEqual({ vary: 'Origin' });
  });

  it('preflight: 204 with methods, request headers, credentials and max-age; a foreign origin gets none', () => {
    const cors = createCors({ origins: ['https://app.example'], allowHeaders: ['X-Trace'], maxAge: 60 }, [
      'Authorization',
    ]);
    const ok = cors.preflight(fromOrigin('https://app.example', 'OPTIONS'), ['GET', 'DELETE']);
    expect(ok).toEqual({
      status: 204,
      cookies: [],
      headers: {
        vary: 'Origin',
        'access-control-allow-origin': 'https://app.example',
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET, DELETE, OPTIONS',
        'access-control-allow-headers': 'Authorization, Content-Type, X-CSRF-Token, X-Refresh-Token, X-Trace',
        'access-control-max-age': '60',
      },
    });
    expect(cors.preflight(fromOrigin('https://evil.example', 'OPTIONS'), ['GET'])).toEqual({
      status: 204,
      cookies: [],
      headers: { vary: 'Origin' },
    });
  });

  it('credentials can be turned off; extra exposed headers are added once', () => {
    const cors = createCors(
      {
        origins: ['https://app.example'],
        credentials: false,
        exposeHeaders: ['X-Access-Token', 'Authorization'],
      },
      ['Authorization', 'X-Access-Token'],
    );
    const headers = cors.headers(fromOrigin('https://app.example'));
    expect(headers['access-control-allow-credentials']).toBeUndefined();
    expect(headers['access-control-expose-headers']).toBe('Authorization, X-Access-Token');
  });

  it('refuses bad configuration', () => {
    for (const options of [
      null,
      { origins: '*' },
      { origins: ['https://a'], maxAge: -1 },
      { origins: ['https://a'], maxAge: 1.5 },
    ]) {
      expect(() => createCors(options as CorsOptions, [])).toThrow(ConfigurationError);
    }
  });
});

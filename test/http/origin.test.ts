/**
 * Origin allowlists (shared by CORS and the Origin / Fetch-Metadata check) and the check itself:
 * the second line behind CSRF tokens on unsafe cookie requests (SECURITY.md H3).
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, ForbiddenError } from '../../src/errors.js';
import {
  checkOrigin,
  compileOriginMatcher,
  type OriginMatcher,
  resolveOriginCheck,
} from '../../src/http/origin.js';
import { fakeRequest } from './request.js';

describe('compileOriginMatcher', () => {
  it('exact origins: case-insensitive, a trailing slash in the configuration is ignored', () => {
    const allowed = compileOriginMatcher(['https://App.Example/', 'http://localhost:5173']);
    expect(allowed('https://app.example')).toBe(true);
    expect(allowed('HTTPS://APP.EXAMPLE')).toBe(true);
    expect(allowed('http://localhost:5173')).toBe(true);
    for (const origin of [
      'https://app.example:8443',
      'http://app.example',
      'https://app.example.evil',
      'null',
    ]) {
      expect(allowed(origin)).toBe(false);
    }
  });

  it('a RegExp tests the whole value as written; a global one keeps no state between calls', () => {
    const allowed = compileOriginMatcher(/^https:\/\/[a-z]+\.example\.com$/g);
    for (let i = 0; i < 3; i++) expect(allowed('https://app.example.com')).toBe(true);
    expect(allowed('https://app.example.com.evil')).toBe(false);
  });

  it('a list may mix origins and RegExps', () => {
    const allowed = compileOriginMatcher(['https://a.example', /^https:\/\/b\d\.example$/]);
    expect(['https://a.example', 'https://b1.example'].map(allowed)).toEqual([true, true]);
    expect(allowed('https://c.example')).toBe(false);
  });

  it('a function decides; only `true` allows, and a throwing function refuses', () => {
    expect(compileOriginMatcher((o) => o.endsWith('.ok'))('https://x.ok')).toBe(true);
    expect(compileOriginMatcher((() => 'yes') as unknown as OriginMatcher)('https://x')).toBe(false);
    expect(
      compileOriginMatcher(() => {
        throw new Error('boom');
      })('https://x'),
    ).toBe(false);
  });

  it('refuses "*", empty origins and other shapes at configuration', () => {
    for (const bad of ['*', ['https://a', '*'], '', [''], [42], 42, null, { origin: 'x' }]) {
      expect(() => compileOriginMatcher(bad as OriginMatcher)).toThrow(ConfigurationError);
    }
  });
});

describe('resolveOriginCheck', () => {
  it('off unless asked for; true = on without an allowlist', () => {
    expect(resolveOriginCheck(undefined)).toBeNull();
    expect(resolveOriginCheck(false)).toBeNull();
    expect(resolveOriginCheck(true)).toEqual({ allowed: null, allowSameSite: false });
    expect(resolveOriginCheck({ allowSameSite: true })?.allowSameSite).toBe(true);
  });
});

describe('checkOrigin', () => {
  const HOST = 'api.example.com';
  const withList = resolveOriginCheck({ allowedOrigins: ['https://spa.example'] })!;
  const noList = resolveOriginCheck(true)!;
  const sameSite = resolveOriginCheck({ allowSameSite: true })!;

  const verdict = (check: typeof withList, headers: Record<string, string>): 'pass' | 'refused' => {
    try {
      checkOrigin(fakeRequest({ method: 'POST', headers: { host: HOST, ...headers } }), check);
      return 'pass';
    } catch (error) {
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).code).toBe('origin_refused');
      return 'refused';
    }
  };

  it('[H3] Sec-Fetch-Site: cross-site is refused; same-origin and none pass; same-site only when allowed', () => {
    for (const check of [withList, noList]) {
      expect(verdict(check, { 'sec-fetch-site': 'cross-site' })).toBe('refused');
      expect(verdict(check, { 'sec-fetch-site': 'CROSS-SITE' })).toBe('refused');
      expect(verdict(check, { 'sec-fetch-site': 'same-site' })).toBe('refused');
      expect(verdict(check, { 'sec-fetch-site': 'something-new' })).toBe('refused');
      expect(verdict(check, { 'sec-fetch-site': 'same-origin' })).toBe('pass');
      expect(verdict(check, { 'sec-fetch-site': 'none' })).toBe('pass');
    }
    expect(verdict(sameSite, { 'sec-fetch-site': 'same-site' })).toBe('pass');
    expect(verdict(sameSite, { 'sec-fetch-site': 'cross-site' })).toBe('refused');
  });

  it('[H3] an allowlisted Origin passes even cross-site; a foreign one is refused', () => {
    expect(verdict(withList, { origin: 'https://spa.example', 'sec-fetch-site': 'cross-site' })).toBe('pass');
    expect(verdict(withList, { origin: 'https://spa.example' })).toBe('pass');
    expect(verdict(withList, { origin: 'https://evil.example' })).toBe('refused');
    expect(verdict(withList, { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' })).toBe(
      'pass',
    );
  });

  it('[H3] without Fetch Metadata: the own origin passes, any other Origin (null included) is refused', () => {
    for (const check of [withList, noList]) {
      expect(verdict(check, { origin: `https://${HOST}` })).toBe('pass');
      expect(verdict(check, { origin: `https://API.example.com` })).toBe('pass');
      expect(verdict(check, { origin: 'https://evil.example' })).toBe('refused');
      expect(verdict(check, { origin: `https://${HOST}.evil` })).toBe('refused');
      expect(verdict(check, { origin: 'null' })).toBe('refused');
      expect(verdict(check, { origin: 'garbage' })).toBe('refused');
      // Non-browser clients send neither header: the CSRF token is still required after this.
      expect(verdict(check, {})).toBe('pass');
    }
    expect(verdict(noList, { origin: `https://${HOST}:8443` })).toBe('refused');
  });

  it('without a Host header, no Origin can be the own one', () => {
    expect(() =>
      checkOrigin(fakeRequest({ method: 'POST', headers: { origin: 'https://a.example' } }), noList),
    ).toThrow(ForbiddenError);
  });
});

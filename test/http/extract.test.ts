/**
 * Token lookup (SPEC §4): header first, then cookie; Basic/Digest read as absent; a present but
 * malformed header never falls back to the cookie; never the URL; sizes capped before parsing;
 * one of our cookies sent twice is refused.
 */
import { describe, expect, it } from 'vitest';
import { RequestError, TokenFormatError } from '../../src/errors.js';
import { findAccessToken, findRefreshToken, readTokenCookie } from '../../src/http/extract.js';
import { type HttpOptions, resolveHttpConfig } from '../../src/http/options.js';
import type { Transport } from '../../src/http/types.js';
import { fakeRequest } from './request.js';

const HEADER_TOKEN = 'hhh.hhh.hhh';
const COOKIE_TOKEN = 'ccc.ccc.ccc';
const config = resolveHttpConfig();

function access(headers: Record<string, string>, transport: Transport = 'any', options?: HttpOptions) {
  return findAccessToken(fakeRequest({ headers }), options ? resolveHttpConfig(options) : config, transport);
}

function refresh(headers: Record<string, string>, transport: Transport = 'any') {
  return findRefreshToken(fakeRequest({ headers }), config, transport);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenFormatError || error instanceof RequestError) return error.code;
    throw error;
  }
  throw new Error('expected a typed error');
}

describe('findAccessToken', () => {
  it('header first, then the cookie', () => {
    const both = { authorization: `Bearer ${HEADER_TOKEN}`, cookie: `jwt_access=${COOKIE_TOKEN}` };
    expect(access(both)).toEqual({ token: HEADER_TOKEN, transport: 'header' });
    expect(access({ cookie: `jwt_access=${COOKIE_TOKEN}` })).toEqual({
      token: COOKIE_TOKEN,
      transport: 'cookie',
    });
  });

  it('Basic and Digest read as absent: the cookie is used, or the token is missing', () => {
    for (const authorization of ['Basic ZGVtbzpwdw==', 'Digest username="a", realm="b"', 'basic x']) {
      expect(access({ authorization, cookie: `jwt_access=${COOKIE_TOKEN}` }).transport).toBe('cookie');
      expect(codeOf(() => access({ authorization }))).toBe('token_missing');
    }
  });

  it('a configured list of ignored schemes replaces Basic/Digest', () => {
    const options = { ignoredSchemes: ['Negotiate'] };
    expect(
      access({ authorization: 'Negotiate abc', cookie: `jwt_access=${COOKIE_TOKEN}` }, 'any', options),
    ).toEqual({ token: COOKIE_TOKEN, transport: 'cookie' });
    expect(codeOf(() => access({ authorization: 'Basic abc' }, 'any', options))).toBe('token_malformed');
  });

  it('a malformed header does not fall back to the cookie', () => {
    for (const authorization of [
      'Bearer',
      `Bearer ${HEADER_TOKEN} x`,
      `Token ${HEADER_TOKEN}`,
      HEADER_TOKEN,
    ]) {
      expect(codeOf(() => access({ authorization, cookie: `jwt_access=${COOKIE_TOKEN}` }))).toBe(
        'token_malformed',
      );
    }
  });

  it('[H1] tokens in the URL query string are never read', () => {
    for (const url of [
      `/api/me?access_token=${HEADER_TOKEN}`,
      `/api/me?token=${HEADER_TOKEN}&jwt=${HEADER_TOKEN}`,
      `/api/me?authorization=Bearer%20${HEADER_TOKEN}`,
      `/api/me?jwt_access=${HEADER_TOKEN}`,
    ]) {
      expect(codeOf(() => findAccessToken(fakeRequest({ url }), config, 'any'))).toBe('token_missing');
      expect(codeOf(() => findRefreshToken(fakeRequest({ url }), config, 'any'))).toBe('token_missing');
    }
  });

  it('transport header / cookie looks only there', () => {
    const both = { authorization: `Bearer ${HEADER_TOKEN}`, cookie: `jwt_access=${COOKIE_TOKEN}` };
    expect(access(both, 'header').transport).toBe('header');
    expect(access(both, 'cookie').transport).toBe('cookie');
    expect(codeOf(() => access({ cookie: `jwt_access=${COOKIE_TOKEN}` }, 'header'))).toBe('token_missing');
    expect(codeOf(() => access({ authorization: `Bearer ${HEADER_TOKEN}` }, 'cookie'))).toBe('token_missing');
    // Cookie-only does not even look at a malformed header.
    expect(
      access({ authorization: 'Bearer a b', cookie: `jwt_access=${COOKIE_TOKEN}` }, 'cookie').token,
    ).toBe(COOKIE_TOKEN);
  });

  it('another access header takes a bare token or Bearer', () => {
    const options = { accessHeader: 'X-Access-Token' };
    expect(access({ 'x-access-token': HEADER_TOKEN }, 'any', options).token).toBe(HEADER_TOKEN);
    expect(access({ 'x-access-token': `bearer ${HEADER_TOKEN}` }, 'any', options).token).toBe(HEADER_TOKEN);
    expect(codeOf(() => access({ authorization: `Bearer ${HEADER_TOKEN}` }, 'any', options))).toBe(
      'token_missing',
    );
  });

  it('sizes are capped before parsing: header, token and Cookie header', () => {
    const long = 'a'.repeat(config.maxTokenBytes + 1);
    expect(codeOf(() => access({ authorization: `Bearer ${long}` }))).toBe('token_too_large');
    expect(codeOf(() => access({ authorization: `Bearer ${' '.repeat(config.maxHeaderBytes)}x` }))).toBe(
      'token_too_large',
    );
    expect(codeOf(() => access({ cookie: `jwt_access=${long}` }))).toBe('token_too_large');
    expect(codeOf(() => access({ cookie: `a=${'b'.repeat(config.maxCookieHeaderBytes)}` }))).toBe(
      'token_too_large',
    );
    // Exactly at the limit is fine.
    const max = 'a'.repeat(config.maxTokenBytes);
    expect(access({ authorization: `Bearer ${max}` }).token).toBe(max);
  });
});

describe('readTokenCookie', () => {
  it('[H4] one of our cookies sent twice is refused as ambiguous, even with equal values', () => {
    for (const cookie of [
      `jwt_access=${COOKIE_TOKEN}; jwt_access=${HEADER_TOKEN}`,
      `jwt_access=${COOKIE_TOKEN}; jwt_access=${COOKIE_TOKEN}`,
      `jwt_access=; jwt_access=${COOKIE_TOKEN}`,
    ]) {
      const request = fakeRequest({ headers: { cookie } });
      expect(() => readTokenCookie(request, config, config.accessCookie)).toThrow(RequestError);
      expect(codeOf(() => readTokenCookie(request, config, config.accessCookie))).toBe('bad_request');
      // The header transport is not affected by the cookies.
      expect(access({ cookie, authorization: `Bearer ${HEADER_TOKEN}` }).token).toBe(HEADER_TOKEN);
    }
  });

  it('other cookies may repeat; names are case-sensitive', () => {
    const cookie = `theme=dark; theme=light; JWT_ACCESS=x; jwt_access=${COOKIE_TOKEN}`;
    expect(readTokenCookie(fakeRequest({ headers: { cookie } }), config, config.accessCookie)).toBe(
      COOKIE_TOKEN,
    );
  });

  it('an empty value (what logout leaves) is absent; a value that is not a token is malformed', () => {
    expect(
      readTokenCookie(fakeRequest({ headers: { cookie: 'jwt_access=' } }), config, config.accessCookie),
    ).toBeUndefined();
    expect(readTokenCookie(fakeRequest(), config, config.accessCookie)).toBeUndefined();
    for (const value of ['a%20b', 'a+b/c=', '"a b"', 'ä']) {
      expect(
        codeOf(() =>
          readTokenCookie(
            fakeRequest({ headers: { cookie: `jwt_access=${value}` } }),
            config,
            config.accessCookie,
          ),
        ),
      ).toBe('token_malformed');
    }
  });
});

describe('findRefreshToken', () => {
  it('X-Refresh-Token bare or Bearer, then the refresh cookie (never the access cookie)', () => {
    expect(refresh({ 'x-refresh-token': HEADER_TOKEN })).toEqual({
      token: HEADER_TOKEN,
      transport: 'header',
    });
    expect(refresh({ 'x-refresh-token': `Bearer ${HEADER_TOKEN}` }).token).toBe(HEADER_TOKEN);
    expect(refresh({ cookie: `jwt_refresh=${COOKIE_TOKEN}` })).toEqual({
      token: COOKIE_TOKEN,
      transport: 'cookie',
    });
    expect(codeOf(() => refresh({ cookie: `jwt_access=${COOKIE_TOKEN}` }))).toBe('token_missing');
    expect(codeOf(() => refresh({ authorization: `Bearer ${HEADER_TOKEN}` }))).toBe('token_missing');
  });

  it('transport header / cookie (authorize_by_refresh_header! / _cookie!) looks only there', () => {
    const both = { 'x-refresh-token': HEADER_TOKEN, cookie: `jwt_refresh=${COOKIE_TOKEN}` };
    expect(refresh(both, 'header')).toEqual({ token: HEADER_TOKEN, transport: 'header' });
    expect(refresh(both, 'cookie')).toEqual({ token: COOKIE_TOKEN, transport: 'cookie' });
    expect(codeOf(() => refresh({ cookie: `jwt_refresh=${COOKIE_TOKEN}` }, 'header'))).toBe('token_missing');
    expect(codeOf(() => refresh({ 'x-refresh-token': HEADER_TOKEN }, 'cookie'))).toBe('token_missing');
  });

  it('a malformed refresh header (Basic included) does not fall back to the cookie', () => {
    for (const value of ['Basic abc', 'a b c', `Bearer ${HEADER_TOKEN} x`, 'a,b']) {
      expect(codeOf(() => refresh({ 'x-refresh-token': value, cookie: `jwt_refresh=${COOKIE_TOKEN}` }))).toBe(
        'token_malformed',
      );
    }
  });
});

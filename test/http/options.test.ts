/**
 * HTTP options are validated once, when the layer is created, so a bad name or limit fails at
 * start-up (ConfigurationError) rather than as a request that silently misbehaves.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { type HttpOptions, resolveHttpConfig } from '../../src/http/options.js';
import { tokenBody, tokenCookies, tokenResponse } from '../../src/http/tokens.js';
import type { TokenPair } from '../../src/session/types.js';

describe('resolveHttpConfig', () => {
  it('defaults: the SPEC §4 names, secure cookies, 8 KiB tokens, 16 KiB bodies', () => {
    const config = resolveHttpConfig();
    expect(config).toMatchObject({
      accessHeader: 'authorization',
      accessHeaderIsAuthorization: true,
      refreshHeader: 'x-refresh-token',
      csrfHeader: 'x-csrf-token',
      slidingHeader: 'authorization',
      slidingHeaderName: 'Authorization',
      maxTokenBytes: 8192,
      maxBodyBytes: 16_384,
      maxCookieHeaderBytes: 16_384,
      originCheck: null,
    });
    expect([...config.ignoredSchemes]).toEqual(['basic', 'digest']);
    for (const cookie of [config.accessCookie, config.refreshCookie]) {
      expect(cookie.attributes).toEqual({
        path: '/',
        domain: undefined,
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      });
    }
    expect([config.accessCookie.name, config.refreshCookie.name]).toEqual(['jwt_access', 'jwt_refresh']);
  });

  it('header names are matched lower-case; the sliding header keeps its spelling for CORS', () => {
    const config = resolveHttpConfig({ refreshHeader: 'X-Refresh', slidingHeader: 'X-Access-Token' });
    expect(config.refreshHeader).toBe('x-refresh');
    expect(config.slidingHeader).toBe('x-access-token');
    expect(config.slidingHeaderName).toBe('X-Access-Token');
  });

  it('refuses what cannot work', () => {
    const bad: HttpOptions[] = [
      { accessHeader: 'Bad Header' },
      { refreshHeader: '' },
      { csrfHeader: 'x:y' },
      { slidingHeader: 'ä' },
      { ignoredSchemes: ['Bearer'] },
      { ignoredSchemes: ['has space'] },
      { ignoredSchemes: 'Basic' as unknown as string[] },
      { maxTokenBytes: 0 },
      { maxBodyBytes: 1.5 },
      { maxCookieHeaderBytes: Number.POSITIVE_INFINITY },
      { mode: 'lenient' as 'strict' },
      { clock: 42 as unknown as () => number },
      { realm: 'a"b' },
      { accessCookie: { sameSite: 'lax' as 'Lax' } },
      { accessCookie: { name: 'same' }, refreshCookie: { name: 'same' } },
      { refreshCookie: { sameSite: 'None', secure: false } },
      null as unknown as HttpOptions,
    ];
    for (const options of bad)
      expect(() => resolveHttpConfig(options), JSON.stringify(options)).toThrow(ConfigurationError);
  });
});

describe('token responses', () => {
  const now = Date.UTC(2030, 0, 1);
  const config = resolveHttpConfig({ clock: () => now, refreshCookie: { path: '/auth' } });
  const pair = {
    access: 'aaa.aaa.aaa',
    refresh: 'rrr.rrr.rrr',
    csrf: 'csrf-token',
    sessionId: 'sid-1',
    accessExpiresAt: new Date(now + 60_000),
    refreshExpiresAt: new Date(now + 3_600_000),
  } as TokenPair;

  it('[H6] header transport: tokens in the body and Authorization, never cached', () => {
    expect(tokenResponse(pair, 'header', config)).toEqual({
      status: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache', authorization: 'Bearer aaa.aaa.aaa' },
      cookies: [],
      body: {
        access_token: 'aaa.aaa.aaa',
        refresh_token: 'rrr.rrr.rrr',
        csrf: 'csrf-token',
        access_expires_at: '2030-01-01T00:01:00.000Z',
        refresh_expires_at: '2030-01-01T01:00:00.000Z',
        session_id: 'sid-1',
        token_type: 'Bearer',
      },
    });
  });

  it('[H6] cookie transport: HttpOnly cookies living as long as the session, a body without tokens', () => {
    const response = tokenResponse(pair, 'cookie', config);
    expect(response.headers).toEqual({ 'cache-control': 'no-store', pragma: 'no-cache' });
    expect(response.body).toEqual(tokenBody(pair, 'cookie'));
    expect(Object.keys(response.body as object)).not.toContain('access_token');
    expect(response.cookies).toEqual([
      'jwt_access=aaa.aaa.aaa; Path=/; Max-Age=3600; Expires=Tue, 01 Jan 2030 01:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
      'jwt_refresh=rrr.rrr.rrr; Path=/auth; Max-Age=3600; Expires=Tue, 01 Jan 2030 01:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    ]);
    expect(tokenCookies(pair, config, now + 1_000_000)[0]).toContain('Max-Age=2600;');
  });
});

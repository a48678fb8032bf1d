/**
 * CSRF for cookie transport (SECURITY.md H2): which requests need the token, what is handed to the
 * engine, and — through `authorize` with a real engine — that every bad token is a 403.
 */
import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../src/errors.js';
import { authorize } from '../../src/http/authorize.js';
import { csrfForCookieRequest, isUnsafeMethod, needsCsrf } from '../../src/http/csrf.js';
import { resolveHttpConfig } from '../../src/http/options.js';
import { createSessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { fakeRequest } from './request.js';

const config = resolveHttpConfig();

describe('which requests need a CSRF token', () => {
  it('safe methods are GET, HEAD and OPTIONS (any case); everything else is unsafe', () => {
    for (const method of ['GET', 'get', 'HEAD', 'options']) expect(isUnsafeMethod(method)).toBe(false);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'TRACE', 'CONNECT', 'X-CUSTOM', '']) {
      expect(isUnsafeMethod(method)).toBe(true);
    }
  });

  it('only cookie transport on an unsafe method', () => {
    expect(needsCsrf(fakeRequest({ method: 'POST' }), 'cookie')).toBe(true);
    expect(needsCsrf(fakeRequest({ method: 'DELETE' }), 'cookie')).toBe(true);
    expect(needsCsrf(fakeRequest({ method: 'GET' }), 'cookie')).toBe(false);
    expect(needsCsrf(fakeRequest({ method: 'POST' }), 'header')).toBe(false);
  });
});

describe('csrfForCookieRequest', () => {
  it('hands over the header value; absent, empty or oversized is null (required but missing)', () => {
    const read = (value?: string) =>
      csrfForCookieRequest(
        fakeRequest({ method: 'POST', headers: value === undefined ? {} : { 'x-csrf-token': value } }),
        config,
      );
    expect(read('abc')).toBe('abc');
    expect(read()).toBeNull();
    expect(read('')).toBeNull();
    expect(read('a'.repeat(513))).toBeNull();
  });

  it('reads the configured header name only', () => {
    const custom = resolveHttpConfig({ csrfHeader: 'X-XSRF-Token' });
    const request = fakeRequest({ method: 'POST', headers: { 'x-csrf-token': 'a', 'x-xsrf-token': 'b' } });
    expect(csrfForCookieRequest(request, custom)).toBe('b');
  });

  it('[H3] runs the origin check first when configured', () => {
    const checked = resolveHttpConfig({ originCheck: true });
    const request = fakeRequest({
      method: 'POST',
      headers: { 'x-csrf-token': 'abc', 'sec-fetch-site': 'cross-site' },
    });
    expect(() => csrfForCookieRequest(request, checked)).toThrow(ForbiddenError);
    expect(csrfForCookieRequest(request, config)).toBe('abc');
  });
});

describe('authorize with cookie transport (real engine)', () => {
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
    store: new MemoryStore(),
  });

  async function outcome(method: string, headers: Record<string, string>): Promise<string> {
    try {
      await authorize(sessions, config, fakeRequest({ method, headers }));
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  it('[H2] missing, foreign, wrong-length or cookie-only tokens are 403 csrf_invalid; the own one passes', async () => {
    const mine = await sessions.login({ namespace: 'u1' });
    const other = await sessions.login({ namespace: 'u2' });
    const cookie = `jwt_access=${mine.access}`;
    expect(await outcome('POST', { cookie, 'x-csrf-token': mine.csrf })).toBe('ok');
    const cases: Array<Record<string, string>> = [
      { cookie },
      { cookie, 'x-csrf-token': other.csrf },
      { cookie, 'x-csrf-token': mine.csrf.slice(0, -1) },
      { cookie, 'x-csrf-token': `${mine.csrf}A` },
      { cookie, 'x-csrf-token': mine.csrf.slice(0, mine.csrf.length / 2) },
      { cookie, 'x-csrf-token': 'A'.repeat(mine.csrf.length) },
      { cookie: `${cookie}; csrf=${mine.csrf}; X-CSRF-Token=${mine.csrf}` },
    ];
    for (const headers of cases) {
      expect(await outcome('POST', headers)).toBe('csrf_invalid');
    }
    // Safe methods and the header transport need none.
    expect(await outcome('GET', { cookie })).toBe('ok');
    expect(await outcome('POST', { authorization: `Bearer ${mine.access}` })).toBe('ok');
  });

  it('[H2] masked tokens: each one handed out is fresh, and every one of them is valid', async () => {
    const login = await sessions.login({ namespace: 'u3' });
    const tokens = [login.csrf];
    for (let i = 0; i < 5; i++) tokens.push(await sessions.csrfToken(login.sessionId));
    expect(new Set(tokens).size).toBe(tokens.length);
    const cookie = `jwt_access=${login.access}`;
    for (const csrf of tokens) expect(await outcome('PATCH', { cookie, 'x-csrf-token': csrf })).toBe('ok');
  });
});

/**
 * Errors → HTTP (SPEC §4): typed errors keep their status and a `{error, code}` body; 401 carries
 * `WWW-Authenticate`; 503 `Retry-After`; every error response `Cache-Control: no-store`; anything
 * unexpected is reported to `onError` and answered 500 with a generic body — never a stack.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ForbiddenError,
  InvalidPayloadError,
  RequestError,
  SessionError,
  StoreConfigurationError,
  StoreUnavailableError,
  TokenExpiredError,
  TokenFormatError,
} from '../../src/errors.js';
import { errorResponse, isAnsweredError, jsonResponse } from '../../src/http/errors.js';
import { type HttpOptions, resolveHttpConfig } from '../../src/http/options.js';
import type { HttpRequest } from '../../src/http/types.js';
import { fakeRequest } from './request.js';

function configReporting(options: HttpOptions = {}) {
  const reported: Array<[unknown, HttpRequest | undefined]> = [];
  const config = resolveHttpConfig({
    onError: (error, request) => reported.push([error, request]),
    ...options,
  });
  return { config, reported };
}

describe('errorResponse', () => {
  const { config, reported } = configReporting();

  it('typed errors: their status, {error, code}, no-store; nothing reported', () => {
    const cases: Array<[Error, number, string]> = [
      [new RequestError('bad_request', 'bad'), 400, 'bad_request'],
      [new RequestError('invalid_json', 'bad json'), 400, 'invalid_json'],
      [new InvalidPayloadError('payload bad'), 400, 'payload_invalid'],
      [new RequestError('not_found', 'gone'), 404, 'not_found'],
      [new RequestError('payload_too_large', 'big'), 413, 'payload_too_large'],
      [new RequestError('unsupported_media_type', 'type'), 415, 'unsupported_media_type'],
      [new ForbiddenError('csrf_invalid', 'csrf'), 403, 'csrf_invalid'],
      [new ForbiddenError('origin_refused', 'origin'), 403, 'origin_refused'],
      [new TokenFormatError('token_malformed', 'malformed'), 401, 'token_malformed'],
      [new SessionError('refresh_reused', 'reused'), 401, 'refresh_reused'],
    ];
    for (const [error, status, code] of cases) {
      const response = errorResponse(error, config);
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: error.message, code });
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.cookies).toEqual([]);
    }
    expect(reported).toEqual([]);
  });

  it('401: a bare Bearer challenge without credentials, error="invalid_token" for token problems', () => {
    const challenge = (error: Error) => errorResponse(error, config).headers['www-authenticate'];
    expect(challenge(new TokenFormatError('token_missing', 'missing'))).toBe('Bearer');
    expect(challenge(new SessionError('invalid_credentials', 'bad login'))).toBe('Bearer');
    expect(challenge(new TokenFormatError('signature_invalid', 'sig'))).toBe('Bearer error="invalid_token"');
    expect(challenge(new TokenExpiredError())).toBe('Bearer error="invalid_token"');
    expect(challenge(new SessionError('session_not_found', 'gone'))).toBe('Bearer error="invalid_token"');
    expect(
      errorResponse(new ForbiddenError('csrf_invalid', 'csrf'), config).headers['www-authenticate'],
    ).toBe(undefined);
  });

  it('a configured realm is named in the challenge', () => {
    const withRealm = resolveHttpConfig({ realm: 'api' });
    expect(
      errorResponse(new TokenFormatError('token_missing', 'm'), withRealm).headers['www-authenticate'],
    ).toBe('Bearer realm="api"');
    expect(errorResponse(new TokenExpiredError(), withRealm).headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token"',
    );
  });

  it('store errors: 503 with a fixed message (the detail never sent), reported to onError with the request', () => {
    const { config, reported } = configReporting();
    const request = fakeRequest({ method: 'POST', url: '/auth/login' });
    const outage = new StoreUnavailableError(
      'postgres://app:***@10.0.0.5:5432/app unavailable: connect ECONNREFUSED',
    );
    const schema = new StoreConfigurationError(
      "postgres://app@10.0.0.5:5432/app: the table jwt_sessions does not exist; create it with `jwt-sessions migrate --store 'postgres://app@10.0.0.5:5432/app'`",
    );
    const cases: Array<[StoreUnavailableError, string, string]> = [
      [new StoreUnavailableError(), 'store_unavailable', 'session store unavailable'],
      [outage, 'store_unavailable', 'session store unavailable'],
      [schema, 'store_misconfigured', 'session store is not set up correctly; the server log says why'],
    ];
    for (const [error, code, message] of cases) {
      const response = errorResponse(error, config, request);
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ error: message, code });
      expect(response.headers['retry-after']).toBe('1');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(JSON.stringify(response)).not.toMatch(/10\.0\.0\.5|jwt_sessions|ECONNREFUSED/);
    }
    expect(reported).toEqual(cases.map(([error]) => [error, request]));
  });

  it('503 asks to retry; 413 closes the connection (the rest of the body is not read)', () => {
    const quiet = resolveHttpConfig({ onError: () => {} });
    expect(errorResponse(new StoreUnavailableError(), quiet).headers['retry-after']).toBe('1');
    expect(errorResponse(new RequestError('payload_too_large', 'big'), config).headers.connection).toBe(
      'close',
    );
  });

  it('anything unexpected: 500 with a generic body, reported with the request', () => {
    const request = fakeRequest({ method: 'POST', url: '/auth/login' });
    const secret = new Error('ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    const unexpected: unknown[] = [
      secret,
      new ConfigurationError('authenticate returned an invalid session'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      'a thrown string',
      undefined,
      { status: 401, code: 'token_expired', message: 'duck-typed' },
    ];
    for (const error of unexpected) {
      const response = errorResponse(error, config, request);
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: 'internal server error', code: 'internal_error' });
      expect(response.headers['cache-control']).toBe('no-store');
      expect(JSON.stringify(response)).not.toMatch(/hunter2|at .*\(|\.ts:\d/);
    }
    expect(reported.map(([error]) => error)).toEqual(unexpected);
    expect(reported.every(([, r]) => r === request)).toBe(true);
  });

  it('a throwing onError does not turn into an exception', () => {
    const config = resolveHttpConfig({
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(errorResponse(new Error('x'), config).status).toBe(500);
  });
});

describe('isAnsweredError', () => {
  it('true for the library errors answered with their own status', () => {
    expect(isAnsweredError(new StoreUnavailableError())).toBe(true);
    expect(isAnsweredError(new RequestError('not_found', 'x'))).toBe(true);
    expect(isAnsweredError(new ConfigurationError('x'))).toBe(false);
    expect(isAnsweredError(new Error('x'))).toBe(false);
    expect(isAnsweredError({ status: 400, code: 'bad_request' })).toBe(false);
  });
});

describe('jsonResponse', () => {
  it('is never cached; extra headers are added', () => {
    expect(jsonResponse(200, { ok: true }, { 'x-a': '1' })).toEqual({
      status: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache', 'x-a': '1' },
      cookies: [],
      body: { ok: true },
    });
  });
});

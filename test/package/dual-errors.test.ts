/**
 * The dual-package hazard, for errors: a process that loads both builds (ESM and CommonJS) holds
 * two copies of every error class. Two fresh module instances of src/errors.ts stand in for them
 * here (test/package/tarball.test.ts does it with the real builds of the packed tarball): an error
 * of one copy is an instance of the other copy's class of the same name and of its ancestors, of
 * nothing else, and the HTTP layer of one copy answers the other copy's errors with their status.
 */
import { describe, expect, it, vi } from 'vitest';

async function freshCopy() {
  vi.resetModules();
  return {
    errors: await import('../../src/errors.js'),
    http: await import('../../src/http/errors.js'),
    options: await import('../../src/http/options.js'),
  };
}

describe('error classes across two copies of the package', async () => {
  const first = await freshCopy();
  const second = await freshCopy();

  it('are distinct classes (the hazard is real)', () => {
    expect(second.errors.JwtSessionsError).not.toBe(first.errors.JwtSessionsError);
  });

  it("an error of one copy is an instance of the other copy's class and its ancestors", () => {
    const expired = new first.errors.TokenExpiredError();
    for (const name of [
      'TokenExpiredError',
      'ClaimsVerificationError',
      'UnauthorizedError',
      'JwtSessionsError',
    ] as const) {
      expect(expired instanceof second.errors[name], name).toBe(true);
    }
    expect(expired instanceof Error).toBe(true);
    expect(second.errors.isJwtSessionsError(expired)).toBe(true);
  });

  it('and of no other class of either copy', () => {
    const expired = new first.errors.TokenExpiredError();
    for (const copy of [first, second]) {
      expect(expired instanceof copy.errors.SessionError).toBe(false);
      expect(expired instanceof copy.errors.TokenFormatError).toBe(false);
      expect(expired instanceof copy.errors.StoreUnavailableError).toBe(false);
    }
    expect(new first.errors.ConfigurationError('x') instanceof second.errors.UnauthorizedError).toBe(false);
  });

  it('values that are no library error match nothing', () => {
    class SessionError extends Error {}
    for (const value of [new Error('x'), new SessionError(), {}, null, undefined, 'token_expired', 42]) {
      expect(value instanceof second.errors.JwtSessionsError).toBe(false);
      expect(value instanceof second.errors.SessionError).toBe(false);
    }
  });

  it("one copy's HTTP layer answers the other copy's errors with their own status, not a 500", () => {
    const config = second.options.resolveHttpConfig({ onError: () => {} });
    const response = second.http.errorResponse(
      new first.errors.SessionError('refresh_reused', 'refresh token reused'),
      config,
    );
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: expect.any(String), code: 'refresh_reused' });
  });
});

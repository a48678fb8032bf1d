/**
 * Property-based fuzzing (fast-check) of everything an attacker controls: token bytes, the
 * Authorization and Cookie headers, CSRF tokens. Properties: only typed errors, never a mutated
 * token accepted, never a store change. Thousands of runs on the pure parsers and the engine; a
 * few hundred per adapter through real HTTP.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtSessionsError } from '../../src/errors.js';
import { parseAuthorization } from '../../src/http/bearer.js';
import { lookupCookie, parseCookieHeader } from '../../src/http/cookies.js';
import { findAccessToken, findRefreshToken } from '../../src/http/extract.js';
import { resolveHttpConfig } from '../../src/http/options.js';
import type { HttpRequest } from '../../src/http/types.js';
import { csrfTokenMatches, newCsrfSecret } from '../../src/session/csrf.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import type { TokenPair } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { startExpress, startFastify, startHono } from '../adapters/apps.js';
import { createFixture, type RunningApp } from '../adapters/harness.js';
import { craft } from '../tokens/helpers.js';
import {
  engineKey,
  expectParserRefusal,
  expectRefusedReply,
  expectTyped,
  hasControlCharacter,
  rawRequest,
  snapshot,
} from './support.js';

const key = engineKey();
const RUNS = 2500;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A mutation of a string: replace, insert or delete characters, or splice in another string. */
function mutation(base: string): fc.Arbitrary<string> {
  const at = fc.nat({ max: base.length - 1 });
  const char = fc.oneof(
    fc.constantFrom(...B64URL.split(''), '.', '=', ' ', '+', '/'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  return fc.oneof(
    fc.tuple(at, char).map(([i, c]) => base.slice(0, i) + c + base.slice(i + 1)),
    fc.tuple(at, char).map(([i, c]) => base.slice(0, i) + c + base.slice(i)),
    fc.tuple(at, fc.integer({ min: 1, max: 8 })).map(([i, n]) => base.slice(0, i) + base.slice(i + n)),
    fc.tuple(at, fc.string({ unit: 'grapheme-ascii', maxLength: 40 })).map(([i, s]) => base.slice(0, i) + s),
    fc.tuple(at, at).map(([i, j]) => {
      // swap two characters
      const chars = base.split('');
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
      return chars.join('');
    }),
  );
}

describe('fuzzing the engine with token bytes', () => {
  const store = new MemoryStore();
  let sessions: Sessions;
  let pair: TokenPair;
  const state = () => snapshot(store, ['fuzz'], () => store.size);

  beforeAll(async () => {
    sessions = createSessions({
      keys: { signing: { alg: 'ES256', key: key.privateKey, kid: key.kid } },
      store,
      accessTtl: 300,
      refreshTtl: 3600,
    });
    pair = await sessions.login({ namespace: 'fuzz', payload: { role: 'user' } });
  });

  /** RUNS mutations of `original`, each handed to `use`: never accepted, only typed errors, no store change. */
  async function refusesEveryMutation(original: string, use: (token: string) => Promise<unknown>) {
    const before = await state();
    await fc.assert(
      fc.asyncProperty(mutation(original), async (token) => {
        fc.pre(token !== original);
        const outcome = await use(token).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        expect(outcome, token).not.toBe('accepted');
        expectTyped(outcome, undefined, token);
      }),
      { numRuns: RUNS },
    );
    expect(await state()).toBe(before);
  }

  it(`[T2][T4][T5] ${RUNS} mutated access tokens: never accepted, only typed errors, no store change`, async () => {
    await refusesEveryMutation(pair.access, (token) => sessions.verifyAccess(token));
  });

  it(`[T2][T4][T5][R1] ${RUNS} mutated refresh tokens: never accepted, never rotate or revoke`, async () => {
    await refusesEveryMutation(pair.refresh, (token) => sessions.refresh(token));
    await expect(sessions.verifyRefresh(pair.refresh)).resolves.toBeTruthy();
  });

  it(`[T2][T3] ${RUNS} arbitrary strings and three-segment junk: typed errors only`, async () => {
    const segment = fc.string({ unit: fc.constantFrom(...B64URL.split('')), maxLength: 60 });
    const junk = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
      fc
        .tuple(fc.jsonValue(), fc.jsonValue())
        .map(
          ([h, p]) =>
            `${Buffer.from(JSON.stringify(h) ?? '').toString('base64url')}.${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.AAAA`,
        ),
    );
    await fc.assert(
      fc.asyncProperty(junk, async (token) => {
        const outcome = await sessions.verifyAccess(token).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        expect(outcome).toBeInstanceOf(JwtSessionsError);
      }),
      { numRuns: RUNS },
    );
  });

  it(`[T3][T9][T10] ${RUNS} arbitrary JSON headers/payloads signed with the real key: typed errors, nothing polluted`, async () => {
    const header = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          alg: fc.constantFrom('ES256', 'none', 'HS256'),
          typ: fc.constantFrom('at+jwt', 'rt+jwt', 'JWT'),
          kid: fc.constant(key.kid),
        },
        { requiredKeys: [] },
      ),
    );
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom('sid', 'jti', 'exp', 'iat', 'nbf', '__proto__', 'constructor', 'x'),
        fc.jsonValue(),
      ),
    );
    await fc.assert(
      fc.asyncProperty(header, payload, async (h, p) => {
        const token = craft({
          header: JSON.stringify(h) ?? 'null',
          payload: JSON.stringify(p) ?? 'null',
          alg: 'ES256',
          key: key.privateKey,
        });
        const outcome = await sessions.verifyAccess(token).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        // No random payload can name the live session's current access token id.
        expect(outcome).toBeInstanceOf(JwtSessionsError);
      }),
      { numRuns: RUNS },
    );
    expect(Object.prototype).not.toHaveProperty('admin');
    expect(({} as Record<string, unknown>).sid).toBeUndefined();
  });
});

describe('fuzzing the header parsers', () => {
  const config = resolveHttpConfig({});
  const request = (headers: Record<string, string>): HttpRequest => ({
    method: 'POST',
    url: '/',
    header: (name) => headers[name],
  });
  const headerValue = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc
      .tuple(
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Digest', 'Token', ''),
        fc.string({
          unit: fc.constantFrom(' ', '\t', 'a', '.', '-', '_', '"', ',', '=', ';', 'é'),
          maxLength: 300,
        }),
      )
      .map(([scheme, rest]) => scheme + rest),
  );
  const cookieValue = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc
      .array(
        fc.tuple(
          fc.constantFrom('jwt_access', 'jwt_refresh', 'JWT_ACCESS', ' jwt_access', 'a', ''),
          fc.string({ unit: fc.constantFrom('a', '.', '=', '"', ' ', ';', ',', '%', 'é'), maxLength: 40 }),
        ),
        { maxLength: 8 },
      )
      .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')),
  );

  it('[H7][H4] 5000 Authorization and Cookie headers: the parsers never throw anything untyped', () => {
    fc.assert(
      fc.property(headerValue, cookieValue, (authorization, cookie) => {
        const parsed = parseAuthorization(authorization, new Set(['basic', 'digest']));
        expect(['absent', 'ignored', 'token', 'malformed']).toContain(parsed.kind);
        const cookies = parseCookieHeader(cookie);
        const found = lookupCookie(cookies, 'jwt_access');
        expect(['absent', 'ambiguous', 'value']).toContain(found.kind);
        if (found.kind === 'value') expect(cookies.get('jwt_access')).toHaveLength(1);
        for (const find of [findAccessToken, findRefreshToken]) {
          try {
            const token = find(
              request({ authorization, cookie, 'x-refresh-token': authorization }),
              config,
              'any',
            );
            expect(token.token.length).toBeGreaterThan(0);
            expect(token.token).toMatch(/^[A-Za-z0-9._-]+$/);
          } catch (error) {
            expectTyped(error);
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('[T13] 5000 CSRF tokens of any length and content: a boolean, never a throw; only the genuine mask passes', () => {
    const secret = newCsrfSecret();
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.anything()), (token) => {
        expect(csrfTokenMatches(secret, token)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('fuzzing every adapter over HTTP', () => {
  const HTTP_RUNS = 250;
  for (const [adapter, start] of [
    ['Express', startExpress],
    ['Fastify', startFastify],
    ['Hono', startHono],
  ] as const) {
    describe(adapter, () => {
      let app: RunningApp;
      let fixture: ReturnType<typeof createFixture>;
      let access: string;
      beforeAll(async () => {
        fixture = createFixture();
        app = await start(fixture);
        const login = await rawRequest(
          app.url,
          'POST',
          '/auth/login',
          [['content-type', 'application/json']],
          JSON.stringify({ login: 'demo@example.com', password: 'correct horse battery staple' }),
        );
        access = login.body.access_token;
      });
      afterAll(() => app?.close());

      it(`[H7][H4][T2] ${HTTP_RUNS} fuzzed Authorization / Cookie headers and mutated tokens: 4xx JSON, no store change`, async () => {
        const before = await snapshot(fixture.store, ['user-demo']);
        // Printable latin-1 only: control characters are refused by Node's parser before the app.
        const printable = fc.string({
          unit: fc
            .integer({ min: 0x20, max: 0xff })
            .filter((c) => c !== 0x7f)
            .map((c) => String.fromCharCode(c)),
          maxLength: 200,
        });
        const input = fc.oneof(
          printable.map((v) => ['authorization', `Bearer ${v}`] as [string, string]),
          printable.map((v) => ['authorization', v] as [string, string]),
          printable.map((v) => ['cookie', `jwt_access=${v}; jwt_access=${v}`] as [string, string]),
          printable.map((v) => ['cookie', v] as [string, string]),
          mutation(access).map((v) => ['authorization', `Bearer ${v}`] as [string, string]),
        );
        await fc.assert(
          fc.asyncProperty(input, async ([name, raw]) => {
            // What goes on the wire: one latin-1 byte per UTF-16 unit (rawRequest's encoding).
            const value = Buffer.from(raw, 'latin1').toString('latin1');
            fc.pre(value.trim() !== `Bearer ${access}` && !/[\r\n]/.test(value));
            const reply = await rawRequest(app.url, 'GET', '/api/me', [[name, value]]);
            const label = `${adapter} ${name}: ${value.slice(0, 80)}`;
            // A control character makes it an invalid HTTP field: Node's parser answers first.
            if (hasControlCharacter(value)) expectParserRefusal(reply, label);
            else expectRefusedReply(reply, label);
          }),
          { numRuns: HTTP_RUNS },
        );
        expect(await snapshot(fixture.store, ['user-demo'])).toBe(before);
      });
    });
  }
});

/**
 * The shared setup for the adapter scenarios: one engine (memory store behind a switch that can
 * simulate an outage, a clock the tests move forward), the HTTP options every adapter gets, and
 * the app every adapter builds — the ready-made routes under /auth plus a few guarded routes.
 */
import { StoreUnavailableError } from '../../src/errors.js';
import type { HttpOptions } from '../../src/http/options.js';
import type { SessionRoutesOptions } from '../../src/http/routes.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { Store, StoredSession } from '../../src/stores/store.js';

/** Large enough for the 100 KB header scenario to reach the parser (Node's default is 16 KiB). */
export const MAX_HEADER_SIZE = 1024 * 1024;

export const ALLOWED_ORIGIN = 'https://app.example';

/** A memory store that can be switched off: every call then fails as an unreachable store would. */
export class SwitchableStore implements Store {
  down = false;
  readonly #inner = new MemoryStore();

  #guard(): void {
    if (this.down) throw new StoreUnavailableError();
  }
  async create(session: StoredSession): Promise<void> {
    this.#guard();
    return this.#inner.create(session);
  }
  async get(id: string, now: number): Promise<StoredSession | null> {
    this.#guard();
    return this.#inner.get(id, now);
  }
  async replace(next: StoredSession, expectedVersion: number, now: number): Promise<boolean> {
    this.#guard();
    return this.#inner.replace(next, expectedVersion, now);
  }
  async touch(id: string, lastUsedAt: number, expiresAt: number, now: number): Promise<void> {
    this.#guard();
    return this.#inner.touch(id, lastUsedAt, expiresAt, now);
  }
  async delete(id: string, now: number): Promise<number> {
    this.#guard();
    return this.#inner.delete(id, now);
  }
  async deleteNamespace(namespace: string, now: number): Promise<number> {
    this.#guard();
    return this.#inner.deleteNamespace(namespace, now);
  }
  async deleteAll(now: number): Promise<number> {
    this.#guard();
    return this.#inner.deleteAll(now);
  }
  async revokeNamespaceAccess(namespace: string, now: number): Promise<number> {
    this.#guard();
    return this.#inner.revokeNamespaceAccess(namespace, now);
  }
  async markProofUsed(key: string, expiresAt: number, now: number): Promise<boolean> {
    this.#guard();
    return this.#inner.markProofUsed(key, expiresAt, now);
  }
  async listNamespace(namespace: string, now: number): Promise<StoredSession[]> {
    this.#guard();
    return this.#inner.listNamespace(namespace, now);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

const USERS: Record<string, { password: string; id: string }> = {
  'demo@example.com': { password: 'correct horse battery staple', id: 'user-demo' },
  'alice@example.com': { password: 'alice-password', id: 'user-alice' },
};

/** Logins that make the application's own `authenticate` misbehave (500 scenarios). */
export const BROKEN_LOGINS = {
  /** authenticate throws, with internals in the message. */
  throws: 'throws@example.com',
  /** authenticate returns a payload that sets a reserved claim. */
  reservedClaim: 'reserved@example.com',
} as const;

/** Detail only a stack or a leaked message would carry into a response body. */
export const INTERNAL_DETAIL = 'db password hunter2 at /srv/app/db.ts:12';

export interface FixtureOptions {
  /** HTTP options merged over the defaults below. */
  http?: HttpOptions;
  /** Route options merged over the defaults below. */
  routes?: Partial<SessionRoutesOptions>;
  /** Where the ready-made routes are mounted. Default `/auth`. */
  prefix?: string;
}

export interface Fixture {
  sessions: Sessions;
  store: SwitchableStore;
  /** Moves the engine's (and the HTTP layer's) clock forward. */
  advance(seconds: number): void;
  httpOptions: HttpOptions;
  routeOptions: SessionRoutesOptions;
  prefix: string;
  /** What the HTTP layer reported through `onError` (unexpected errors). */
  reported: unknown[];
}

export function createFixture(options: FixtureOptions = {}): Fixture {
  let offset = 0;
  const clock = () => Date.now() + offset;
  const store = new SwitchableStore();
  const reported: unknown[] = [];
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: 'an HMAC secret of at least 32 bytes!!' } },
    store,
    accessTtl: 60,
    refreshTtl: 3600,
    reuseGrace: 10,
    slidingRenewAfter: 0.5,
    clock,
  });
  return {
    sessions,
    store,
    advance(seconds) {
      offset += seconds * 1000;
    },
    httpOptions: {
      clock,
      originCheck: { allowedOrigins: [ALLOWED_ORIGIN] },
      onError: (error) => reported.push(error),
      ...options.http,
    },
    routeOptions: {
      authenticate: ({ login, password }) => {
        if (login === BROKEN_LOGINS.throws) throw new Error(INTERNAL_DETAIL);
        if (login === BROKEN_LOGINS.reservedClaim) return { payload: { sid: 'mine', note: INTERNAL_DETAIL } };
        const user = USERS[login];
        if (user === undefined || user.password !== password) return null;
        return { payload: { user_id: user.id }, namespace: user.id };
      },
      refreshByAccess: true,
      cors: { origins: [ALLOWED_ORIGIN, /^https:\/\/[a-z]+\.trusted\.test$/] },
      ...options.routes,
    },
    prefix: options.prefix ?? '/auth',
    reported,
  };
}

/** What a running adapter app exposes to the scenarios. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/**
 * Every adapter builds the same app:
 *   <prefix>/*                    the ready-made routes (login, refresh, logout, sessions, csrf)
 *   GET  /api/me                  access, any transport       → {claims, transport}
 *   POST /api/echo                access, any transport       → {ok, transport}
 *   GET  /api/stateless           access, stateless mode      → {claims}
 *   GET  /api/header-only         access, header transport    → {ok}
 *   GET  /api/cookie-only         access, cookie transport    → {ok}
 *   POST /api/refresh-check       refresh token (any)         → {session_id, transport}
 *   POST /api/refresh-by-access   access token, expired or not → a token response (engine refreshByAccess)
 *   GET  /api/throws-typed        no auth; the handler throws a library error (404 not_found)
 *   GET  /api/throws-plain        no auth; the handler throws a plain Error (the framework's 500)
 *   GET  /public                  no auth                     → {ok}
 *   GET  /api/items/:id           no auth; a route parameter the framework decodes → {id}
 *   POST /api/json                no auth; the framework's own JSON body parser → {body}
 * and uses the library's error handler for its own routes (Express `auth.errorHandler()`,
 * Fastify `app.sessionErrorHandler`, Hono `auth.errorResponse`).
 */
export type StartApp = (fixture: Fixture) => Promise<RunningApp>;

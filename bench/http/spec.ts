/**
 * What the parent (bench/http.bench.ts) and the server process (bench/http/server.ts) agree on: the
 * cases, the one route under test, the user every case authenticates, and the shared HS256 secret.
 */

export const FRAMEWORKS = [
  'express',
  'fastify',
  'hono',
  'koa',
  'nestjs-express',
  'nestjs-fastify',
  'next',
] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/**
 * How `GET /api/me` is guarded:
 * - `none`: not at all (the framework's ceiling; the same Authorization header is still sent);
 * - `none-twin`: the same as `none` in a second process, the measurement's control: the ceiling
 *   measured against its twin must come out even, or the run's shares are off by the difference;
 * - `none-middleware`: no auth, but the route has one no-op middleware: what any guard costs the
 *   framework before it does anything (Hono: any guard makes the route an async middleware chain;
 *   Express: one more router layer);
 * - `stateless` / `strict-memory` / `strict-redis` / `strict-redis-cache`: jwt-sessions'
 *   guard (Express and Hono: `withSession(handler)`, the route as one handler; elsewhere
 *   `requireAccess()` or its equivalent) with that verify
 *   mode and store (`-cache` = RedisStore `liveCache: true`);
 * - `stateless-uncached`: stateless with the verified-token cache off (`verifiedCacheSize: 0`):
 *   every request verifies the token's signature and parses it, as a token seen for the first time;
 * - `fastify-jwt`, `express-jwt`: the usual stateless JWT plugin of that framework;
 * - `express-session`: express-session + connect-redis v9 on the `redis` v5 client (a cookie);
 * - `nestjs-passport`: @nestjs/passport's `AuthGuard('jwt')` with passport-jwt (NestJS's usual pick).
 */
export const AUTHS = [
  'none',
  'none-twin',
  'none-middleware',
  'stateless',
  'stateless-uncached',
  'strict-memory',
  'strict-redis',
  'strict-redis-cache',
  'fastify-jwt',
  'express-jwt',
  'express-session',
  'nestjs-passport',
] as const;
export type Auth = (typeof AUTHS)[number];

export interface ServerSpec {
  framework: Framework;
  auth: Auth;
  /** For the Redis-backed cases. */
  redisUrl: string;
  /** Unique key prefix of this run (the parent deletes whatever is left under it). */
  redisPrefix: string;
}

export const ROUTE = '/api/me';

/** The authenticated user: the access-token payload, and the express-session session's `user`. */
export const USER = { user_id: 42, name: 'Jane Doe', roles: ['user'] } as const;
export type UserProfile = { user_id: number; name: string; roles: readonly string[] };

/** The small JSON every case answers: the user read from the claims / session. */
export function profileOf(source: unknown): UserProfile {
  const { user_id, name, roles } = source as UserProfile;
  return { user_id, name, roles };
}

/** HS256 secret shared by jwt-sessions and the JWT peers, so they all verify the same token. */
export const SECRET = 'http-bench-hs256-secret-0123456789abcdef-0123456789';

/** jwt-sessions' signing key in every case (the peers verify the same token with SECRET). */
export const SIGNING_KEYS = { signing: { alg: 'HS256', key: SECRET, kid: 'http-bench' } } as const;

/** The cases guarded by jwt-sessions' own middleware. */
export function guardedByJwtSessions(auth: Auth): boolean {
  return auth.startsWith('stateless') || auth.startsWith('strict-');
}

/** The app a case serves: the control twin serves the ceiling's. */
export function appAuth(auth: Auth): Auth {
  return auth === 'none-twin' ? 'none' : auth;
}

/** The cases whose every request waits on Redis (not just a subscription, as the live cache). */
export function waitsOnRedis(auth: Auth): boolean {
  return auth === 'strict-redis' || auth === 'express-session';
}

export function usesRedis(auth: Auth): boolean {
  return auth === 'strict-redis' || auth === 'strict-redis-cache' || auth === 'express-session';
}

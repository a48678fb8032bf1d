/**
 * The session engine's public face: `Sessions` holds the configuration, the codec and the store,
 * and hands each operation to its own module in ./operations (one file per operation, as jose
 * does), so the class stays a readable table of contents.
 */
import { ConfigurationError } from '../errors.js';
import { MemoryStore } from '../stores/memory.js';
import type { Store } from '../stores/store.js';
import { JwtCodec } from '../tokens/index.js';
import { resolveConfig } from './config.js';
import { EngineContext } from './context.js';
import { getSession, listSessionPage, listSessions } from './operations/list-sessions.js';
import { login } from './operations/login.js';
import { logout } from './operations/logout.js';
import { refresh, refreshByAccess } from './operations/renew.js';
import {
  revokeAll,
  revokeByAccess,
  revokeByRefresh,
  revokeNamespace,
  revokeNamespaceAccess,
  revokeSession,
} from './operations/revoke.js';
import { csrfToken, verifyCsrf } from './operations/session-csrf.js';
import { verifyAccess, verifyAccessEager, verifyAccessThen } from './operations/verify-access.js';
import { verifyRefresh } from './operations/verify-refresh.js';
import type {
  DpopRequest,
  ListSessionsOptions,
  LoginOptions,
  LogoutOptions,
  LogoutResult,
  Payload,
  RefreshClaims,
  RefreshOptions,
  SessionInfo,
  SessionPage,
  SessionsOptions,
  TokenPair,
  VerifiedAccess,
  VerifyAccessOptions,
  VerifyMode,
} from './types.js';
import { isPlainObject } from './validate.js';

/**
 * The session engine: login, refresh (rotation, reuse detection, grace window), refresh by
 * access, strict/stateless verification, CSRF, revocation, listing, deadlines and events, over
 * any `Store`. Stateless with respect to the process: everything lives in the store.
 */
export class Sessions<P extends Payload = Payload, R extends Payload = Payload> {
  readonly codec: JwtCodec;
  readonly store: Store;
  readonly #ctx: EngineContext;

  constructor(options: SessionsOptions) {
    if (!isPlainObject(options)) throw new ConfigurationError('createSessions needs an options object');
    const config = resolveConfig(options);
    this.codec = new JwtCodec({
      keys: options.keys,
      ...(options.issuer !== undefined && { issuer: options.issuer }),
      ...(options.audience !== undefined && { audience: options.audience }),
      ...(options.leeway !== undefined && { leeway: options.leeway }),
      maxTokenBytes: config.maxTokenBytes,
      ...(options.verifiedCacheSize !== undefined && { verifiedCacheSize: options.verifiedCacheSize }),
    });
    this.store = options.store ?? new MemoryStore();
    this.#ctx = new EngineContext(
      this.codec,
      this.store,
      config,
      options.clock ?? Date.now,
      options.onEarlyRefresh,
      options.onEvent,
      options.onError,
    );
  }

  get verifyMode(): VerifyMode {
    return this.#ctx.config.verifyMode;
  }

  /** Starts a session: access + refresh + CSRF token (jwt_sessions `Session#login`). */
  login(options: LoginOptions<P, R> = {}): Promise<TokenPair> {
    return login(this.#ctx, options);
  }

  /**
   * Renews a session by its refresh token (jwt_sessions `Session#refresh`, Rodauth jwt-refresh):
   * a new access token (the old one dies at once in strict mode), a new CSRF secret, and by default
   * a rotated refresh token. A rotated-out refresh token revokes the session (`refresh_reused`),
   * except the immediate predecessor within the grace window, which gets the current generation.
   */
  refresh(refreshToken: string, options: RefreshOptions<P> = {}): Promise<TokenPair> {
    return refresh(this.#ctx, refreshToken, options);
  }

  /**
   * Renews a session by its access token, expired or not (jwt_sessions `refresh_by_access_payload`).
   * The signature and every claim but `exp` are verified; the session must allow it and the token
   * must be its current access token. The refresh token is left as it is.
   */
  refreshByAccess(accessToken: string, options: RefreshOptions<P> = {}): Promise<TokenPair> {
    return refreshByAccess(this.#ctx, accessToken, options);
  }

  /**
   * Verifies an access token. Strict (default): also the session is live and this is its current
   * access token. Optionally checks a CSRF token, and renews the access token when sliding
   * expiration is on and it is past its share of life.
   */
  verifyAccess(accessToken: string, options: VerifyAccessOptions = {}): Promise<VerifiedAccess<P>> {
    return verifyAccess<P>(this.#ctx, accessToken, options);
  }

  /**
   * `verifyAccess` that answers synchronously (or throws) when no I/O is needed: stateless, or
   * strict on a store that has the record at hand. Otherwise the promise. For the HTTP layer.
   */
  verifyAccessEager(
    accessToken: string,
    options: VerifyAccessOptions = {},
  ): VerifiedAccess<P> | Promise<VerifiedAccess<P>> {
    return verifyAccessEager<P>(this.#ctx, accessToken, options);
  }

  /**
   * `verifyAccessEager` continued by `then`: when the session read waits on the store, `then` runs
   * in the same promise hop as the checks before it (one hop per request, not one per layer). What
   * `then` throws passes as it is. For the HTTP layer.
   */
  verifyAccessThen<R>(
    accessToken: string,
    options: VerifyAccessOptions,
    then: (verified: VerifiedAccess<P>) => R | Promise<R>,
  ): R | Promise<R> {
    return verifyAccessThen<P, R>(this.#ctx, accessToken, options, then);
  }

  /**
   * Verifies a refresh token without using it (jwt_sessions `authorize_refresh_request!`): the
   * session is live and this is its current generation (or its predecessor within the grace window).
   */
  verifyRefresh(
    refreshToken: string,
    options: { dpop?: DpopRequest } = {},
  ): Promise<{ claims: RefreshClaims & R; sessionId: string; namespace: string | null }> {
    return verifyRefresh<R>(this.#ctx, refreshToken, options);
  }

  /** A freshly masked CSRF token for an existing session (jwt_sessions `masked_csrf`). */
  csrfToken(sessionId: string): Promise<string> {
    return csrfToken(this.#ctx, sessionId);
  }

  /** Checks a CSRF token against a session's secret; throws `csrf_invalid` when it does not match. */
  verifyCsrf(sessionId: string, csrfToken: unknown): Promise<void> {
    return verifyCsrf(this.#ctx, sessionId, csrfToken);
  }

  /**
   * Logout by access token (Rodauth `logout`): a signature-valid, unexpired access token of a live
   * session ends that session (or, with `scope: 'all'`, its namespace) whatever raced it — the
   * current access token, or the one a racing refresh just replaced. Optional CSRF check for
   * cookie transport (the secret a racing refresh replaced is accepted within the grace window).
   */
  logout(accessToken: string, options: LogoutOptions = {}): Promise<LogoutResult> {
    return logout(this.#ctx, accessToken, options);
  }

  /** Ends one session (jwt_sessions `flush_by_uid`). Resolves how many sessions ended (0 or 1). */
  revokeSession(sessionId: string): Promise<number> {
    return revokeSession(this.#ctx, sessionId);
  }

  /** Ends the session of a refresh token, expired or not (jwt_sessions `flush_by_token`). */
  revokeByRefresh(refreshToken: string): Promise<number> {
    return revokeByRefresh(this.#ctx, refreshToken);
  }

  /** Ends the session of an access token, expired or not (jwt_sessions `flush_by_access_payload`). */
  revokeByAccess(accessToken: string): Promise<number> {
    return revokeByAccess(this.#ctx, accessToken);
  }

  /** Ends every session of a namespace (jwt_sessions `flush_namespaced`, Rodauth logout `all`). */
  revokeNamespace(namespace: string): Promise<number> {
    return revokeNamespace(this.#ctx, namespace);
  }

  /** Kills the access tokens of a namespace; refresh tokens keep working (jwt_sessions `flush_namespaced_access_tokens`). */
  revokeNamespaceAccess(namespace: string): Promise<number> {
    return revokeNamespaceAccess(this.#ctx, namespace);
  }

  /** Ends every session in the store (jwt_sessions `flush_all`). */
  revokeAll(): Promise<number> {
    return revokeAll(this.#ctx);
  }

  /** The live sessions of a namespace, oldest first, with their times and device metadata. */
  listSessions(namespace: string): Promise<SessionInfo[]>;
  /**
   * One page of them (`limit` 1-100, default 50), in a stable order; pass `nextCursor` back for
   * the next page. A cursor this listing did not return is `payload_invalid` (400).
   */
  listSessions(namespace: string, options: ListSessionsOptions): Promise<SessionPage>;
  listSessions(namespace: string, options?: ListSessionsOptions): Promise<SessionInfo[] | SessionPage> {
    return options === undefined
      ? listSessions(this.#ctx, namespace)
      : listSessionPage(this.#ctx, namespace, options);
  }

  /** One live session's details, or null. */
  getSession(sessionId: string): Promise<SessionInfo | null> {
    return getSession(this.#ctx, sessionId);
  }

  /** The public keys of asymmetric algorithms, as a JWKS document. */
  jwks(): { keys: JsonWebKey[] } {
    return this.codec.keys.jwks();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** Creates the session engine (the library's entry point). */
export function createSessions<P extends Payload = Payload, R extends Payload = Payload>(
  options: SessionsOptions,
): Sessions<P, R> {
  return new Sessions<P, R>(options);
}

import {
  ConfigurationError,
  ForbiddenError,
  InvalidPayloadError,
  JwtSessionsError,
  SessionError,
  StoreUnavailableError,
} from '../errors.js';
import { MemoryStore } from '../stores/memory.js';
import type { Store, StoredSession } from '../stores/store.js';
import { JwtCodec, type VerifiedJwt } from '../tokens/index.js';
import { csrfTokenMatches, maskCsrfSecret, newCsrfSecret } from './csrf.js';
import { randomId } from './ids.js';
import { decodeState, encodeState, type SessionState } from './state.js';
import type {
  AccessClaims,
  DeviceInfo,
  EarlyRefreshHook,
  LoginOptions,
  Payload,
  RefreshClaims,
  RefreshOptions,
  SessionEvent,
  SessionInfo,
  SessionsOptions,
  TokenPair,
  VerifiedAccess,
  VerifyAccessOptions,
  VerifyMode,
} from './types.js';

/** Claim names the library sets itself; a user payload carrying one is refused, never overwritten. */
const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'ns', 'typ']);
/** Keys that could reach a prototype if someone merged claims carelessly downstream. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Compare-and-swap retries before a refresh gives up under extreme contention. */
const MAX_CAS_ATTEMPTS = 8;
const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;
const MAX_NAMESPACE_LENGTH = 256;
const MAX_SESSION_ID_LENGTH = 128;
const MAX_IP_LENGTH = 100;
const MAX_USER_AGENT_LENGTH = 512;

interface EngineConfig {
  accessTtl: number;
  refreshTtl: number;
  rotateRefresh: boolean;
  reuseGraceMs: number;
  idleTimeoutMs: number | null;
  absoluteTimeoutMs: number | null;
  verifyMode: VerifyMode;
  slidingRenewAfter: number | null;
  touchIntervalMs: number;
  maxTokenBytes: number;
}

function wholeSeconds(name: string, value: unknown, fallback: number | null, min: number): number | null {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_TTL_SECONDS) {
    throw new ConfigurationError(
      `${name} must be a whole number of seconds from ${min} to ${MAX_TTL_SECONDS}`,
    );
  }
  return value;
}

function resolveConfig(options: SessionsOptions): EngineConfig {
  const accessTtl = wholeSeconds('accessTtl', options.accessTtl, 3600, 1)!;
  const refreshTtl = wholeSeconds('refreshTtl', options.refreshTtl, 604_800, 1)!;
  const reuseGrace = wholeSeconds('reuseGrace', options.reuseGrace, 10, 0)!;
  const idleTimeout = wholeSeconds('idleTimeout', options.idleTimeout, null, 1);
  const absoluteTimeout = wholeSeconds('absoluteTimeout', options.absoluteTimeout, null, 1);
  const touchInterval = wholeSeconds('touchInterval', options.touchInterval, 60, 0)!;
  const sliding = options.slidingRenewAfter;
  if (sliding !== undefined && !(typeof sliding === 'number' && sliding > 0 && sliding < 1)) {
    throw new ConfigurationError('slidingRenewAfter must be a number between 0 and 1 (exclusive)');
  }
  const verifyMode = options.verifyMode ?? 'strict';
  if (verifyMode !== 'strict' && verifyMode !== 'stateless') {
    throw new ConfigurationError("verifyMode must be 'strict' or 'stateless'");
  }
  const idleTimeoutMs = idleTimeout === null ? null : idleTimeout * 1000;
  // Last-used writes are throttled, but often enough that the idle deadline stays accurate.
  const touchIntervalMs = Math.min(
    touchInterval * 1000,
    idleTimeoutMs === null ? Infinity : idleTimeoutMs / 4,
  );
  return {
    accessTtl,
    refreshTtl,
    rotateRefresh: options.rotateRefresh ?? true,
    reuseGraceMs: reuseGrace * 1000,
    idleTimeoutMs,
    absoluteTimeoutMs: absoluteTimeout === null ? null : absoluteTimeout * 1000,
    verifyMode,
    slidingRenewAfter: sliding ?? null,
    touchIntervalMs,
    maxTokenBytes: options.maxTokenBytes ?? 8192,
  };
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkPayload(name: string, value: unknown, reserved: Set<string>): Payload {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new InvalidPayloadError(`${name} must be a plain JSON object`);
  for (const key of Object.keys(value as object)) {
    if (reserved.has(key)) throw new InvalidPayloadError(`${name} must not set the reserved claim "${key}"`);
    if (FORBIDDEN_KEYS.has(key)) throw new InvalidPayloadError(`${name} must not contain the key "${key}"`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new InvalidPayloadError(`${name} must be JSON-serializable`);
  // A round trip through JSON is what the token will carry: keep exactly that.
  return JSON.parse(json) as Payload;
}

function checkNamespace(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAMESPACE_LENGTH) {
    throw new InvalidPayloadError(
      `namespace must be a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
    );
  }
  return value;
}

function checkSessionId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SESSION_ID_LENGTH) {
    throw new InvalidPayloadError('session id must be a non-empty string');
  }
  return value;
}

function checkDevice(device: DeviceInfo | undefined): { ip: string | null; ua: string | null } {
  if (device === undefined) return { ip: null, ua: null };
  if (!isPlainObject(device)) throw new InvalidPayloadError('device must be an object');
  const { ip, userAgent } = device;
  if (ip !== undefined && ip !== null && (typeof ip !== 'string' || ip.length > MAX_IP_LENGTH)) {
    throw new InvalidPayloadError(`device.ip must be a string of at most ${MAX_IP_LENGTH} characters`);
  }
  if (userAgent !== undefined && userAgent !== null && typeof userAgent !== 'string') {
    throw new InvalidPayloadError('device.userAgent must be a string');
  }
  return { ip: ip ?? null, ua: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null };
}

/**
 * The session engine: login, refresh (rotation, reuse detection, grace window), refresh by
 * access, strict/stateless verification, CSRF, revocation, listing, deadlines and events, over
 * any `Store`. Stateless with respect to the process: everything lives in the store.
 */
export class Sessions<P extends Payload = Payload, R extends Payload = Payload> {
  readonly codec: JwtCodec;
  readonly store: Store;
  readonly #config: EngineConfig;
  readonly #clock: () => number;
  readonly #onEarlyRefresh: EarlyRefreshHook | undefined;
  readonly #onEvent: ((event: SessionEvent) => void) | undefined;

  constructor(options: SessionsOptions) {
    if (!isPlainObject(options)) throw new ConfigurationError('createSessions needs an options object');
    this.#config = resolveConfig(options);
    this.codec = new JwtCodec({
      keys: options.keys,
      ...(options.issuer !== undefined && { issuer: options.issuer }),
      ...(options.audience !== undefined && { audience: options.audience }),
      ...(options.leeway !== undefined && { leeway: options.leeway }),
      maxTokenBytes: this.#config.maxTokenBytes,
    });
    this.store = options.store ?? new MemoryStore();
    this.#clock = options.clock ?? Date.now;
    this.#onEarlyRefresh = options.onEarlyRefresh;
    this.#onEvent = options.onEvent;
  }

  get verifyMode(): VerifyMode {
    return this.#config.verifyMode;
  }

  /** Starts a session: access + refresh + CSRF token (jwt_sessions `Session#login`). */
  async login(options: LoginOptions<P, R> = {}): Promise<TokenPair> {
    if (!isPlainObject(options)) throw new InvalidPayloadError('login options must be an object');
    const payload = checkPayload('payload', options.payload, RESERVED_CLAIMS);
    const refreshPayload = checkPayload('refreshPayload', options.refreshPayload, RESERVED_CLAIMS);
    const namespace = checkNamespace(options.namespace);
    const device = checkDevice(options.device);
    const accessTtl = this.#sessionTtl('accessTtl', options.accessTtl, this.#config.accessTtl);
    const refreshTtl = this.#sessionTtl('refreshTtl', options.refreshTtl, this.#config.refreshTtl);
    if (options.refreshByAccess !== undefined && typeof options.refreshByAccess !== 'boolean') {
      throw new InvalidPayloadError('refreshByAccess must be a boolean');
    }

    const now = this.#clock();
    const nowSec = Math.floor(now / 1000);
    const absoluteDeadline =
      this.#config.absoluteTimeoutMs === null ? null : now + this.#config.absoluteTimeoutMs;
    const refreshExp = this.#refreshExpiry(nowSec, refreshTtl, absoluteDeadline);
    const state: SessionState = {
      p: payload,
      rp: refreshPayload,
      g: randomId(),
      gi: nowSec,
      ge: refreshExp,
      pg: null,
      pgu: 0,
      a: randomId(),
      ai: nowSec,
      ae: Math.max(nowSec + 1, Math.min(nowSec + accessTtl, refreshExp)),
      pa: null,
      pau: 0,
      c: newCsrfSecret(),
      rba: options.refreshByAccess ?? false,
      at: accessTtl,
      rt: refreshTtl,
      ad: absoluteDeadline,
      rf: now,
      ip: device.ip,
      ua: device.ua,
    };
    const id = randomId();
    // Sign before storing: a payload too large to verify later is refused with nothing stored.
    const pair = this.#pair(id, namespace, state);
    await this.#store(() =>
      this.store.create({
        id,
        namespace,
        version: 1,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: this.#sessionExpiry(state, now),
        accessRevoked: false,
        data: encodeState(state),
      }),
    );
    this.#emit({ type: 'login', sessionId: id, namespace, device: { ip: device.ip, userAgent: device.ua } });
    return pair;
  }

  /**
   * Renews a session by its refresh token (jwt_sessions `Session#refresh`, Rodauth jwt-refresh):
   * a new access token (the old one dies at once in strict mode), a new CSRF secret, and by default
   * a rotated refresh token. A rotated-out refresh token revokes the session (`refresh_reused`),
   * except the immediate predecessor within the grace window, which gets the current generation.
   */
  async refresh(refreshToken: string, options: RefreshOptions<P> = {}): Promise<TokenPair> {
    const claims = this.#verify(refreshToken, 'rt+jwt', this.#config.refreshTtl, false)
      .payload as RefreshClaims;
    return this.#renew(claims.sid, 'refresh', claims.jti, options);
  }

  /**
   * Renews a session by its access token, expired or not (jwt_sessions `refresh_by_access_payload`).
   * The signature and every claim but `exp` are verified; the session must allow it and the token
   * must be its current access token. The refresh token is left as it is.
   */
  async refreshByAccess(accessToken: string, options: RefreshOptions<P> = {}): Promise<TokenPair> {
    const claims = this.#verify(accessToken, 'at+jwt', this.#config.accessTtl, true).payload as AccessClaims;
    return this.#renew(claims.sid, 'access', claims.jti, options);
  }

  /**
   * Verifies an access token. Strict (default): also the session is live and this is its current
   * access token. Optionally checks a CSRF token, and renews the access token when sliding
   * expiration is on and it is past its share of life.
   */
  async verifyAccess(accessToken: string, options: VerifyAccessOptions = {}): Promise<VerifiedAccess<P>> {
    if (!isPlainObject(options)) throw new InvalidPayloadError('verifyAccess options must be an object');
    const mode = options.mode ?? this.#config.verifyMode;
    // An unknown mode (a typo such as 'Strict') must never end up as a laxer check than strict.
    if (mode !== 'strict' && mode !== 'stateless') {
      throw new InvalidPayloadError("verifyAccess mode must be 'strict' or 'stateless'");
    }
    const verified = this.#verify(accessToken, 'at+jwt', this.#config.accessTtl, false, options.claims);
    const claims = verified.payload as AccessClaims & P;
    const now = this.#clock();
    const slideDue = this.#slideDue(claims, now);
    if (mode === 'stateless' && options.csrf === undefined && !slideDue) {
      return { claims, sessionId: claims.sid, namespace: null };
    }

    const record = await this.#get(claims.sid, now);
    if (record === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
    const state = decodeState(record.data);
    if (mode !== 'stateless') {
      const current = claims.jti === state.a || (claims.jti === state.pa && now < state.pau);
      if (!current || record.accessRevoked) {
        throw new SessionError('access_revoked', 'access token revoked or superseded');
      }
    }
    if (options.csrf !== undefined && !csrfTokenMatches(state.c, options.csrf)) {
      throw new ForbiddenError('csrf_invalid', 'CSRF token missing or invalid');
    }
    if (now - record.lastUsedAt >= this.#config.touchIntervalMs) {
      await this.#store(() => this.store.touch(record.id, now, this.#sessionExpiry(state, now), now));
    }
    const result: VerifiedAccess<P> = { claims, sessionId: record.id, namespace: record.namespace };
    if (slideDue && claims.jti === state.a && !record.accessRevoked) {
      const renewed = await this.#slide(record, state, now);
      if (renewed !== undefined) result.renewedAccess = renewed;
    }
    return result;
  }

  /**
   * Verifies a refresh token without using it (jwt_sessions `authorize_refresh_request!`): the
   * session is live and this is its current generation (or its predecessor within the grace window).
   */
  async verifyRefresh(
    refreshToken: string,
  ): Promise<{ claims: RefreshClaims & R; sessionId: string; namespace: string | null }> {
    const claims = this.#verify(refreshToken, 'rt+jwt', this.#config.refreshTtl, false)
      .payload as RefreshClaims & R;
    const now = this.#clock();
    const record = await this.#get(claims.sid, now);
    if (record === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
    const state = decodeState(record.data);
    if (claims.jti !== state.g && !(claims.jti === state.pg && now < state.pgu)) {
      throw new SessionError('refresh_reused', 'refresh token was rotated out');
    }
    return { claims, sessionId: record.id, namespace: record.namespace };
  }

  /** A freshly masked CSRF token for an existing session (jwt_sessions `masked_csrf`). */
  async csrfToken(sessionId: string): Promise<string> {
    const record = await this.#get(checkSessionId(sessionId), this.#clock());
    if (record === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
    return maskCsrfSecret(decodeState(record.data).c);
  }

  /** Checks a CSRF token against a session's secret; throws `csrf_invalid` when it does not match. */
  async verifyCsrf(sessionId: string, csrfToken: unknown): Promise<void> {
    const record = await this.#get(checkSessionId(sessionId), this.#clock());
    if (record === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
    if (!csrfTokenMatches(decodeState(record.data).c, csrfToken)) {
      throw new ForbiddenError('csrf_invalid', 'CSRF token missing or invalid');
    }
  }

  /** Ends one session (jwt_sessions `flush_by_uid`). Resolves how many sessions ended (0 or 1). */
  async revokeSession(sessionId: string): Promise<number> {
    const id = checkSessionId(sessionId);
    const count = await this.#store(() => this.store.delete(id, this.#clock()));
    this.#emit({ type: 'revoke', scope: 'session', sessionId: id, count });
    return count;
  }

  /** Ends the session of a refresh token, expired or not (jwt_sessions `flush_by_token`). */
  async revokeByRefresh(refreshToken: string): Promise<number> {
    const claims = this.#verify(refreshToken, 'rt+jwt', this.#config.refreshTtl, true)
      .payload as RefreshClaims;
    return this.revokeSession(claims.sid);
  }

  /** Ends the session of an access token, expired or not (jwt_sessions `flush_by_access_payload`). */
  async revokeByAccess(accessToken: string): Promise<number> {
    const claims = this.#verify(accessToken, 'at+jwt', this.#config.accessTtl, true).payload as AccessClaims;
    return this.revokeSession(claims.sid);
  }

  /** Ends every session of a namespace (jwt_sessions `flush_namespaced`, Rodauth logout `all`). */
  async revokeNamespace(namespace: string): Promise<number> {
    const ns = checkNamespace(namespace);
    if (ns === null) throw new InvalidPayloadError('namespace is required');
    const count = await this.#store(() => this.store.deleteNamespace(ns, this.#clock()));
    this.#emit({ type: 'revoke', scope: 'namespace', namespace: ns, count });
    return count;
  }

  /** Kills the access tokens of a namespace; refresh tokens keep working (jwt_sessions `flush_namespaced_access_tokens`). */
  async revokeNamespaceAccess(namespace: string): Promise<number> {
    const ns = checkNamespace(namespace);
    if (ns === null) throw new InvalidPayloadError('namespace is required');
    const count = await this.#store(() => this.store.revokeNamespaceAccess(ns, this.#clock()));
    this.#emit({ type: 'revoke', scope: 'namespace_access', namespace: ns, count });
    return count;
  }

  /** Ends every session in the store (jwt_sessions `flush_all`). */
  async revokeAll(): Promise<number> {
    const count = await this.#store(() => this.store.deleteAll(this.#clock()));
    this.#emit({ type: 'revoke', scope: 'all', count });
    return count;
  }

  /** The live sessions of a namespace, oldest first, with their times and device metadata. */
  async listSessions(namespace: string): Promise<SessionInfo[]> {
    const ns = checkNamespace(namespace);
    if (ns === null) throw new InvalidPayloadError('namespace is required');
    const records = await this.#store(() => this.store.listNamespace(ns, this.#clock()));
    return records.map(toSessionInfo);
  }

  /** One live session's details, or null. */
  async getSession(sessionId: string): Promise<SessionInfo | null> {
    const record = await this.#get(checkSessionId(sessionId), this.#clock());
    return record === null ? null : toSessionInfo(record);
  }

  /** The public keys of asymmetric algorithms, as a JWKS document. */
  jwks(): { keys: JsonWebKey[] } {
    return this.codec.keys.jwks();
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  async #renew(
    sessionId: string,
    presentedKind: 'refresh' | 'access',
    presentedId: string,
    options: RefreshOptions<P>,
  ): Promise<TokenPair> {
    if (!isPlainObject(options)) throw new InvalidPayloadError('refresh options must be an object');
    const newPayload =
      options.payload === undefined ? undefined : checkPayload('payload', options.payload, RESERVED_CLAIMS);
    const device = options.device === undefined ? undefined : checkDevice(options.device);
    const hook = options.onEarlyRefresh ?? this.#onEarlyRefresh;
    const startedAt = this.#clock();

    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const now = this.#clock();
      const record = await this.#get(sessionId, now);
      if (record === null)
        throw new SessionError('session_not_found', 'session not found, expired or revoked');
      const state = decodeState(record.data);
      const byAccess = presentedKind === 'access';

      if (!byAccess && presentedId !== state.g) {
        if (presentedId === state.pg && now < state.pgu) return this.#replay(record, state, false);
        await this.#store(() => this.store.delete(record.id, now));
        this.#emit({ type: 'reuse_detected', sessionId: record.id, namespace: record.namespace });
        throw new SessionError('refresh_reused', 'refresh token reuse detected: the session is revoked');
      }
      if (byAccess) {
        if (!state.rba) {
          throw new SessionError(
            'refresh_by_access_not_allowed',
            'this session cannot be refreshed by access token',
          );
        }
        if (presentedId !== state.a || record.accessRevoked) {
          if (presentedId === state.pa && now < state.pau && !record.accessRevoked) {
            return this.#replay(record, state, true);
          }
          throw new SessionError('access_revoked', 'access token revoked or superseded');
        }
      }
      // Without rotation, racing refreshes with the same token coalesce onto the winner's tokens.
      if (!byAccess && !this.#config.rotateRefresh && attempt > 0 && state.rf >= startedAt) {
        return this.#replay(record, state, false);
      }

      if (hook !== undefined && !record.accessRevoked && state.ae * 1000 > now) {
        await this.#runEarlyRefreshHook(hook, record, state);
      }

      const next = this.#nextState(state, now, byAccess, newPayload, device);
      // A renewal issues a fresh access token, so a namespace-wide access revocation is over.
      const written = await this.#writeNext(record, next, now, { accessRevoked: false });
      if (written) {
        this.#emit({
          type: 'refresh',
          sessionId: record.id,
          namespace: record.namespace,
          byAccess,
          grace: false,
        });
        return this.#pair(record.id, record.namespace, next);
      }
      // Lost a race: read again; the predecessor/grace rules decide what this caller gets.
    }
    throw new SessionError('refresh_refused', 'too many concurrent refreshes of this session; retry');
  }

  #nextState(
    state: SessionState,
    now: number,
    byAccess: boolean,
    payload: Payload | undefined,
    device: { ip: string | null; ua: string | null } | undefined,
  ): SessionState {
    const nowSec = Math.floor(now / 1000);
    const rotate = !byAccess && this.#config.rotateRefresh;
    const refreshExp = rotate ? this.#refreshExpiry(nowSec, state.rt, state.ad) : state.ge;
    return {
      ...state,
      p: payload ?? state.p,
      g: rotate ? randomId() : state.g,
      gi: rotate ? nowSec : state.gi,
      ge: refreshExp,
      pg: rotate ? state.g : state.pg,
      pgu: rotate ? now + this.#config.reuseGraceMs : state.pgu,
      a: randomId(),
      ai: nowSec,
      ae: Math.max(nowSec + 1, Math.min(nowSec + state.at, refreshExp)),
      // A refresh by access keeps the presented token replayable within the grace window
      // (concurrent tabs); a refresh by refresh token ends the old access token at once.
      pa: byAccess ? state.a : null,
      pau: byAccess ? now + this.#config.reuseGraceMs : 0,
      c: newCsrfSecret(),
      rf: now,
      ip: device?.ip ?? state.ip,
      ua: device?.ua ?? state.ua,
    };
  }

  #replay(record: StoredSession, state: SessionState, byAccess: boolean): TokenPair {
    this.#emit({ type: 'refresh', sessionId: record.id, namespace: record.namespace, byAccess, grace: true });
    return this.#pair(record.id, record.namespace, state);
  }

  async #runEarlyRefreshHook(
    hook: EarlyRefreshHook,
    record: StoredSession,
    state: SessionState,
  ): Promise<void> {
    try {
      await hook({
        sessionId: record.id,
        namespace: record.namespace,
        accessExpiresAt: new Date(state.ae * 1000),
      });
    } catch (error) {
      if (error instanceof JwtSessionsError) throw error;
      throw new SessionError('refresh_refused', 'refresh refused while the access token is still valid', {
        cause: error,
      });
    }
  }

  #slideDue(claims: AccessClaims, now: number): boolean {
    const share = this.#config.slidingRenewAfter;
    if (share === null) return false;
    const life = claims.exp - claims.iat;
    return life > 0 && now / 1000 - claims.iat >= share * life;
  }

  /** Sliding expiration: a new access token; the presented one stays valid for the grace window. */
  async #slide(
    record: StoredSession,
    state: SessionState,
    now: number,
  ): Promise<{ token: string; expiresAt: Date } | undefined> {
    const nowSec = Math.floor(now / 1000);
    const next: SessionState = {
      ...state,
      a: randomId(),
      ai: nowSec,
      ae: Math.max(nowSec + 1, Math.min(nowSec + state.at, state.ge)),
      pa: state.a,
      pau: now + Math.max(this.#config.reuseGraceMs, 1000),
    };
    if (next.ae <= state.ae) return undefined; // nothing to gain: the session ends first
    const written = await this.#writeNext(record, next, now);
    // Another request renewed first: it carries the new token; this one needs none.
    if (!written) return undefined;
    return { token: this.#signAccess(record.id, next), expiresAt: new Date(next.ae * 1000) };
  }

  /** Compare-and-swap of the session's next state: false when another writer got there first. */
  #writeNext(
    record: StoredSession,
    next: SessionState,
    now: number,
    overrides: Partial<StoredSession> = {},
  ): Promise<boolean> {
    return this.#store(() =>
      this.store.replace(
        {
          ...record,
          version: record.version + 1,
          lastUsedAt: now,
          expiresAt: this.#sessionExpiry(next, now),
          data: encodeState(next),
          ...overrides,
        },
        record.version,
        now,
      ),
    );
  }

  #pair(sessionId: string, namespace: string | null, state: SessionState): TokenPair {
    const access = this.#signAccess(sessionId, state);
    const refresh = this.codec.sign('rt+jwt', {
      ...state.rp,
      sid: sessionId,
      jti: state.g,
      ...(namespace !== null && { ns: namespace }),
      iat: state.gi,
      exp: state.ge,
    });
    if (access.length > this.#config.maxTokenBytes || refresh.length > this.#config.maxTokenBytes) {
      throw new InvalidPayloadError(
        `payload too large: tokens must fit in ${this.#config.maxTokenBytes} bytes`,
      );
    }
    return {
      access,
      refresh,
      csrf: maskCsrfSecret(state.c),
      accessExpiresAt: new Date(state.ae * 1000),
      refreshExpiresAt: new Date(state.ge * 1000),
      sessionId,
    };
  }

  #signAccess(sessionId: string, state: SessionState): string {
    return this.codec.sign('at+jwt', {
      ...state.p,
      sid: sessionId,
      jti: state.a,
      iat: state.ai,
      exp: state.ae,
    });
  }

  #verify(
    token: string,
    typ: 'at+jwt' | 'rt+jwt',
    maxLifetime: number,
    ignoreExpiration: boolean,
    expected?: Record<string, unknown>,
  ): VerifiedJwt {
    const verified = this.codec.verify(token, {
      typ,
      now: this.#clock() / 1000,
      maxLifetime,
      ignoreExpiration,
      ...(expected !== undefined && { expected }),
    });
    const { sid, jti } = verified.payload;
    if (
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      sid.length === 0 ||
      sid.length > MAX_SESSION_ID_LENGTH
    ) {
      throw new SessionError('session_not_found', 'token does not name a session');
    }
    return verified;
  }

  #sessionTtl(name: string, value: unknown, configured: number): number {
    if (value === undefined) return configured;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > configured) {
      // Per-session lifetimes may only shorten the configured one: that bound is what verification enforces.
      throw new InvalidPayloadError(`${name} must be a whole number of seconds from 1 to ${configured}`);
    }
    return value;
  }

  #refreshExpiry(nowSec: number, refreshTtl: number, absoluteDeadline: number | null): number {
    const byTtl = nowSec + refreshTtl;
    return absoluteDeadline === null ? byTtl : Math.min(byTtl, Math.floor(absoluteDeadline / 1000));
  }

  /** When the store should forget the session: refresh expiry, idle or absolute deadline, first. */
  #sessionExpiry(state: SessionState, now: number): number {
    let end = state.ge * 1000;
    if (state.ad !== null) end = Math.min(end, state.ad);
    if (this.#config.idleTimeoutMs !== null) end = Math.min(end, now + this.#config.idleTimeoutMs);
    return end;
  }

  #get(sessionId: string, now: number): Promise<StoredSession | null> {
    return this.#store(() => this.store.get(sessionId, now));
  }

  /** Every store call: typed errors pass through; anything else fails closed as store_unavailable. */
  async #store<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof JwtSessionsError) throw error;
      throw new StoreUnavailableError('session store unavailable', { cause: error });
    }
  }

  #emit(event: SessionEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // Audit hooks never break authentication.
    }
  }
}

function toSessionInfo(record: StoredSession): SessionInfo {
  // Listing shows an unreadable record without its device details rather than failing the list.
  let state: Pick<SessionState, 'ip' | 'ua'>;
  try {
    state = decodeState(record.data);
  } catch {
    state = { ip: null, ua: null };
  }
  return {
    id: record.id,
    namespace: record.namespace,
    createdAt: new Date(record.createdAt),
    lastUsedAt: new Date(record.lastUsedAt),
    expiresAt: new Date(record.expiresAt),
    ip: state.ip,
    userAgent: state.ua,
  };
}

/** Creates the session engine (the library's entry point). */
export function createSessions<P extends Payload = Payload, R extends Payload = Payload>(
  options: SessionsOptions,
): Sessions<P, R> {
  return new Sessions<P, R>(options);
}

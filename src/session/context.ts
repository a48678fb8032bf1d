/**
 * What every operation shares: the codec, the store, the configuration, the clock and the hooks,
 * plus the few steps several operations take (a guarded store call, token verification, signing
 * a token pair, computing deadlines, the compare-and-swap write). One instance per `Sessions`.
 */
import { InvalidPayloadError, JwtSessionsError, SessionError, StoreUnavailableError } from '../errors.js';
import type { Store, StoredSession } from '../stores/store.js';
import type { JwtCodec, VerifiedJwt, VerifyOptions } from '../tokens/index.js';
import type { EngineConfig } from './config.js';
import { maskCsrfSecret } from './csrf.js';
import { encodeState, type SessionState } from './state.js';
import type { EarlyRefreshHook, SessionEvent, TokenPair } from './types.js';
import { MAX_SESSION_ID_LENGTH } from './validate.js';

export class EngineContext {
  constructor(
    readonly codec: JwtCodec,
    readonly store: Store,
    readonly config: EngineConfig,
    readonly clock: () => number,
    readonly onEarlyRefresh: EarlyRefreshHook | undefined,
    readonly onEvent: ((event: SessionEvent) => void) | undefined,
    readonly onError: ((error: JwtSessionsError) => void) | undefined,
  ) {}

  /**
   * Every store call: typed errors pass through; anything else fails closed as store_unavailable.
   * Either way the error reaches `onError` first, so no store failure goes unreported.
   */
  async storeCall<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.#storeFailure(error);
    }
  }

  /** A store call's error as callers see it (typed, or store_unavailable), reported to onError. */
  #storeFailure(error: unknown): JwtSessionsError {
    const failure =
      error instanceof JwtSessionsError
        ? error
        : new StoreUnavailableError('session store unavailable', { cause: error });
    this.#report(failure);
    return failure;
  }

  #report(error: JwtSessionsError): void {
    if (this.onError === undefined) return;
    try {
      this.onError(error);
    } catch {
      // Reporting never changes what the caller sees.
    }
  }

  get(sessionId: string, now: number): Promise<StoredSession | null> {
    return this.storeCall(() => this.store.get(sessionId, now));
  }

  /** The live session, or `session_not_found`. */
  async require(sessionId: string, now: number): Promise<StoredSession> {
    return this.requireThen(sessionId, now, same);
  }

  /**
   * `require` continued by `then`: synchronously when the store has the record at hand
   * (`getEager`: strict verification on the memory store or a live-cache hit takes no promise
   * hop), else in the one hop after the store's answer, not one more per caller. Only the store's
   * own failures become store errors; whatever `then` throws passes as it is.
   */
  requireThen<R>(
    sessionId: string,
    now: number,
    then: (record: StoredSession) => R | Promise<R>,
  ): R | Promise<R> {
    const store = this.store;
    let answer: StoredSession | null | Promise<StoredSession | null>;
    try {
      answer = store.getEager !== undefined ? store.getEager(sessionId, now) : store.get(sessionId, now);
    } catch (error) {
      throw this.#storeFailure(error);
    }
    if (answer instanceof Promise) {
      return answer.then(
        (record) => then(liveOrNotFound(record)),
        (error: unknown) => {
          throw this.#storeFailure(error);
        },
      );
    }
    return then(liveOrNotFound(answer));
  }

  emit(event: SessionEvent): void {
    if (this.onEvent === undefined) return;
    try {
      this.onEvent(event);
    } catch {
      // Audit hooks never break authentication.
    }
  }

  /** Verifies a token of the given type; it must name a session (`sid`) and carry a `jti`. */
  verify(
    token: string,
    typ: 'at+jwt' | 'rt+jwt',
    ignoreExpiration: boolean,
    expected?: Record<string, unknown>,
  ): VerifiedJwt {
    // Built by assignment, not a spread: this runs on every verification.
    const options: VerifyOptions = {
      typ,
      now: this.clock() / 1000,
      maxLifetime: typ === 'at+jwt' ? this.config.accessTtl : this.config.refreshTtl,
      ignoreExpiration,
    };
    if (expected !== undefined) options.expected = expected;
    const verified = this.codec.verify(token, options);
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

  pair(sessionId: string, namespace: string | null, state: SessionState): TokenPair {
    const access = this.signAccess(sessionId, state);
    const refresh = this.codec.sign('rt+jwt', {
      ...state.rp,
      sid: sessionId,
      jti: state.g,
      ...(namespace !== null && { ns: namespace }),
      iat: state.gi,
      exp: state.ge,
    });
    const max = this.config.maxTokenBytes;
    if (access.length > max || refresh.length > max) {
      throw new InvalidPayloadError(`payload too large: tokens must fit in ${max} bytes`);
    }
    const pair: TokenPair = {
      access,
      refresh,
      csrf: maskCsrfSecret(state.c),
      accessExpiresAt: new Date(state.ae * 1000),
      refreshExpiresAt: new Date(state.ge * 1000),
      sessionId,
    };
    if (state.k !== undefined) pair.jkt = state.k;
    return pair;
  }

  signAccess(sessionId: string, state: SessionState): string {
    return this.codec.sign('at+jwt', {
      ...state.p,
      sid: sessionId,
      jti: state.a,
      iat: state.ai,
      exp: state.ae,
      ...(state.k !== undefined && { cnf: { jkt: state.k } }),
    });
  }

  refreshExpiry(nowSec: number, refreshTtl: number, absoluteDeadline: number | null): number {
    const byTtl = nowSec + refreshTtl;
    return absoluteDeadline === null ? byTtl : Math.min(byTtl, Math.floor(absoluteDeadline / 1000));
  }

  /** When the store should forget the session: refresh expiry, idle or absolute deadline, first. */
  sessionExpiry(state: SessionState, now: number): number {
    let end = state.ge * 1000;
    if (state.ad !== null) end = Math.min(end, state.ad);
    if (this.config.idleTimeoutMs !== null) end = Math.min(end, now + this.config.idleTimeoutMs);
    return end;
  }

  /** Compare-and-swap of the session's next state: false when another writer got there first. */
  writeNext(
    record: StoredSession,
    next: SessionState,
    now: number,
    overrides: Partial<StoredSession> = {},
  ): Promise<boolean> {
    return this.storeCall(() =>
      this.store.replace(
        {
          ...record,
          version: record.version + 1,
          lastUsedAt: now,
          expiresAt: this.sessionExpiry(next, now),
          data: encodeState(next),
          ...overrides,
        },
        record.version,
        now,
      ),
    );
  }
}

/** A continuation that continues with what it was given. */
export const same = <T>(value: T): T => value;

function liveOrNotFound(record: StoredSession | null): StoredSession {
  if (record === null) throw new SessionError('session_not_found', 'session not found, expired or revoked');
  return record;
}

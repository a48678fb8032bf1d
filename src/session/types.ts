import type { JwtSessionsError } from '../errors.js';
import type { Store } from '../stores/store.js';
import type { JwtClaims, KeyRing, KeyRingOptions } from '../tokens/index.js';
import type { DpopRequest } from './operations/dpop-binding.js';

export type { DpopRequest } from './operations/dpop-binding.js';

/** A JSON object a user puts in a token. Reserved claim names are refused, never overwritten. */
export type Payload = Record<string, unknown>;

/** The claims the library adds to every access token. */
export interface AccessClaims extends JwtClaims {
  /** Session id. */
  sid: string;
  /** This access token's id. */
  jti: string;
  iat: number;
  exp: number;
  /** DPoP-bound sessions only: the thumbprint of the key every request must prove (RFC 9449 §6). */
  cnf?: { jkt: string };
}

export interface RefreshClaims extends JwtClaims {
  sid: string;
  /** This refresh generation's id. */
  jti: string;
  /** Namespace, when the session has one. */
  ns?: string;
  iat: number;
  exp: number;
}

/** Device metadata kept with a session and shown by `listSessions`. */
export interface DeviceInfo {
  ip?: string | null;
  userAgent?: string | null;
}

export interface LoginOptions<P extends Payload, R extends Payload> {
  /** User claims for the access token (jwt_sessions `payload`). */
  payload?: P;
  /** User claims for the refresh token (jwt_sessions `refresh_payload`). */
  refreshPayload?: R;
  /** Groups sessions, e.g. by user id (jwt_sessions `namespace`). */
  namespace?: string;
  /** Per-session overrides, seconds. */
  accessTtl?: number;
  refreshTtl?: number;
  /** Allows `refreshByAccess` for this session (jwt_sessions `refresh_by_access_allowed`). */
  refreshByAccess?: boolean;
  device?: DeviceInfo;
  /** A DPoP proof of the login request: when it carries one, the session is bound to its key. */
  dpop?: DpopRequest;
}

/** What login and refresh return (jwt_sessions `{access, refresh, csrf, ...}`). */
export interface TokenPair {
  access: string;
  refresh: string;
  /** A masked CSRF token (fresh mask each time) for cookie transport. */
  csrf: string;
  accessExpiresAt: Date;
  refreshExpiresAt: Date;
  sessionId: string;
  /** The thumbprint the session is DPoP-bound to (`token_type: "DPoP"`); absent when unbound. */
  jkt?: string;
}

/** Called when a refresh happens while the session's access token is still valid (jwt_sessions hijack block). */
export type EarlyRefreshHook = (info: {
  sessionId: string;
  namespace: string | null;
  /** When the still-valid access token expires. */
  accessExpiresAt: Date;
}) => void | Promise<void>;

export interface RefreshOptions<P extends Payload> {
  /** Replace the access payload for the new access token (jwt_sessions `Session.new(payload:).refresh`). */
  payload?: P;
  /** Overrides the engine-wide hook for this call; throw to refuse the refresh. */
  onEarlyRefresh?: EarlyRefreshHook;
  device?: DeviceInfo;
  /** The request's DPoP proof: a bound session's refresh needs one by its key. */
  dpop?: DpopRequest;
  /**
   * When set (cookie transport), the CSRF token must match the session's secret, checked on the
   * same read as the token, before anything is written. `null`/'' means "required but absent"
   * (`csrf_invalid`). A rotated-out refresh token still revokes the session, as without it.
   */
  csrf?: string | null;
}

export type VerifyMode = 'strict' | 'stateless';

export interface VerifyAccessOptions {
  /** Default: the engine's `verifyMode` (strict unless configured). */
  mode?: VerifyMode;
  /** Extra exact claim expectations for this call (jwt_sessions `token_claims`). */
  claims?: Record<string, unknown>;
  /**
   * When set, the CSRF token the client sent must match the session's secret (cookie transport on
   * an unsafe method). `null`/'' means "required but absent" and fails with `csrf_invalid`.
   */
  csrf?: string | null;
  /** The request's DPoP proof: a bound token (`cnf.jkt`) is accepted only with one by its key. */
  dpop?: DpopRequest;
}

export interface VerifiedAccess<P extends Payload> {
  claims: AccessClaims & P;
  sessionId: string;
  namespace: string | null;
  /**
   * A fresh access token when sliding expiration is on and this one is past its share of life;
   * the HTTP layer puts it in the response header. Undefined otherwise.
   */
  renewedAccess?: { token: string; expiresAt: Date };
}

export interface LogoutOptions {
  /** `session` (default): the token's session; `all`: every session of its namespace. */
  scope?: 'session' | 'all';
  /**
   * The client's CSRF token, when the access token came from a cookie on an unsafe method;
   * `null`/'' means "required but absent" and fails with `csrf_invalid`.
   */
  csrf?: string | null;
}

export interface LogoutResult {
  /** Sessions ended (at least 1: a session already gone is `session_not_found`). */
  revoked: number;
  sessionId: string;
  namespace: string | null;
}

/** Paging of `listSessions`. */
export interface ListSessionsOptions {
  /** Sessions per page, 1 to 100. Default 50. */
  limit?: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  cursor?: string;
}

/** One page of `listSessions`, oldest first (creation time, then id). */
export interface SessionPage {
  sessions: SessionInfo[];
  /** Opaque; pass it back for the next page. Null on the last page. */
  nextCursor: string | null;
}

/** One entry of `listSessions`. */
export interface SessionInfo {
  id: string;
  namespace: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /** The DPoP thumbprint the session is bound to, or null. */
  jkt: string | null;
}

export type SessionEvent =
  | { type: 'login'; sessionId: string; namespace: string | null; device: DeviceInfo }
  | { type: 'refresh'; sessionId: string; namespace: string | null; byAccess: boolean; grace: boolean }
  | { type: 'reuse_detected'; sessionId: string; namespace: string | null }
  | {
      type: 'revoke';
      /** `cap`: a login beyond `maxSessionsPerNamespace` ended this least recently used session. */
      scope: 'session' | 'namespace' | 'namespace_access' | 'all' | 'cap';
      sessionId?: string;
      namespace?: string;
      count: number;
    };

export interface SessionsOptions {
  /** Signing key plus verify-only previous keys, or a ready KeyRing. */
  keys: KeyRing | KeyRingOptions;
  /** Default: a new MemoryStore. */
  store?: Store;
  /** Seconds. Default 3600 (jwt_sessions access_exp_time). */
  accessTtl?: number;
  /** Seconds. Default 604800 (jwt_sessions refresh_exp_time). */
  refreshTtl?: number;
  /** Rotate the refresh token on every refresh (RFC 9700). Default true; false = jwt_sessions behaviour. */
  rotateRefresh?: boolean;
  /** Seconds a rotated-out refresh token may be replayed to get the current generation again. Default 10; 0 = off. */
  reuseGrace?: number;
  /** Seconds without use after which a session ends. Default: none. */
  idleTimeout?: number;
  /** Seconds after login after which no refresh extends a session. Default: none. */
  absoluteTimeout?: number;
  /** Default `strict`: the session is live and this is its current access token. */
  verifyMode?: VerifyMode;
  issuer?: string;
  audience?: string;
  /** Clock skew allowance for nbf/iat (and exp), seconds. Default 0. */
  leeway?: number;
  /** Default 8192 bytes. */
  maxTokenBytes?: number;
  /**
   * Verified access tokens kept (default 1000; 0 = off): the same token presented again skips
   * its signature and parse; time, `typ` and per-call claims are checked on every call, and strict
   * mode still reads the session. Claims are read-only (frozen) either way.
   */
  verifiedCacheSize?: number;
  /**
   * Sliding expiration: past this share of its life (0 < x < 1) a verified access token is
   * renewed (see `VerifiedAccess.renewedAccess`). Default: off.
   */
  slidingRenewAfter?: number;
  /** Called when a refresh happens while the access token is still valid; throw to refuse. */
  onEarlyRefresh?: EarlyRefreshHook;
  /** Audit/metrics hook; errors it throws are swallowed (never break auth). */
  onEvent?: (event: SessionEvent) => void;
  /**
   * Called with every store failure inside an operation (the `store_unavailable` error, its driver
   * error as `cause`, or a store's own typed error such as a missing schema), before the operation
   * rejects with it. Errors it throws are swallowed.
   */
  onError?: (error: JwtSessionsError) => void;
  /**
   * Live sessions per namespace (e.g. per user): a login beyond it ends the namespace's least
   * recently used sessions (a `revoke` event with scope `cap` each). Default: no cap.
   */
  maxSessionsPerNamespace?: number;
  /** Milliseconds clock, for tests. Default Date.now. */
  clock?: () => number;
  /** Minimum seconds between last-used writes on verify (keeps verify read-only). Default 60, capped at idleTimeout/4. */
  touchInterval?: number;
}

/**
 * The `Store` contract: the few atomic operations the session engine needs.
 *
 * A store keeps one record per session. It understands only the fields it must index, expire or
 * compare; everything else is `data`, an opaque string the engine owns (payloads, refresh
 * generation, CSRF secret, device metadata). That keeps every store small and identical in
 * behaviour: Redis does each operation in one script call, SQL in one statement or transaction.
 *
 * Rules every implementation follows (the contract suite in test/contract checks them):
 * - Times are integer milliseconds since the epoch, passed in by the caller (`now`), so tests
 *   can drive the clock and every store agrees on expiry boundaries: a record whose
 *   `expiresAt <= now` does not exist for any operation.
 * - `replace` is compare-and-swap on `version`: it succeeds only if the record exists, is not
 *   expired and still has `expectedVersion`. Two racing writers cannot both win, and nothing
 *   revoked can be written back.
 * - Namespace operations cost O(sessions in that namespace), never a scan of the store.
 * - A store that cannot answer throws `StoreUnavailableError` within its timeout; it never
 *   hangs and never pretends a session exists.
 */

import { InvalidPayloadError } from '../errors.js';

export interface StoredSession {
  /** Session id (`sid` claim): at least 128 random bits, base64url. */
  readonly id: string;
  /** Grouping key (e.g. a user id) for listing and revoking; immutable for a session's life. */
  readonly namespace: string | null;
  /** Bumped by every write except `touch`; the compare-and-swap token. Starts at 1. */
  readonly version: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  /** The instant the session ends (refresh expiry, idle or absolute deadline, whichever first). */
  readonly expiresAt: number;
  /** Set by `revokeNamespaceAccess`: the current access token is dead, the refresh token lives. */
  readonly accessRevoked: boolean;
  /** Engine-owned serialized state; stores keep it verbatim. */
  readonly data: string;
}

/** Where a page of `listNamespacePage` starts: after this position (null: from the start). */
export interface NamespacePage {
  limit: number;
  after: { createdAt: number; id: string } | null;
}

export interface Store {
  /** Inserts a new session (version 1). Ids are random; a clash is a programming error. */
  create(session: StoredSession): Promise<void>;

  /** The live session with this id, or null when absent or expired at `now`. */
  get(id: string, now: number): Promise<StoredSession | null>;

  /**
   * Optional: `get`, answered synchronously when the answer is at hand without I/O (a memory
   * lookup, a live-cache hit), else the same promise `get` returns. Strict verification uses it
   * to finish without a promise hop.
   */
  getEager?(id: string, now: number): StoredSession | null | Promise<StoredSession | null>;

  /**
   * Compare-and-swap: writes `next` (whose `version` must be `expectedVersion + 1`) only if the
   * session exists, is live at `now`, and its version is still `expectedVersion`.
   * Resolves true when written, false when the session changed, vanished or expired.
   */
  replace(next: StoredSession, expectedVersion: number, now: number): Promise<boolean>;

  /**
   * Records use: sets `lastUsedAt` and `expiresAt` of a live session without bumping its version.
   * A missing or expired session stays missing (no resurrection).
   */
  touch(id: string, lastUsedAt: number, expiresAt: number, now: number): Promise<void>;

  /** Deletes one session; resolves how many were live and are now gone (0 or 1). */
  delete(id: string, now: number): Promise<number>;

  /** Deletes every session of a namespace; resolves how many live ones ended. */
  deleteNamespace(namespace: string, now: number): Promise<number>;

  /** Deletes every session this store holds (under its prefix/table); resolves how many were live. */
  deleteAll(now: number): Promise<number>;

  /**
   * Marks the current access token of every live session in a namespace as revoked (sets
   * `accessRevoked`, bumps `version`); refresh tokens keep working. Resolves the count marked.
   */
  revokeNamespaceAccess(namespace: string, now: number): Promise<number>;

  /** The live sessions of a namespace, in creation order. */
  listNamespace(namespace: string, now: number): Promise<StoredSession[]>;

  /**
   * Optional: up to `limit` live sessions of a namespace that come after `after` in the order
   * (createdAt, id), in that order — one page read without the rest of the namespace. Stores
   * without it are paged by the engine over `listNamespace`.
   */
  listNamespacePage?(namespace: string, now: number, page: NamespacePage): Promise<StoredSession[]>;

  /**
   * Optional: `create` and the session cap (`maxSessionsPerNamespace`) as one atomic step. Inserts
   * `session` (whose namespace is not null) and ends the namespace's least recently used live
   * sessions beyond `cap` — ranked by `lastUsedAt`, then `createdAt`, then id, all descending — the
   * new session counted (as the most recently used, it stays). Resolves the ids it ended. Of racing
   * calls on one namespace, on any number of instances, each sees the sessions the others stored
   * first, so `cap` sessions are left. A store without it gets the engine's create-then-trim,
   * exact under concurrency too, but a crash between the two leaves one session over the cap.
   */
  createCapped?(session: StoredSession, cap: number, now: number): Promise<string[]>;

  /**
   * Optional, beside `createCapped` on a store that spreads one namespace over shards: whether a
   * session with this id lives where `createCapped` of `namespace` sees the namespace's other capped
   * sessions. The engine draws random ids until one is accepted.
   */
  acceptsCappedId?(id: string, namespace: string): boolean;

  /**
   * Replay cache (DPoP proof `jti`s, RFC 9449 §11.1): records `key` until `expiresAt` unless an
   * entry with that key is live at `now` (`expiresAt > now`). Atomic across every client of the
   * store: of racing calls with one key, on any number of instances, exactly one resolves true.
   * Resolves true on first use, false when the key was already seen. Expired entries are reclaimed
   * like expired sessions. Bad input (see {@link assertReplayEntry}) is an `InvalidPayloadError`.
   */
  markProofUsed(key: string, expiresAt: number, now: number): Promise<boolean>;

  /** Releases connections/timers. The store is unusable afterwards. */
  close(): Promise<void>;
}

/** Longest replay-cache key (the token layer uses 43-character SHA-256 digests). */
export const MAX_REPLAY_KEY_LENGTH = 128;

/**
 * Validates a replay-cache entry (shared by every store): a key of 1-128 printable ASCII
 * characters, integer millisecond times, and an expiry after `now`.
 */
export function assertReplayEntry(key: string, expiresAt: number, now: number): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_REPLAY_KEY_LENGTH) {
    throw new InvalidPayloadError(`replay key must be a string of 1-${MAX_REPLAY_KEY_LENGTH} characters`);
  }
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) throw new InvalidPayloadError('replay key must be printable ASCII');
  }
  if (!Number.isSafeInteger(expiresAt) || !Number.isSafeInteger(now)) {
    throw new InvalidPayloadError('replay times must be integer milliseconds');
  }
  if (expiresAt <= now) throw new InvalidPayloadError('replay entry must expire after now');
}

/** Validates the shape of a record handed to `create`/`replace` (shared by every store). */
export function assertStoredSession(session: StoredSession): void {
  const ok =
    typeof session.id === 'string' &&
    session.id.length > 0 &&
    session.id.length <= 128 &&
    (session.namespace === null ||
      (typeof session.namespace === 'string' && session.namespace.length <= 256)) &&
    Number.isSafeInteger(session.version) &&
    session.version >= 1 &&
    Number.isSafeInteger(session.createdAt) &&
    Number.isSafeInteger(session.lastUsedAt) &&
    Number.isSafeInteger(session.expiresAt) &&
    typeof session.accessRevoked === 'boolean' &&
    typeof session.data === 'string';
  if (!ok) throw new TypeError('invalid StoredSession record');
}

/** Most recently used first; ties by creation time, then id: the order every store ranks by for the cap. */
export function byRecentUse(a: StoredSession, b: StoredSession): number {
  return b.lastUsedAt - a.lastUsedAt || b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The sessions a cap of `cap` ends among `live` (one namespace's live sessions), least recently used last. */
export function sessionsBeyondCap(live: StoredSession[], cap: number): StoredSession[] {
  return live.length <= cap ? [] : [...live].sort(byRecentUse).slice(cap);
}

/** `createCapped`'s arguments: a valid session with a namespace, a positive integer cap. */
export function assertCappedCreate(
  session: StoredSession,
  cap: number,
): asserts session is StoredSession & { namespace: string } {
  assertStoredSession(session);
  if (session.namespace === null) throw new TypeError('createCapped needs a session with a namespace');
  if (!Number.isSafeInteger(cap) || cap < 1) throw new TypeError('cap must be a positive integer');
}

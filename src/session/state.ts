import { SessionError } from '../errors.js';
import { BoundedMap } from '../tokens/bounded-map.js';
import type { Payload } from './types.js';

/**
 * What the engine keeps in a store record's opaque `data`. Short keys: it is written on every
 * login and refresh, and Redis/SQL keep it per session.
 *
 * Enough is kept to re-sign the current generation's tokens byte-for-byte (same claims), which
 * the reuse grace window hands out again; token strings themselves are never stored.
 */
export interface SessionState {
  /** Access payload (user claims). */
  p: Payload;
  /** Refresh payload (user claims). */
  rp: Payload;
  /** Current refresh generation id, its iat and exp (seconds). */
  g: string;
  gi: number;
  ge: number;
  /** Immediate predecessor generation and until when (ms) it may be replayed for the current one. */
  pg: string | null;
  pgu: number;
  /** Current access token id, its iat and exp (seconds). */
  a: string;
  ai: number;
  ae: number;
  /** Previous access id kept valid until `pau` (ms) after a sliding renewal. */
  pa: string | null;
  pau: number;
  /** CSRF secret (base64url). */
  c: string;
  /**
   * The CSRF secret a refresh replaced, and until when (ms) logout still accepts it: a logout
   * racing a refresh carries the old one. Absent in records written before it existed.
   */
  pc?: string | null;
  pcu?: number;
  /**
   * The access token id the latest renewal replaced: logout still accepts it (until its own
   * `exp`), so a logout racing a refresh ends the session. Absent in older records.
   */
  ra?: string | null;
  /** Refresh by access allowed. */
  rba: boolean;
  /** Per-session access and refresh lifetimes (seconds). */
  at: number;
  rt: number;
  /** Absolute deadline (ms) or null. */
  ad: number | null;
  /** When the last refresh of this session happened (ms); coalesces racing refreshes without rotation. */
  rf: number;
  ip: string | null;
  ua: string | null;
  /** DPoP binding: the RFC 7638 thumbprint of the key the session is bound to. Absent when unbound. */
  k?: string;
}

/** Decoded states by record object, with the `data` they were decoded from. */
const decodedStates = new WeakMap<object, { data: string; state: SessionState }>();
/**
 * Decoded states by session id, with the text each was decoded from: a store without a cache of its
 * own (Redis without the live cache, SQL) reads a new record object per call, but the same text
 * until the session changes. The id only picks the candidate (a short string, usually the token's
 * `sid` with its hash already computed); the text must be equal, compared rather than hashed (a
 * lookup by the text hashed all of it, a few hundred characters, on every such read). Bounded,
 * oldest out first; decoding is a pure function of the text, so sharing it is safe.
 */
const statesById = new BoundedMap<{ data: string; state: SessionState }>(1024);

/**
 * `decodeState(record.data)`, decoded once per record object — the stores hand out the same record
 * object until the session changes (a new version or a touch stores a new object), so verifying
 * with a cached record parses nothing — and once per text for records read afresh. Checked
 * against `data` in case a store reuses the object. The state is frozen: it is shared by every
 * call that reads this record.
 */
export function recordState(record: { readonly id: string; readonly data: string }): SessionState {
  const data = record.data;
  const cached = decodedStates.get(record);
  if (cached !== undefined && cached.data === data) return cached.state;
  const known = statesById.get(record.id);
  // A record read afresh whose text is known: no per-record entry (a WeakMap entry costs the
  // garbage collector more than the lookup by id it would save on a record used once).
  if (known !== undefined && known.data === data) return known.state;
  const state = Object.freeze(decodeState(data));
  const decoded = { data, state };
  statesById.add(record.id, decoded);
  decodedStates.set(record, decoded);
  return state;
}

export function encodeState(state: SessionState): string {
  return JSON.stringify(state);
}

/**
 * Reads a record's state. A record this engine cannot read (corrupted, or written by something
 * else under the same prefix) is treated as no session: fail closed with a typed error, never an
 * exception that would surface as a 500.
 */
export function decodeState(data: string): SessionState {
  let state: unknown;
  try {
    state = JSON.parse(data);
  } catch {
    state = undefined;
  }
  const s = state as Partial<SessionState> | undefined;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.g !== 'string' ||
    typeof s.a !== 'string' ||
    typeof s.c !== 'string' ||
    typeof s.ge !== 'number' ||
    typeof s.ae !== 'number'
  ) {
    throw new SessionError('session_not_found', 'session record is unreadable');
  }
  return s as SessionState;
}

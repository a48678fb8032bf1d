import { DEFAULT_MAX_REPLAY_ENTRIES, MemoryReplayCache } from './memory-replay.js';
import {
  assertCappedCreate,
  assertReplayEntry,
  assertStoredSession,
  type Store,
  type StoredSession,
  sessionsBeyondCap,
} from './store.js';

/** One heap entry per stored session: when to look at it again. */
interface ExpiryEntry {
  at: number;
  id: string;
}

/** A binary min-heap on `at`; small and allocation-light. */
class ExpiryHeap {
  readonly #items: ExpiryEntry[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): ExpiryEntry | undefined {
    return this.#items[0];
  }

  push(entry: ExpiryEntry): void {
    const items = this.#items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= entry.at) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = entry;
  }

  pop(): ExpiryEntry | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    this.#siftDown(0, last);
    return top;
  }

  /** Replaces the contents with `entries` in O(n) (bottom-up heapify). */
  rebuild(entries: ExpiryEntry[]): void {
    const items = this.#items;
    items.length = 0;
    for (const entry of entries) items.push(entry);
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.#siftDown(i, items[i]!);
  }

  /** Places `entry` at `start` or below it, moving smaller children up. */
  #siftDown(start: number, entry: ExpiryEntry): void {
    const items = this.#items;
    const n = items.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right]!.at < items[left]!.at ? right : left;
      if (items[child]!.at >= entry.at) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = entry;
  }

  clear(): void {
    this.#items.length = 0;
  }
}

/**
 * Stale heap entries (of deleted or rescheduled sessions) tolerated beyond the live ones before the
 * heap is rebuilt from the scheduled deadlines. A rebuild costs O(live + creates since the last one)
 * and comes after at least (live + slack) / 2 deletes or reschedules, so it is amortised O(1); the
 * heap never exceeds 2 x sessions + this slack.
 */
const HEAP_SLACK = 64;

export interface MemoryStoreOptions {
  /** Upper bound on expired records reclaimed per operation (amortises the sweep). Default 64. */
  sweepBatch?: number;
  /** Bound of the DPoP replay cache; past it (all entries live) `markProofUsed` fails closed. Default 1e6. */
  maxReplayEntries?: number;
}

/**
 * The embedded default store: a Map per process. Every operation runs synchronously inside one
 * tick, so each is atomic with respect to other async callers. Expired sessions are reclaimed
 * lazily from a min-heap of deadlines (no timer per session), so memory follows the live sessions.
 * Single-process only: use Redis or SQL to share sessions between processes.
 */
export class MemoryStore implements Store {
  readonly #sessions = new Map<string, StoredSession>();
  readonly #namespaces = new Map<string, Set<string>>();
  /** The deadline each session's heap entry carries; a session has exactly one entry. */
  readonly #scheduled = new Map<string, number>();
  readonly #heap = new ExpiryHeap();
  readonly #sweepBatch: number;
  #closed = false;
  readonly #replay: MemoryReplayCache;

  constructor(options: MemoryStoreOptions = {}) {
    this.#sweepBatch = options.sweepBatch ?? 64;
    this.#replay = new MemoryReplayCache(
      options.maxReplayEntries ?? DEFAULT_MAX_REPLAY_ENTRIES,
      this.#sweepBatch,
    );
  }

  /** Replay-cache entries held (expired ones may linger until swept). */
  get replayEntries(): number {
    return this.#replay.size;
  }

  markProofUsed(key: string, expiresAt: number, now: number): Promise<boolean> {
    try {
      this.#open();
      assertReplayEntry(key, expiresAt, now);
      return Promise.resolve(this.#replay.mark(key, expiresAt, now));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Live sessions held (expired ones may linger until swept); for tests and metrics. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Entries in the expiry heap, stale ones included (diagnostic: at most 2 x size + a constant). */
  get heapEntries(): number {
    return this.#heap.size;
  }

  create(session: StoredSession): Promise<void> {
    try {
      this.#insert(session);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Insert and trim in one synchronous step: nothing can run in between. */
  createCapped(session: StoredSession, cap: number, now: number): Promise<string[]> {
    try {
      assertCappedCreate(session, cap);
      this.#insert(session);
      const ids = this.#namespaces.get(session.namespace) ?? new Set<string>();
      const live: StoredSession[] = [];
      for (const id of ids) {
        const current = this.#live(id, now);
        if (current !== null) live.push(current);
      }
      const ended = sessionsBeyondCap(live, cap).map((beyond) => beyond.id);
      for (const id of ended) this.#remove(id);
      return Promise.resolve(ended);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #insert(session: StoredSession): void {
    this.#open();
    assertStoredSession(session);
    this.#sweep(session.createdAt);
    if (this.#sessions.has(session.id)) throw new Error(`session id clash: ${session.id}`);
    this.#sessions.set(session.id, { ...session });
    if (session.namespace !== null) {
      let ids = this.#namespaces.get(session.namespace);
      if (ids === undefined) {
        ids = new Set();
        this.#namespaces.set(session.namespace, ids);
      }
      ids.add(session.id);
    }
    this.#schedule(session.id, session.expiresAt);
  }

  get(id: string, now: number): Promise<StoredSession | null> {
    return Promise.resolve(this.#read(id, now));
  }

  getEager(id: string, now: number): StoredSession | null | Promise<StoredSession | null> {
    // A `get` replaced on the instance (a wrapper, fault injection) stays the one source of truth.
    if (this.get !== MemoryStore.prototype.get) return this.get(id, now);
    return this.#read(id, now);
  }

  #read(id: string, now: number): StoredSession | null {
    this.#open();
    this.#sweep(now);
    return this.#live(id, now);
  }

  replace(next: StoredSession, expectedVersion: number, now: number): Promise<boolean> {
    this.#open();
    assertStoredSession(next);
    this.#sweep(now);
    const current = this.#live(next.id, now);
    if (current === null || current.version !== expectedVersion || next.version !== expectedVersion + 1) {
      return Promise.resolve(false);
    }
    // The namespace is immutable: keep the stored one whatever the caller passed.
    this.#sessions.set(next.id, { ...next, namespace: current.namespace });
    this.#schedule(next.id, next.expiresAt);
    return Promise.resolve(true);
  }

  touch(id: string, lastUsedAt: number, expiresAt: number, now: number): Promise<void> {
    this.#open();
    this.#sweep(now);
    const current = this.#live(id, now);
    if (current !== null) {
      this.#sessions.set(id, { ...current, lastUsedAt, expiresAt });
      this.#schedule(id, expiresAt);
    }
    return Promise.resolve();
  }

  delete(id: string, now: number): Promise<number> {
    this.#open();
    this.#sweep(now);
    const live = this.#live(id, now) !== null;
    this.#remove(id);
    return Promise.resolve(live ? 1 : 0);
  }

  deleteNamespace(namespace: string, now: number): Promise<number> {
    this.#open();
    this.#sweep(now);
    const ids = this.#namespaces.get(namespace);
    let count = 0;
    if (ids !== undefined) {
      for (const id of [...ids]) {
        if (this.#live(id, now) !== null) count++;
        this.#remove(id);
      }
    }
    return Promise.resolve(count);
  }

  deleteAll(now: number): Promise<number> {
    this.#open();
    let count = 0;
    for (const session of this.#sessions.values()) if (session.expiresAt > now) count++;
    this.#sessions.clear();
    this.#namespaces.clear();
    this.#scheduled.clear();
    this.#heap.clear();
    return Promise.resolve(count);
  }

  revokeNamespaceAccess(namespace: string, now: number): Promise<number> {
    this.#open();
    this.#sweep(now);
    const ids = this.#namespaces.get(namespace);
    let count = 0;
    if (ids !== undefined) {
      for (const id of ids) {
        const current = this.#live(id, now);
        if (current === null) continue;
        this.#sessions.set(id, { ...current, accessRevoked: true, version: current.version + 1 });
        count++;
      }
    }
    return Promise.resolve(count);
  }

  listNamespace(namespace: string, now: number): Promise<StoredSession[]> {
    this.#open();
    this.#sweep(now);
    const ids = this.#namespaces.get(namespace);
    const sessions: StoredSession[] = [];
    if (ids !== undefined) {
      for (const id of ids) {
        const current = this.#live(id, now);
        if (current !== null) sessions.push(current);
      }
    }
    sessions.sort((a, b) => a.createdAt - b.createdAt);
    return Promise.resolve(sessions);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#replay.clear();
    this.#sessions.clear();
    this.#namespaces.clear();
    this.#scheduled.clear();
    this.#heap.clear();
    return Promise.resolve();
  }

  #open(): void {
    if (this.#closed) throw new Error('MemoryStore is closed');
  }

  #live(id: string, now: number): StoredSession | null {
    const session = this.#sessions.get(id);
    return session !== undefined && session.expiresAt > now ? session : null;
  }

  /** Keeps one heap entry per session, moved earlier only when a deadline shrinks. */
  #schedule(id: string, expiresAt: number): void {
    const scheduled = this.#scheduled.get(id);
    if (scheduled !== undefined && scheduled <= expiresAt) return;
    this.#scheduled.set(id, expiresAt);
    this.#heap.push({ at: expiresAt, id });
    this.#compactIfStale();
  }

  #remove(id: string): void {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    this.#sessions.delete(id);
    this.#scheduled.delete(id);
    if (session.namespace !== null) {
      const ids = this.#namespaces.get(session.namespace);
      ids?.delete(id);
      if (ids !== undefined && ids.size === 0) this.#namespaces.delete(session.namespace);
    }
    this.#compactIfStale();
  }

  /**
   * Deleted sessions and shortened deadlines leave stale heap entries behind until their old
   * deadline: when they outnumber the scheduled ones, rebuild the heap from `#scheduled` (exactly
   * one entry per session) so memory follows the live sessions, not the recent churn.
   */
  #compactIfStale(): void {
    if (this.#heap.size <= 2 * this.#scheduled.size + HEAP_SLACK) return;
    const entries: ExpiryEntry[] = [];
    for (const [id, at] of this.#scheduled) entries.push({ at, id });
    this.#heap.rebuild(entries);
  }

  /** Reclaims up to `sweepBatch` sessions whose deadline has passed. */
  #sweep(now: number): void {
    for (let budget = this.#sweepBatch; budget > 0; budget--) {
      const top = this.#heap.peek();
      if (top === undefined || top.at > now) return;
      this.#heap.pop();
      if (this.#scheduled.get(top.id) !== top.at) continue; // stale entry: the session is gone or rescheduled
      const session = this.#sessions.get(top.id);
      if (session === undefined) {
        this.#scheduled.delete(top.id);
      } else if (session.expiresAt <= now) {
        this.#remove(top.id);
      } else {
        // Extended since scheduled: look again at the new deadline.
        this.#scheduled.set(top.id, session.expiresAt);
        this.#heap.push({ at: session.expiresAt, id: top.id });
      }
    }
  }
}

import { StoreUnavailableError } from '../errors.js';

/** Default bound of the in-memory replay cache (about 100 bytes an entry). */
export const DEFAULT_MAX_REPLAY_ENTRIES = 1_000_000;

/**
 * The `MemoryStore`'s replay cache: key -> expiry in a Map. Entries are inserted with expiries a
 * fixed window ahead, so insertion order is close to expiry order and expired entries are reclaimed
 * from the front, a few per call; a full sweep runs only when the bound is reached. When every
 * entry is still live at the bound, the cache fails closed (`store_unavailable`) rather than forget
 * a live entry, which would let a proof be replayed.
 */
export class MemoryReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #sweepBatch: number;

  constructor(maxEntries: number, sweepBatch: number) {
    this.#max = maxEntries;
    this.#sweepBatch = sweepBatch;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True when `key` was not live at `now` and is now recorded until `expiresAt`. */
  mark(key: string, expiresAt: number, now: number): boolean {
    const entries = this.#entries;
    let budget = this.#sweepBatch;
    for (const [oldest, at] of entries) {
      if (at > now || budget-- === 0) break;
      entries.delete(oldest);
    }
    const current = entries.get(key);
    if (current !== undefined && current > now) return false;
    entries.delete(key);
    if (entries.size >= this.#max) {
      for (const [k, at] of entries) if (at <= now) entries.delete(k);
      if (entries.size >= this.#max) throw new StoreUnavailableError('replay cache is full');
    }
    entries.set(key, expiresAt);
    return true;
  }

  clear(): void {
    this.#entries.clear();
  }
}

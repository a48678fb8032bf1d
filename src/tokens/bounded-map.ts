/**
 * A string-keyed map that holds at most `capacity` entries, the oldest out first (a Map iterates
 * in insertion order: its first key is the oldest). For in-process caches of pure results — the
 * codec's verified tokens, decoded session states, prepared DPoP proof keys — where a miss only
 * costs recomputing. `refresh` moves an entry to the newest end (for least-recently-used order).
 */
export class BoundedMap<V> {
  readonly #entries = new Map<string, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Adds (or replaces) an entry; when full, the oldest entry makes room. */
  add(key: string, value: V): void {
    const entries = this.#entries;
    if (entries.size >= this.#capacity && !entries.has(key)) {
      entries.delete(entries.keys().next().value as string);
    }
    entries.set(key, value);
  }

  /** Makes `key` the newest entry (a hit in least-recently-used order). */
  refresh(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

/**
 * The live revocation cache: an in-process, size-bounded cache of sessions read from Redis, kept
 * fresh by invalidations every store instance publishes on `<prefix>inv` from inside its write
 * scripts (so an invalidation is atomic with the write it announces). With it, strict verification
 * (the engine's `store.get`) costs no round trip while the session does not change.
 *
 * Protocol (messages on the channel):
 *   i:<id>   session <id> changed or ended (replace, touch, delete, namespace revoke/delete)
 *   a        every session may have changed (deleteAll)
 *   h:<iid>  heartbeat of the store instance <iid> (each instance publishes its own)
 *
 * Fail closed: the cache is consulted only while it is *live*: subscribed, and this instance's own
 * heartbeat came back through Redis within `maxSilence` ms. A dropped subscription (connection
 * closed, subscriber being re-selected, cluster bus trouble, a blocked event loop) makes it not
 * live at once or within `maxSilence`: it is flushed and every `get` goes to Redis until it is
 * subscribed again and a fresh heartbeat has arrived (then it is flushed again and refills).
 *
 * Read/invalidate race: a `get` reply can be overtaken by the invalidation of a write that ran
 * right after it on the server (they travel on different connections). Each in-flight read holds
 * a ticket; an invalidation of its id (or any flush) spoils the ticket, and a spoiled read's
 * result is returned but not cached.
 */
import { randomBytes } from 'node:crypto';
import { ConfigurationError } from '../../errors.js';
import type { StoredSession } from '../store.js';
import type { RedisClient } from './client.js';

export interface LiveCacheOptions {
  /**
   * A dedicated connection for the subscription (it enters subscriber mode). Default: a
   * `duplicate()` of the store's client, closed with the store.
   */
  subscriber?: RedisClient;
  /** Sessions kept at most (least recently used evicted first). Default 10,000. */
  maxEntries?: number;
  /** An entry older than this is re-read from Redis (defence in depth). Default 60,000 ms. */
  maxAge?: number;
  /** How often this instance publishes its heartbeat. Default 1,000 ms. */
  heartbeatInterval?: number;
  /** The cache is bypassed when the last own heartbeat came back longer ago. Default 3 × interval. */
  maxSilence?: number;
}

interface Entry {
  session: StoredSession;
  storedAt: number;
}

/** An in-flight read: cached on completion only if nothing invalidated it meanwhile. */
export interface ReadTicket {
  readonly id: string;
  readonly epoch: number;
  spoiled: boolean;
}

export interface LiveCacheStats {
  live: boolean;
  size: number;
  hits: number;
  misses: number;
  bypassed: number;
  invalidations: number;
  flushes: number;
}

export class LiveCache {
  readonly #subscriber: RedisClient;
  readonly #ownsSubscriber: boolean;
  readonly #channel: string;
  readonly #publish: (message: string) => Promise<unknown>;
  readonly #maxEntries: number;
  readonly #maxAge: number;
  readonly #heartbeatInterval: number;
  readonly #maxSilence: number;
  readonly #instance = randomBytes(9).toString('base64url');
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Set<ReadTicket>>();
  #epoch = 0;
  #subscribed = false;
  #lastBeat = Number.NEGATIVE_INFINITY;
  #wasLive = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #stats = { hits: 0, misses: 0, bypassed: 0, invalidations: 0, flushes: 0 };

  readonly #onMessage = (channel: string | Buffer, message: string | Buffer): void => {
    if (String(channel) !== this.#channel) return;
    const text = String(message);
    if (text.startsWith('i:')) this.invalidate(text.slice(2));
    else if (text === 'a') this.flush();
    else if (text === `h:${this.#instance}`) this.#lastBeat = Date.now();
  };
  readonly #onDown = (): void => {
    this.#subscribed = false;
    this.#lastBeat = Number.NEGATIVE_INFINITY;
    this.#checkLive();
  };
  readonly #onReady = (): void => {
    this.#subscribe();
  };
  readonly #onError = (): void => {
    // Connection errors surface as 'close'/'end'; nothing to do but not crash.
  };

  constructor(
    subscriber: RedisClient,
    ownsSubscriber: boolean,
    channel: string,
    publish: (message: string) => Promise<unknown>,
    options: LiveCacheOptions,
  ) {
    this.#subscriber = subscriber;
    this.#ownsSubscriber = ownsSubscriber;
    this.#channel = channel;
    this.#publish = publish;
    this.#maxEntries = positive('liveCache.maxEntries', options.maxEntries, 10_000);
    this.#maxAge = positive('liveCache.maxAge', options.maxAge, 60_000);
    this.#heartbeatInterval = positive('liveCache.heartbeatInterval', options.heartbeatInterval, 1000);
    this.#maxSilence = positive('liveCache.maxSilence', options.maxSilence, 3 * this.#heartbeatInterval);

    subscriber.on('message', this.#onMessage);
    subscriber.on('error', this.#onError);
    subscriber.on('close', this.#onDown);
    subscriber.on('end', this.#onDown);
    subscriber.on('reconnecting', this.#onDown);
    subscriber.on('ready', this.#onReady);
    if (subscriber.status === 'ready') this.#subscribe();
    else if (subscriber.status === 'wait') subscriber.connect().catch(() => undefined);

    this.#timer = setInterval(() => this.#beat(), this.#heartbeatInterval);
    this.#timer.unref();
  }

  /** True while invalidations are known to flow: cached answers are trustworthy. */
  get live(): boolean {
    return this.#checkLive();
  }

  stats(): LiveCacheStats {
    return { live: this.live, size: this.#entries.size, ...this.#stats };
  }

  /**
   * The cached answer for `id` at `now`: the session, `null` (cached but expired at `now`), or
   * `undefined` when Redis must be asked (not cached, too old, or the cache is not live).
   */
  lookup(id: string, now: number): StoredSession | null | undefined {
    if (!this.#checkLive()) {
      this.#stats.bypassed++;
      return undefined;
    }
    const entry = this.#entries.get(id);
    if (entry === undefined || Date.now() - entry.storedAt > this.#maxAge) {
      if (entry !== undefined) this.#entries.delete(id);
      this.#stats.misses++;
      return undefined;
    }
    this.#stats.hits++;
    // Refresh recency (Map keeps insertion order: the first key is the least recently used).
    this.#entries.delete(id);
    if (entry.session.expiresAt <= now) return null;
    this.#entries.set(id, entry);
    return entry.session;
  }

  /** Registers a read about to be sent to Redis. */
  begin(id: string): ReadTicket {
    const ticket: ReadTicket = { id, epoch: this.#epoch, spoiled: false };
    let set = this.#pending.get(id);
    if (set === undefined) {
      set = new Set();
      this.#pending.set(id, set);
    }
    set.add(ticket);
    return ticket;
  }

  /** Completes a read: caches the session unless the read was overtaken by an invalidation. */
  end(ticket: ReadTicket, session: StoredSession | null): void {
    this.#release(ticket);
    if (session === null || ticket.spoiled || ticket.epoch !== this.#epoch || !this.#checkLive()) return;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(session.id, { session: Object.freeze({ ...session }), storedAt: Date.now() });
  }

  /** A read that failed: nothing to cache. */
  cancel(ticket: ReadTicket): void {
    this.#release(ticket);
  }

  /** Drops `id` and spoils reads of it in flight (a write to it happened or is happening). */
  invalidate(id: string): void {
    this.#stats.invalidations++;
    this.#entries.delete(id);
    const pending = this.#pending.get(id);
    if (pending !== undefined) for (const ticket of pending) ticket.spoiled = true;
  }

  /** Drops everything and spoils every read in flight. */
  flush(): void {
    this.#stats.flushes++;
    this.#epoch++;
    this.#entries.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#subscribed = false;
    this.flush();
    const subscriber = this.#subscriber;
    subscriber.off('message', this.#onMessage);
    subscriber.off('close', this.#onDown);
    subscriber.off('end', this.#onDown);
    subscriber.off('reconnecting', this.#onDown);
    subscriber.off('ready', this.#onReady);
    if (this.#ownsSubscriber) {
      subscriber.disconnect();
    } else {
      await subscriber.unsubscribe(this.#channel).catch(() => undefined);
    }
    subscriber.off('error', this.#onError);
  }

  #release(ticket: ReadTicket): void {
    const set = this.#pending.get(ticket.id);
    if (set === undefined) return;
    set.delete(ticket);
    if (set.size === 0) this.#pending.delete(ticket.id);
  }

  #subscribe(): void {
    if (this.#closed) return;
    this.#subscriber.subscribe(this.#channel).then(
      () => {
        if (this.#closed) return;
        this.#subscribed = true;
        this.flush(); // anything cached before the gap may be stale
        this.#beat();
      },
      () => {
        // Retried on the next 'ready'.
      },
    );
  }

  #beat(): void {
    this.#checkLive();
    if (this.#closed || !this.#subscribed) return;
    this.#publish(`h:${this.#instance}`).catch(() => undefined);
  }

  #checkLive(): boolean {
    const live = this.#subscribed && !this.#closed && Date.now() - this.#lastBeat <= this.#maxSilence;
    if (live !== this.#wasLive) {
      // Either edge: whatever was cached (or is being read) may have missed an invalidation.
      this.flush();
      this.#wasLive = live;
    }
    return live;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigurationError(`${name} must be a positive integer`);
  return value;
}

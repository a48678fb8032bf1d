/**
 * The live revocation cache: an in-process, size-bounded cache of sessions read from Redis or
 * written by this instance, kept fresh by invalidations every store instance publishes on
 * `<prefix>inv` from inside its write scripts (so an invalidation is atomic with the write it
 * announces). With it, strict verification (the engine's `store.get`) costs no round trip while
 * the session does not change, and a refresh costs only its compare-and-swap: the instance that
 * wrote a session caches the record it wrote.
 *
 * Protocol (messages on the channel; `<id>` last, since ids are opaque strings):
 *   w:<v>:<id>          session <id> was fully rewritten and now has version <v> (replace, access
 *                       revocation). Every version is produced by exactly one write (replace is a
 *                       compare-and-swap on the version, revocation increments it), so a cached
 *                       record of version >= <v> already includes this write: only older ones go.
 *   t:<v>:<u>:<e>:<id>  session <id> at version <v> got lastUsedAt <u> and expiresAt <e> (touch):
 *                       drops a cached record of version <= <v> unless it holds exactly these times.
 *   i:<id>              session <id> ended (delete, namespace delete): always dropped.
 *   a                   every session may have changed (deleteAll): everything dropped.
 *   h:<iid>             heartbeat of the store instance <iid> (each instance publishes its own).
 *
 * Fail closed: the cache is consulted only while it is *live*: subscribed, and this instance's own
 * heartbeat came back through Redis within `maxSilence` ms. A dropped subscription (connection
 * closed, subscriber being re-selected, cluster bus trouble, a blocked event loop) makes it not
 * live at once or within `maxSilence`: it is flushed and every `get` goes to Redis until it is
 * subscribed again and a fresh heartbeat has arrived (then it is flushed again and refills).
 *
 * Races: a read's reply, or a write's, can be overtaken by the invalidation of a write that ran
 * right after it on the server (replies and messages travel on different connections). Each read
 * or own write in flight holds a ticket that collects the invalidations of its id; on completion
 * its record is cached only if none of them outdates it (the same rule as for cached records) and
 * nothing was flushed meanwhile. A local write spoils the tickets of reads of its id in flight, and
 * a read never replaces a cached record of a higher version, so this instance never serves the
 * record its own write just replaced. Invalidations describing writes older than a record (late
 * deliveries) leave it alone; so does the late echo of this instance's own touch (see `#echoes`).
 * Only touches can be mistaken for one another (same version, other times), and a touch never
 * revokes anything: a `w:` or `i:` invalidation is never skipped.
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
  /** `echoesBefore` of the operation that brought it: the own-touch echoes it already reflects. */
  echoesBefore: number;
  /** `#placements` when it was last (re)inserted at the most recent end of `#entries`. */
  placedAt: number;
}

/** An own touch whose invalidation has not come back yet; `seq` numbers registrations. */
interface Echo {
  change: SessionChange;
  seq: number;
}

/** Own-touch echoes remembered per session; forgetting one only costs a cache miss. */
const MAX_ECHOES_PER_SESSION = 8;

/** What an invalidation says happened to a session (see the protocol above). */
export type SessionChange =
  | { readonly kind: 'ended' }
  | { readonly kind: 'written'; readonly version: number }
  | {
      readonly kind: 'touched';
      readonly version: number;
      readonly lastUsedAt: number;
      readonly expiresAt: number;
    };

/** Changes a ticket remembers at most; past that it is spoiled (a hot session: read it again). */
const MAX_TICKET_CHANGES = 16;

/** A read or own write in flight: its record is cached on completion only if nothing outdates it. */
export interface ReadTicket {
  readonly id: string;
  readonly epoch: number;
  spoiled: boolean;
  readonly changes: SessionChange[];
  /** The own-touch echoes registered before this ticket began (see `#echoes`). */
  readonly echoesBefore: number;
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
  /** Insertions at the recent end of `#entries` so far: how far an entry has drifted toward eviction. */
  #placements = 0;
  readonly #pending = new Map<string, Set<ReadTicket>>();
  /**
   * Own touches whose invalidation has not come back yet, per id in registration order. Touches
   * of one version differ only by their times, so a late echo of this instance's previous touch
   * would otherwise outdate the record its next touch (or read) of the same session brings back.
   * Messages of one session arrive in the order Redis ran the writes, so the first message equal
   * to a registered echo is that echo; it describes a write that completed before anything begun
   * after its registration, so the records and tickets of such operations ignore it.
   */
  readonly #echoes = new Map<string, Echo[]>();
  #echoSeq = 0;
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
    if (text === `h:${this.#instance}`) this.#lastBeat = Date.now();
    else if (text === 'a') this.flush();
    else if (!text.startsWith('h:')) {
      const parsed = parseInvalidation(text);
      // Unreadable: whatever it named cannot be trusted any more.
      if (parsed === null) this.flush();
      else this.#apply(parsed.id, parsed.change);
    }
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

  /** The cached record of `id` while the cache is live and the record fresh; no stats, no recency. */
  peek(id: string): StoredSession | undefined {
    if (!this.#checkLive()) return undefined;
    const entry = this.#entries.get(id);
    return entry !== undefined && Date.now() - entry.storedAt <= this.#maxAge ? entry.session : undefined;
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
    if (entry.session.expiresAt <= now) {
      this.#entries.delete(id);
      return null;
    }
    // Refresh recency (Map keeps insertion order: the first key is the least recently used), but
    // only once the entry is in the older half: fewer than size/2 placements since its own, it is
    // far from eviction, and a hot session then costs no Map delete + set per hit.
    if (this.#placements - entry.placedAt > this.#entries.size >> 1) {
      this.#entries.delete(id);
      entry.placedAt = ++this.#placements;
      this.#entries.set(id, entry);
    }
    return entry.session;
  }

  /** Registers a read (or a write of this instance) about to be sent to Redis. */
  begin(id: string): ReadTicket {
    const ticket: ReadTicket = {
      id,
      epoch: this.#epoch,
      spoiled: false,
      changes: [],
      echoesBefore: this.#echoSeq,
    };
    let set = this.#pending.get(id);
    if (set === undefined) {
      set = new Set();
      this.#pending.set(id, set);
    }
    set.add(ticket);
    return ticket;
  }

  /**
   * Registers a write of this instance about to be sent: drops the cached record and spoils the
   * reads of `id` in flight (they may return what the write replaces), then tracks the write.
   */
  beginWrite(id: string): ReadTicket {
    this.invalidate(id);
    return this.begin(id);
  }

  /**
   * Completes a read (or a successful own write, with the exact record now stored): caches the
   * record unless an invalidation received meanwhile outdates it, a flush happened, or a record of
   * a higher version is already cached. `echo`: the invalidation the own write published (touches),
   * when it has not arrived yet: registered so that it does not outdate what follows.
   */
  end(ticket: ReadTicket, session: StoredSession | null, echo?: SessionChange): void {
    this.#release(ticket);
    if (session === null || ticket.spoiled || ticket.epoch !== this.#epoch || !this.#checkLive()) return;
    if (ticket.changes.some((change) => outdates(change, session))) return;
    const cached = this.#entries.get(session.id);
    if (cached !== undefined && cached.session.version > session.version) return;
    if (cached === undefined && this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.delete(session.id); // re-inserted last: most recently used
    this.#entries.set(session.id, {
      session: Object.freeze({ ...session }),
      storedAt: Date.now(),
      echoesBefore: ticket.echoesBefore,
      placedAt: ++this.#placements,
    });
    if (echo !== undefined && !ticket.changes.some((change) => sameChange(change, echo))) {
      this.#expectEcho(session.id, echo);
    }
  }

  #expectEcho(id: string, change: SessionChange): void {
    let queue = this.#echoes.get(id);
    if (queue === undefined) {
      if (this.#echoes.size >= this.#maxEntries) this.#echoes.clear();
      queue = [];
      this.#echoes.set(id, queue);
    }
    if (queue.length >= MAX_ECHOES_PER_SESSION) queue.shift();
    queue.push({ change, seq: ++this.#echoSeq });
  }

  /** The registered echo `change` is, if any; it and any older ones are forgotten. */
  #takeEcho(id: string, change: SessionChange): Echo | undefined {
    if (change.kind !== 'touched') return undefined;
    const queue = this.#echoes.get(id);
    const at = queue?.findIndex((echo) => sameChange(echo.change, change)) ?? -1;
    if (queue === undefined || at === -1) return undefined;
    const echo = queue[at];
    queue.splice(0, at + 1);
    if (queue.length === 0) this.#echoes.delete(id);
    return echo;
  }

  /** A read or write that failed or changed nothing: nothing to cache. */
  cancel(ticket: ReadTicket): void {
    this.#release(ticket);
  }

  /** Drops `id` and spoils operations on it in flight (a write to it happened or is happening). */
  invalidate(id: string): void {
    this.#apply(id, ENDED);
  }

  /** Drops everything and spoils every read in flight. */
  flush(): void {
    this.#stats.flushes++;
    this.#epoch++;
    this.#entries.clear();
    this.#echoes.clear();
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

  /** An invalidation of `id`: drops the cached record if outdated, tells the operations in flight. */
  #apply(id: string, change: SessionChange): void {
    const echo = this.#takeEcho(id, change);
    const entry = this.#entries.get(id);
    const reflected = echo !== undefined && entry !== undefined && entry.echoesBefore >= echo.seq;
    if (entry !== undefined && !reflected && outdates(change, entry.session)) {
      this.#stats.invalidations++;
      this.#entries.delete(id);
    }
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    for (const ticket of pending) {
      if (echo !== undefined && ticket.echoesBefore >= echo.seq) continue;
      if (change.kind === 'ended' || ticket.changes.length >= MAX_TICKET_CHANGES) ticket.spoiled = true;
      else ticket.changes.push(change);
    }
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

const ENDED: SessionChange = { kind: 'ended' };

/**
 * Whether `change` may describe a write that `session` does not include. A record of version v
 * includes every full write up to v (each version has exactly one writer), and no touch at v
 * unless it carries exactly the touch's times.
 */
export function outdates(change: SessionChange, session: StoredSession): boolean {
  switch (change.kind) {
    case 'ended':
      return true;
    case 'written':
      return change.version > session.version;
    case 'touched':
      return (
        change.version > session.version ||
        (change.version === session.version &&
          (change.lastUsedAt !== session.lastUsedAt || change.expiresAt !== session.expiresAt))
      );
  }
}

function sameChange(a: SessionChange, b: SessionChange): boolean {
  if (a.kind === 'ended' || b.kind === 'ended') return a.kind === b.kind;
  if (a.kind === 'written' || b.kind === 'written') return a.kind === b.kind && a.version === b.version;
  return a.version === b.version && a.lastUsedAt === b.lastUsedAt && a.expiresAt === b.expiresAt;
}

/** Parses `w:`, `t:` and `i:` messages; null when malformed. */
export function parseInvalidation(text: string): { id: string; change: SessionChange } | null {
  const kind = text.slice(0, 2);
  if (kind === 'i:') return text.length > 2 ? { id: text.slice(2), change: ENDED } : null;
  const fields = kind === 'w:' ? 1 : kind === 't:' ? 3 : 0;
  if (fields === 0) return null;
  const numbers: number[] = [];
  let at = 2;
  for (let i = 0; i < fields; i++) {
    const colon = text.indexOf(':', at);
    if (colon === -1) return null;
    const field = text.slice(at, colon);
    const value = Number(field);
    if (!/^-?[0-9]{1,16}$/.test(field) || !Number.isSafeInteger(value)) return null;
    numbers.push(value);
    at = colon + 1;
  }
  const id = text.slice(at);
  if (id === '') return null;
  const [version, lastUsedAt, expiresAt] = numbers as [number, number, number];
  return kind === 'w:'
    ? { id, change: { kind: 'written', version } }
    : { id, change: { kind: 'touched', version, lastUsedAt, expiresAt } };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigurationError(`${name} must be a positive integer`);
  return value;
}

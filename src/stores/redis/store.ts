import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { ConfigurationError } from '../../errors.js';
import {
  assertCappedCreate,
  assertReplayEntry,
  assertStoredSession,
  type Store,
  type StoredSession,
} from '../store.js';
import {
  CommandGuard,
  createRedisClient,
  createRedisCluster,
  DEFAULT_COMMAND_TIMEOUT,
  isCluster,
  type RedisClient,
  toStoreError,
} from './client.js';
import { type Bucket, fnv1a, KeyLayout, MAX_BUCKETS } from './keys.js';
import { LiveCache, type LiveCacheOptions, type LiveCacheStats, type SessionChange } from './live-cache.js';
import { READ_MANY, ReadBatcher, SESSION_FIELDS, type SessionFields } from './read-batch.js';
import { MARK_PROOF, MARK_PROOF_COMMAND, replayEntryKey } from './replay.js';
import { SCRIPTS, type ScriptName } from './scripts.js';

export interface RedisStoreOptions {
  /** Prefix of every key (and of the invalidation channel). No braces. Default `jwts:`. */
  prefix?: string;
  /**
   * Upper bound, in ms, on every store operation (waiting for a reconnect included): past it the
   * operation fails with `StoreUnavailableError` (503). Default 1000.
   */
  commandTimeout?: number;
  /**
   * Sessions are spread over this many buckets (hash tags): single-session operations touch one
   * bucket, namespace operations one script per bucket. Default 1 on a standalone server, 16 on a
   * cluster (more buckets spread load over more masters; fewer make namespace operations cheaper).
   * Part of the data layout: every instance must agree, and changing it orphans stored sessions.
   */
  buckets?: number;
  /**
   * Publish an invalidation from every write script (for live caches, this instance's or other
   * instances'). Default true; turn off only if no instance sharing the prefix uses `liveCache`.
   */
  publishInvalidations?: boolean;
  /**
   * The in-process live revocation cache (off by default; `true` = defaults): strict verification
   * costs no round trip, and refresh one (its compare-and-swap), on the instance that last wrote
   * the session. See live-cache.ts.
   */
  liveCache?: LiveCacheOptions | boolean;
  /** Expired sessions reclaimed per `create` from the indexes it touches. Default 32. */
  pruneBatch?: number;
  /** Sessions deleted per script call by `deleteAll` (which loops until done). Default 1000. */
  deleteAllBatch?: number;
  /** `close()` also closes the client. Default false (true for `RedisStore.connect*`). */
  ownsClient?: boolean;
}

type Reply = string | number | null | Reply[];
type ScriptFn = (...args: (string | number)[]) => Promise<Reply>;
type ScriptedClient = RedisClient &
  Record<ScriptName | typeof MARK_PROOF_COMMAND | typeof READ_MANY_COMMAND, ScriptFn>;

/** The batched session read (read-batch.ts); the key count is its first argument. */
const READ_MANY_COMMAND = 'jwtsReadMany';

/**
 * The Redis store (ioredis; standalone or Redis Cluster).
 *
 * Layout (keys.ts): a hash per session `<prefix>s:{<tag>}:<id>` with TTL, a per-bucket index of all
 * sessions `<prefix>a:{<tag>}` and per-bucket namespace indexes `<prefix>n:{<tag>}:<ns>` (sorted
 * sets scored by expiresAt), where `<tag>` is the hash tag of the session's bucket (fnv1a(id) mod
 * buckets). Because a session and both of its index entries share the tag, each of create, get,
 * replace, touch and delete is ONE round trip: one script (EVALSHA via ioredis `defineCommand`,
 * EVAL on a connection's first use) or, for `get`, one HMGET, on one slot, atomic. Reads asked for
 * together (one event-loop turn) share one script call per bucket (read-batch.ts).
 *
 * Namespace operations (list, revoke access, delete) and deleteAll run one script per bucket, all
 * sent at once: one round trip on a standalone server (1 bucket), one concurrent round trip per
 * node on a cluster. Each bucket's part is atomic; the whole is not one transaction across buckets
 * (a session created in the namespace while a namespace delete runs may survive it, exactly as if
 * it had been created just after). Costs are O(sessions in the namespace + buckets): no KEYS, no
 * SCAN, anywhere. deleteAll walks the bucket indexes in batches.
 *
 * Expiry: records carry expiresAt and every script judges liveness against the caller's `now`.
 * Redis TTLs only reclaim memory; they are set in the same script as the data, relative to the
 * caller's clock (PEXPIRE expiresAt - now), so a skew between the application's and Redis' clocks
 * (or an injected test clock) never makes Redis drop a session early. Index keys get a TTL no
 * shorter than their longest member's; scripts that touch an index reclaim its expired members.
 */
export class RedisStore implements Store {
  readonly client: RedisClient;
  readonly layout: KeyLayout;
  readonly #scripted: ScriptedClient;
  readonly #guard: CommandGuard;
  readonly #reads: ReadBatcher<StoredSession | null>;
  readonly #channel: string;
  readonly #pruneBatch: string;
  readonly #deleteAllBatch: string;
  readonly #ownsClient: boolean;
  readonly #cache: LiveCache | null;
  #closed = false;

  /** A store on a new standalone client (recommended options) that it owns and closes. */
  static connect(url: string, options: RedisStoreOptions & { redisOptions?: RedisOptions } = {}): RedisStore {
    const { redisOptions, ...storeOptions } = options;
    const client = createRedisClient(url, redisOptions, options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT);
    return new RedisStore(client, { ownsClient: true, ...storeOptions });
  }

  /** A store on a new cluster client (recommended options) that it owns and closes. */
  static connectCluster(
    nodes: ClusterNode[],
    options: RedisStoreOptions & { clusterOptions?: ClusterOptions } = {},
  ): RedisStore {
    const { clusterOptions, ...storeOptions } = options;
    const client = createRedisCluster(
      nodes,
      clusterOptions,
      options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT,
    );
    return new RedisStore(client, { ownsClient: true, ...storeOptions });
  }

  /**
   * @param client an ioredis `Redis` or `Cluster`. Best created with `redisClientOptions()` /
   *   `redisClusterOptions()` (fail fast, no offline queue, no late replays); the store bounds each
   *   operation by `commandTimeout` whatever the client's options. Not closed by `close()` unless
   *   `ownsClient`. Must not use ioredis `keyPrefix` (use `prefix`).
   */
  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    const cluster = isCluster(client);
    const clientPrefix = cluster
      ? (client.options.keyPrefix ?? client.options.redisOptions?.keyPrefix)
      : client.options.keyPrefix;
    if (clientPrefix) {
      throw new ConfigurationError('RedisStore: the ioredis keyPrefix option is not supported; use `prefix`');
    }
    const prefix = options.prefix ?? 'jwts:';
    if (typeof prefix !== 'string' || prefix.length > 200 || /[{}]/.test(prefix)) {
      throw new ConfigurationError(
        'RedisStore: prefix must be a string of at most 200 characters without braces',
      );
    }
    const buckets = options.buckets ?? (cluster ? 16 : 1);
    if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
      throw new ConfigurationError(`RedisStore: buckets must be an integer from 1 to ${MAX_BUCKETS}`);
    }
    const timeout = options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT;
    if (!Number.isSafeInteger(timeout) || timeout < 1) {
      throw new ConfigurationError('RedisStore: commandTimeout must be a positive integer (ms)');
    }
    const pruneBatch = options.pruneBatch ?? 32;
    const deleteAllBatch = options.deleteAllBatch ?? 1000;
    if (
      !Number.isSafeInteger(pruneBatch) ||
      pruneBatch < 1 ||
      !Number.isSafeInteger(deleteAllBatch) ||
      deleteAllBatch < 1
    ) {
      throw new ConfigurationError('RedisStore: pruneBatch and deleteAllBatch must be positive integers');
    }

    this.client = client;
    this.layout = new KeyLayout(prefix, buckets);
    this.#pruneBatch = String(pruneBatch);
    this.#deleteAllBatch = String(deleteAllBatch);
    this.#ownsClient = options.ownsClient ?? false;
    this.#channel = options.publishInvalidations === false ? '' : this.layout.channel;
    this.#guard = new CommandGuard(client, timeout);
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      // Idempotent: stores sharing a client define the same scripts under the same names.
      client.defineCommand(name, { lua });
    }
    client.defineCommand(MARK_PROOF_COMMAND, { lua: MARK_PROOF, numberOfKeys: 1 });
    client.defineCommand(READ_MANY_COMMAND, { lua: READ_MANY });
    this.#scripted = client as ScriptedClient;
    this.#reads = new ReadBatcher(
      {
        one: (key) => this.#guard.command(() => this.client.hmget(key, ...SESSION_FIELDS)),
        many: (keys) => this.#guard.command(() => this.#scripted[READ_MANY_COMMAND](keys.length, ...keys)),
      },
      { decode: liveRecord, failure: toStoreError },
    );

    const cacheOptions = options.liveCache === true ? {} : options.liveCache || null;
    if (cacheOptions !== null) {
      if (this.#channel === '') {
        throw new ConfigurationError('RedisStore: liveCache needs publishInvalidations');
      }
      const subscriber = cacheOptions.subscriber ?? client.duplicate();
      this.#cache = new LiveCache(
        subscriber,
        cacheOptions.subscriber === undefined,
        this.layout.channel,
        (message) => client.publish(this.layout.channel, message),
        cacheOptions,
      );
    } else {
      this.#cache = null;
    }
  }

  /** The live cache's counters, or null when it is off. */
  cacheStats(): LiveCacheStats | null {
    return this.#cache?.stats() ?? null;
  }

  /** Key of a session's hash (for tests and operators). */
  sessionKey(id: string): string {
    return this.layout.bucketOf(id).sessionPrefix + id;
  }

  async create(session: StoredSession): Promise<void> {
    this.#open();
    assertStoredSession(session);
    const bucket = this.layout.bucketOf(session.id);
    const keys =
      session.namespace === null
        ? [bucket.sessionPrefix + session.id, bucket.all]
        : [bucket.sessionPrefix + session.id, bucket.all, bucket.namespacePrefix + session.namespace];
    // Cached as written (the id is new: nothing of it can be cached yet), so a refresh that
    // follows on this instance reads it locally and costs only its compare-and-swap.
    await this.#cachedWrite(
      session.id,
      false,
      () =>
        this.#scripted.jwtsCreate(
          keys.length,
          ...keys,
          ...this.#insertArgs(session, bucket, session.createdAt),
        ),
      () => session,
    );
  }

  /**
   * The cap in the create script itself. The script sees the namespace's sessions of one bucket,
   * so on a store with several buckets the engine gives capped sessions ids of the namespace's
   * home bucket (`acceptsCappedId`): every session created under the cap lives there.
   */
  async createCapped(session: StoredSession, cap: number, now: number): Promise<string[]> {
    this.#open();
    assertCappedCreate(session, cap);
    checkNamespace(session.namespace);
    if (!this.acceptsCappedId(session.id, session.namespace)) {
      throw new TypeError("createCapped: the id is not in the namespace's bucket (see acceptsCappedId)");
    }
    const bucket = this.layout.bucketOf(session.id);
    const keys = [bucket.sessionPrefix + session.id, bucket.all, bucket.namespacePrefix + session.namespace];
    const reply = await this.#cachedWrite(
      session.id,
      false,
      () =>
        this.#scripted.jwtsCreateCapped(
          keys.length,
          ...keys,
          ...this.#insertArgs(session, bucket, now),
          String(cap),
          this.#channel,
        ),
      () => session,
    );
    const ended = reply as string[];
    for (const id of ended) this.#cache?.invalidate(id);
    return ended;
  }

  /** The create scripts' ARGV (see scripts.ts INSERT). */
  #insertArgs(session: StoredSession, bucket: Bucket, now: number): (string | number)[] {
    return [
      session.id,
      String(session.version),
      String(session.createdAt),
      String(session.lastUsedAt),
      String(session.expiresAt),
      session.accessRevoked ? '1' : '0',
      session.data,
      session.namespace ?? '',
      ttl(session.expiresAt, now),
      String(now),
      bucket.sessionPrefix,
      bucket.namespacePrefix,
      this.#pruneBatch,
    ];
  }

  acceptsCappedId(id: string, namespace: string): boolean {
    const buckets = this.layout.buckets;
    return buckets.length === 1 || this.layout.bucketOf(id) === buckets[fnv1a(namespace) % buckets.length];
  }

  async get(id: string, now: number): Promise<StoredSession | null> {
    return this.#getEager(id, now);
  }

  getEager(id: string, now: number): StoredSession | null | Promise<StoredSession | null> {
    // A `get` replaced on the instance (a wrapper, fault injection) stays the one source of truth.
    if (this.get !== RedisStore.prototype.get) return this.get(id, now);
    return this.#getEager(id, now);
  }

  #getEager(id: string, now: number): StoredSession | null | Promise<StoredSession | null> {
    this.#open();
    if (typeof id !== 'string') throw new TypeError('session id must be a string');
    const cache = this.#cache;
    if (cache === null) return this.#read(id, now);
    const cached = cache.lookup(id, now);
    if (cached !== undefined) return cached;
    return this.#readThroughCache(cache, id, now);
  }

  async #readThroughCache(cache: LiveCache, id: string, now: number): Promise<StoredSession | null> {
    const ticket = cache.begin(id);
    try {
      const session = await this.#read(id, now);
      cache.end(ticket, session);
      return session;
    } catch (error) {
      cache.cancel(ticket);
      throw error;
    }
  }

  async replace(next: StoredSession, expectedVersion: number, now: number): Promise<boolean> {
    this.#open();
    assertStoredSession(next);
    if (next.version !== expectedVersion + 1) return false;
    const bucket = this.layout.bucketOf(next.id);
    // The script answers [1, stored namespace] when it wrote, 0 when the compare-and-swap failed.
    // Written: this instance knows the exact record now stored and caches it (its own `w:`
    // invalidation leaves it alone). Not written: the cached record (if any) was stale, so it
    // goes, and the engine's retry reads Redis.
    const reply = await this.#cachedWrite(
      next.id,
      true,
      () =>
        this.#scripted.jwtsReplace(
          2,
          bucket.sessionPrefix + next.id,
          bucket.all,
          next.id,
          String(expectedVersion),
          String(now),
          String(next.version),
          String(next.createdAt),
          String(next.lastUsedAt),
          String(next.expiresAt),
          next.accessRevoked ? '1' : '0',
          next.data,
          ttl(next.expiresAt, now),
          bucket.namespacePrefix,
          this.#channel,
        ),
      (written) =>
        Array.isArray(written) && written[0] === 1
          ? { ...next, namespace: typeof written[1] === 'string' ? written[1] : null }
          : null,
    );
    return Array.isArray(reply) && reply[0] === 1;
  }

  async touch(id: string, lastUsedAt: number, expiresAt: number, now: number): Promise<void> {
    this.#open();
    if (!Number.isSafeInteger(lastUsedAt) || !Number.isSafeInteger(expiresAt)) {
      throw new TypeError('touch needs integer lastUsedAt and expiresAt');
    }
    const bucket = this.layout.bucketOf(id);
    // A touch changes only lastUsedAt and expiresAt, and every other field is fixed by the version.
    // So when this instance holds the record the touch lands on (same version, which the script
    // answers), the record now stored is exactly the cached one with the new times: keep it cached
    // (a verify that touches costs the touch only, and the next one nothing). Any other instance's
    // write meanwhile outdates it as usual; without a cached base, the id is just forgotten.
    const base = this.#cache?.peek(id);
    await this.#cachedWrite(
      id,
      true,
      () =>
        this.#scripted.jwtsTouch(
          2,
          bucket.sessionPrefix + id,
          bucket.all,
          id,
          String(lastUsedAt),
          String(expiresAt),
          String(now),
          ttl(expiresAt, now),
          bucket.namespacePrefix,
          this.#channel,
        ),
      (reply) =>
        base !== undefined && Array.isArray(reply) && reply[0] === 1 && reply[1] === String(base.version)
          ? { ...base, lastUsedAt, expiresAt }
          : null,
      // the script's `t:` invalidation, which must not outdate what this instance does next
      { kind: 'touched', version: base?.version ?? 0, lastUsedAt, expiresAt },
    );
  }

  async delete(id: string, now: number): Promise<number> {
    this.#open();
    const bucket = this.layout.bucketOf(id);
    const ended = await this.#write(id, () =>
      this.#scripted.jwtsDelete(
        2,
        bucket.sessionPrefix + id,
        bucket.all,
        id,
        String(now),
        bucket.namespacePrefix,
        this.#channel,
      ),
    );
    return Number(ended);
  }

  async deleteNamespace(namespace: string, now: number): Promise<number> {
    this.#open();
    checkNamespace(namespace);
    const ids = await this.#eachBucket((bucket) =>
      this.#scripted.jwtsDeleteNamespace(
        2,
        bucket.namespacePrefix + namespace,
        bucket.all,
        String(now),
        bucket.sessionPrefix,
        this.#channel,
      ),
    );
    return this.#invalidateAll(ids);
  }

  async revokeNamespaceAccess(namespace: string, now: number): Promise<number> {
    this.#open();
    checkNamespace(namespace);
    const ids = await this.#eachBucket((bucket) =>
      this.#scripted.jwtsRevokeNamespace(
        2,
        bucket.namespacePrefix + namespace,
        bucket.all,
        String(now),
        bucket.sessionPrefix,
        bucket.namespacePrefix,
        this.#channel,
      ),
    );
    return this.#invalidateAll(ids);
  }

  async listNamespace(namespace: string, now: number): Promise<StoredSession[]> {
    this.#open();
    checkNamespace(namespace);
    const replies = await this.#eachBucket((bucket) =>
      this.#scripted.jwtsListNamespace(
        1,
        bucket.namespacePrefix + namespace,
        String(now),
        bucket.sessionPrefix,
      ),
    );
    const sessions: StoredSession[] = [];
    for (const reply of replies) {
      const flat = reply as (string | null)[];
      for (let i = 0; i + 6 < flat.length; i += 7) {
        const session = parse(flat[i]!, [
          flat[i + 1]!,
          flat[i + 2]!,
          flat[i + 3]!,
          flat[i + 4]!,
          flat[i + 5]!,
          namespace,
          flat[i + 6]!,
        ]);
        if (session !== null) sessions.push(session);
      }
    }
    sessions.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return sessions;
  }

  async deleteAll(now: number): Promise<number> {
    this.#open();
    const counts = await Promise.all(
      this.layout.buckets.map(async (bucket) => {
        let ended = 0;
        for (;;) {
          // One batch per round trip, each within the timeout: a large store is never one long script.
          const reply = (await this.#guard.run(() =>
            this.#scripted.jwtsDeleteBucket(
              1,
              bucket.all,
              String(now),
              bucket.sessionPrefix,
              bucket.namespacePrefix,
              this.#channel,
              this.#deleteAllBatch,
            ),
          )) as [number, number];
          ended += Number(reply[0]);
          if (Number(reply[1]) === 0) return ended;
        }
      }),
    );
    this.#cache?.flush();
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async markProofUsed(key: string, expiresAt: number, now: number): Promise<boolean> {
    this.#open();
    assertReplayEntry(key, expiresAt, now);
    const entry = replayEntryKey(this.layout, key);
    const reply = await this.#guard.run(() =>
      this.#scripted.jwtsMarkProof(entry, String(expiresAt), String(now)),
    );
    return Number(reply) === 1;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#cache?.close();
    this.#guard.detach();
    if (this.#ownsClient) {
      await this.client.quit().catch(() => this.client.disconnect());
    }
  }

  #open(): void {
    if (this.#closed) throw new Error('RedisStore is closed');
  }

  #read(id: string, now: number): Promise<StoredSession | null> {
    const bucket = this.layout.bucketOf(id);
    return this.#reads.read(bucket, bucket.sessionPrefix + id, id, now);
  }

  /** A single-session write: the local cache forgets the id before and after it. */
  async #write(id: string, operation: () => Promise<Reply>): Promise<Reply> {
    const cache = this.#cache;
    cache?.invalidate(id);
    try {
      return await this.#guard.run(operation);
    } finally {
      cache?.invalidate(id);
    }
  }

  /**
   * A single-session write whose result record this instance knows: `stored(reply)` is the record
   * now in Redis (or null when nothing was written). It is cached unless an invalidation received
   * while the write was in flight outdates it. A failed or refused write leaves nothing cached.
   * `echo`: the invalidation the write publishes, when it could outdate what follows (touches).
   */
  async #cachedWrite(
    id: string,
    replacesExisting: boolean,
    operation: () => Promise<Reply>,
    stored: (reply: Reply) => StoredSession | null,
    echo?: SessionChange,
  ): Promise<Reply> {
    const cache = this.#cache;
    if (cache === null) return this.#guard.run(operation);
    const ticket = replacesExisting ? cache.beginWrite(id) : cache.begin(id);
    let reply: Reply;
    try {
      reply = await this.#guard.run(operation);
    } catch (error) {
      // Outcome unknown (it may have run): forget the id; its invalidation, if any, follows.
      cache.cancel(ticket);
      cache.invalidate(id);
      throw error;
    }
    const record = stored(reply);
    if (record === null) {
      cache.cancel(ticket);
      cache.invalidate(id);
    } else {
      cache.end(ticket, record, echo);
    }
    return reply;
  }

  /** One script per bucket, all in flight at once, under one deadline. */
  #eachBucket(script: (bucket: Bucket) => Promise<Reply>): Promise<Reply[]> {
    const buckets = this.layout.buckets;
    return this.#guard.run(() =>
      buckets.length === 1 ? script(buckets[0]!).then((reply) => [reply]) : Promise.all(buckets.map(script)),
    );
  }

  /** Namespace writes: the scripts return the ids they ended or changed. */
  #invalidateAll(replies: Reply[]): number {
    let count = 0;
    for (const reply of replies) {
      for (const id of reply as string[]) {
        this.#cache?.invalidate(id);
        count++;
      }
    }
    return count;
  }
}

function ttl(expiresAt: number, now: number): string {
  return String(Math.max(1, expiresAt - now));
}

function checkNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || namespace.length > 256) {
    throw new TypeError('namespace must be a string of at most 256 characters');
  }
}

/** A stored hash (fields in SESSION_FIELDS order) back to a record; an incomplete hash counts as absent. */
function parse(id: string, fields: SessionFields): StoredSession | null {
  const [v, c, u, e, r, n, d] = fields;
  if (v == null || c == null || u == null || e == null || r == null || d == null) return null;
  return {
    id,
    namespace: n ?? null,
    version: Number(v),
    createdAt: Number(c),
    lastUsedAt: Number(u),
    expiresAt: Number(e),
    accessRevoked: r === '1',
    data: d,
  };
}

/** A read's answer: the stored record, or null when it is absent or expired by `now`. */
function liveRecord(fields: SessionFields, id: string, now: number): StoredSession | null {
  const session = parse(id, fields);
  return session !== null && session.expiresAt > now ? session : null;
}

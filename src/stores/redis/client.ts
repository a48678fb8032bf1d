/**
 * ioredis plumbing for the RedisStore: recommended client options (fail fast, never replay a
 * command late), and the guard every store operation runs through (bounded time, typed errors).
 */
import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { StoreConfigurationError, StoreUnavailableError } from '../../errors.js';
import { driverReason, type StoreMisconfiguration, storeError } from '../errors.js';

export type RedisClient = Redis | Cluster;

export const DEFAULT_COMMAND_TIMEOUT = 1000;

/**
 * Client options that make ioredis fail fast and never execute a command late:
 * - `enableOfflineQueue: false`: while disconnected a command is refused at once instead of queued
 *   (a queued refresh replayed after an outage would rotate a session whose caller already got 503);
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: commands in flight when
 *   the connection drops fail now, they are not re-sent on reconnect;
 * - `commandTimeout` / `connectTimeout`: nothing waits on a dead or stalled server for long;
 * - a short reconnect back-off (50 ms steps, at most 500 ms): recovery follows the server quickly.
 * The store bounds every operation by its own `commandTimeout` whatever the client's settings.
 */
export function redisClientOptions(commandTimeout = DEFAULT_COMMAND_TIMEOUT): RedisOptions {
  return {
    commandTimeout,
    connectTimeout: Math.max(commandTimeout, 500),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(times * 50, 500),
    // Off: the store gathers concurrent session reads into one command itself (ReadBatcher), and
    // ioredis' auto-pipelining builds a Pipeline object per tick that costs more CPU than the
    // socket writes it saves (measured: strict verify on Redis +11 µs over memory with it, +3
    // without). A caller's own `redisOptions` can turn it on.
    enableAutoPipelining: false,
  };
}

/** Cluster options in the same spirit; node connections get `redisClientOptions`. */
export function redisClusterOptions(commandTimeout = DEFAULT_COMMAND_TIMEOUT): ClusterOptions {
  // Auto-pipelining must stay off on a cluster too: with it, ioredis' Cluster failed every
  // operation of the store's cluster tests (its per-node pipelines and the store's per-bucket
  // scripts do not mix).
  const { retryStrategy: _retry, ...redisOptions } = redisClientOptions(commandTimeout);
  return {
    enableOfflineQueue: false,
    maxRedirections: 16,
    retryDelayOnFailover: 50,
    retryDelayOnClusterDown: 50,
    retryDelayOnTryAgain: 50,
    slotsRefreshTimeout: Math.max(commandTimeout, 500),
    clusterRetryStrategy: (times: number) => Math.min(times * 50, 500),
    redisOptions,
  };
}

/** A standalone client with the recommended options; `url` like `redis://127.0.0.1:6379/0`. */
export function createRedisClient(
  url: string,
  options: RedisOptions = {},
  commandTimeout = DEFAULT_COMMAND_TIMEOUT,
): Redis {
  return new Redis(url, { ...redisClientOptions(commandTimeout), ...options });
}

/** A cluster client with the recommended options. */
export function createRedisCluster(
  nodes: ClusterNode[],
  options: ClusterOptions = {},
  commandTimeout = DEFAULT_COMMAND_TIMEOUT,
): Cluster {
  const defaults = redisClusterOptions(commandTimeout);
  return new Cluster(nodes, {
    ...defaults,
    ...options,
    redisOptions: { ...defaults.redisOptions, ...options.redisOptions },
  });
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** Thrown by our scripts for an id clash; the only Redis error that is not an outage. */
export const CLASH_MARKER = 'JWTS_CLASH';

/**
 * Runs store operations against one client within a deadline. While the client is (re)connecting,
 * an operation waits for it up to the deadline (so a brief reconnect costs latency, not errors);
 * past the deadline, or on any Redis/connection error, it fails with `StoreUnavailableError`.
 * A client that has ended for good fails at once.
 */
export class CommandGuard {
  readonly #client: RedisClient;
  readonly #timeout: number;
  #ready: Promise<void> | null = null;
  #resolveReady: (() => void) | null = null;
  readonly #onReady = (): void => {
    this.lastError = null;
    this.#resolveReady?.();
    this.#ready = null;
    this.#resolveReady = null;
  };
  /** The last connection error, for diagnostics (`cause` of the 503s while it lasts). */
  lastError: Error | null = null;
  /**
   * The database the URL or options name could not be selected on this connection: ioredis
   * reports the failed SELECT as an 'error' event, then goes 'ready' on database 0. Every
   * operation is refused until a connection selects it (SELECT is sent again on each connect).
   */
  selectFailure: Error | null = null;
  readonly #onError = (error: Error): void => {
    this.lastError = error;
    if (SELECT_FAILURE.test(driverReason(error))) this.selectFailure = error;
  };
  readonly #onConnect = (): void => {
    this.selectFailure = null;
  };

  constructor(client: RedisClient, timeout: number) {
    this.#client = client;
    this.#timeout = timeout;
    // ioredis emits 'error' on every failed (re)connection; with no listener it logs to stderr.
    client.on('error', this.#onError);
    client.on('ready', this.#onReady);
    client.on('connect', this.#onConnect);
  }

  get timeout(): number {
    return this.#timeout;
  }

  detach(): void {
    this.#client.off('error', this.#onError);
    this.#client.off('ready', this.#onReady);
    this.#client.off('connect', this.#onConnect);
    this.#onReady();
  }

  /**
   * `run` for an operation of exactly one command (the hot path: a session read). When the client
   * is ready and bounds every command itself within the store's timeout (`commandTimeout`, as the
   * store's own clients do), that bound suffices: no timer or race of ours per call.
   */
  command<T>(operation: () => Promise<T>): Promise<T> {
    const client = this.#client;
    const bound = (client as Redis).options?.commandTimeout;
    if (
      client.status !== 'ready' ||
      this.selectFailure !== null ||
      typeof bound !== 'number' ||
      !(bound > 0 && bound <= this.#timeout)
    ) {
      return this.run(operation);
    }
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
    return pending.then(undefined, rethrowAsStoreError);
  }

  /** Runs `operation` once the client is ready, all within `timeout` ms (default: the store's). */
  async run<T>(operation: () => Promise<T>, timeout = this.#timeout): Promise<T> {
    const deadline = Date.now() + timeout;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#timeoutError(timeout)), timeout);
    });
    try {
      const status = this.#client.status;
      if (status === 'end' || status === 'close' || status === 'disconnecting') {
        // 'close' is transient when a reconnect is scheduled ('reconnecting' follows at once).
        if (status !== 'close') throw new StoreUnavailableError('redis client is closed');
      }
      if (status !== 'ready') {
        if (status === 'wait') this.#client.connect().catch(() => undefined);
        await Promise.race([this.#whenReady(), expired]);
      }
      // The SELECT reply comes before the ready check's, so a failure is known by now.
      if (this.selectFailure !== null) throw this.#selectError(this.selectFailure);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.#timeoutError(timeout);
      return await Promise.race([operation(), expired]);
    } catch (error) {
      throw toStoreError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** No answer in time: why the connection is not ready, when it is known (a refused password is a configuration error). */
  #timeoutError(timeout: number): StoreUnavailableError {
    const last = this.lastError;
    if (last !== null && redisMisconfiguration(last) !== null)
      return toStoreError(last) as StoreUnavailableError;
    const reason = last === null ? '' : `: ${driverReason(last)}`;
    return new StoreUnavailableError(`redis did not answer within ${timeout} ms${reason}`, {
      cause: last ?? undefined,
    });
  }

  #selectError(failure: Error): StoreConfigurationError {
    const db = (this.#client as Redis).options?.db;
    return new StoreConfigurationError(
      `redis: database ${db ?? '?'} cannot be selected (${driverReason(failure)}); use a database number the server has (its \`databases\` setting, 16 by default) in the store URL`,
      { cause: failure },
    );
  }

  #whenReady(): Promise<void> {
    if (this.#client.status === 'ready') return Promise.resolve();
    if (this.#ready === null) {
      this.#ready = new Promise<void>((resolve) => {
        this.#resolveReady = resolve;
      });
    }
    return this.#ready;
  }
}

/** ioredis' failed SELECT of the configured database (out of range, or a cluster node). */
const SELECT_FAILURE =
  /(^|: )ERR (DB index is out of range|invalid DB index|SELECT is not allowed in cluster mode)/;

/** Redis replies that mean "fix the configuration" (credentials, ACL, database number), not an outage. */
function redisMisconfiguration(error: unknown): StoreMisconfiguration | null {
  return /(^|: )(WRONGPASS|NOAUTH|NOPERM)\b/.test(driverReason(error)) ? 'access_denied' : null;
}

function rethrowAsStoreError(error: unknown): never {
  throw toStoreError(error);
}

/** Maps whatever ioredis threw to the store's error vocabulary: fail closed, saying why. */
export function toStoreError(error: unknown): Error {
  if (error instanceof StoreUnavailableError) return error;
  if (error instanceof Error && error.message.includes(CLASH_MARKER)) {
    return new Error(`session id clash: ${error.message.split(CLASH_MARKER)[1]?.trim() ?? ''}`);
  }
  return storeError(error, redisMisconfiguration(error), { where: 'redis' });
}

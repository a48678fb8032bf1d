/**
 * Counting what a store really sends to its database, for the "per operation" numbers of the
 * engine benchmarks (counted, never assumed from the code):
 * - Redis: the commands each server executes, seen by MONITOR on dedicated connections
 *   (test/support's CommandWatch), keeping the client commands that name the store's key prefix;
 * - SQL: the statements the client library is asked to run: a counting `pg` Client (the pool's
 *   `Client` option), mysql2's diagnostics channels, better-sqlite3's Statement methods.
 */
import diagnostics from 'node:diagnostics_channel';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CommandWatch, roundTrips } from '../../test/support/redis-server.js';

/** Per-operation counts over `runs` operations: the mean, and the kinds (command or SQL verb) seen. */
export interface PerOperation {
  runs: number;
  total: number;
  perOp: number;
  /** Kind -> count per operation, e.g. { evalsha: 1 } or { SELECT: 1, UPDATE: 1 }. */
  kinds: Record<string, number>;
}

function perOperation(runs: number, counts: Map<string, number>): PerOperation {
  let total = 0;
  const kinds: Record<string, number> = {};
  for (const [kind, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    total += count;
    kinds[kind] = count / runs;
  }
  return { runs, total, perOp: total / runs, kinds };
}

/** "SELECT 1, UPDATE 1" (per operation); "-" when nothing was sent. */
export function describeKinds(kinds: Record<string, number>): string {
  const parts = Object.entries(kinds).map(([kind, n]) => `${kind} ${Number.isInteger(n) ? n : n.toFixed(2)}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

async function runTimes(runs: number, operation: (run: number) => Promise<unknown>): Promise<void> {
  for (let run = 0; run < runs; run++) await operation(run);
}

/** Counts the Redis commands naming `prefix` that the watched nodes execute during `runs` operations. */
export class RedisCommandCounter {
  readonly #watch: CommandWatch;

  private constructor(watch: CommandWatch) {
    this.#watch = watch;
  }

  /** MONITOR on each node (every master of a cluster), each on its own connection. */
  static async start(nodes: { host: string; port: number }[]): Promise<RedisCommandCounter> {
    return new RedisCommandCounter(await CommandWatch.start(nodes));
  }

  async count(
    prefix: string,
    runs: number,
    operation: (run: number) => Promise<unknown>,
  ): Promise<PerOperation & { nodes: number }> {
    const { commands } = await this.#watch.record(() => runTimes(runs, operation));
    const trips = roundTrips(commands, prefix);
    const counts = new Map<string, number>();
    for (const c of trips) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
    return { ...perOperation(runs, counts), nodes: new Set(trips.map((c) => c.node)).size };
  }

  stop(): Promise<void> {
    return this.#watch.stop();
  }
}

/** SQL statements by verb (first keyword; a `WITH ... DELETE` counts as WITH). */
export class StatementCounter {
  readonly #counts = new Map<string, number>();

  record(sql: string): void {
    const verb = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
    this.#counts.set(verb, (this.#counts.get(verb) ?? 0) + 1);
  }

  get total(): number {
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  /** The statements sent during `runs` operations. */
  async count(runs: number, operation: (run: number) => Promise<unknown>): Promise<PerOperation> {
    this.#counts.clear();
    await runTimes(runs, operation);
    const result = perOperation(runs, this.#counts);
    this.#counts.clear();
    return result;
  }
}

function sqlText(query: unknown): string | undefined {
  if (typeof query === 'string') return query;
  if (typeof query === 'object' && query !== null && typeof (query as { text?: unknown }).text === 'string') {
    return (query as { text: string }).text;
  }
  return undefined;
}

/**
 * A `pg` Client class for a pool's `Client` option that records every statement it sends (a
 * multi-statement simple query, like a migration script, counts once per `;`-separated part).
 */
export function countingPgClient(counter: StatementCounter): new () => pg.Client {
  return class CountingClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      (this as { query: unknown }).query = (...args: unknown[]) => {
        const text = sqlText(args[0]);
        if (text !== undefined) {
          for (const part of text.split(';')) if (part.trim() !== '') counter.record(part);
        }
        return query(...args);
      };
    }
  };
}

/**
 * Records every statement any mysql2 connection of this process runs (its `mysql2:query` and
 * `mysql2:execute` tracing channels). Returns the unsubscribe function.
 */
export function countMysql2Statements(counter: StatementCounter): () => void {
  const handler = {
    start(context: unknown) {
      const text = (context as { query?: unknown }).query;
      if (typeof text === 'string') counter.record(text);
    },
    end() {},
    asyncStart() {},
    asyncEnd() {},
    error() {},
  };
  const channels = ['mysql2:query', 'mysql2:execute'].map((name) => diagnostics.tracingChannel(name));
  for (const channel of channels) channel.subscribe(handler);
  return () => {
    for (const channel of channels) channel.unsubscribe(handler);
  };
}

/**
 * Records every statement better-sqlite3 runs in this process (the Statement methods that execute,
 * and `Database#exec`). Returns the function that restores the originals.
 */
export function countBetterSqlite3Statements(counter: StatementCounter): () => void {
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  const patched: [Record<string, unknown>, string, unknown][] = [];
  const wrap = (
    target: Record<string, unknown>,
    method: string,
    sql: (self: unknown, args: unknown[]) => string,
  ) => {
    const original = target[method] as (...args: unknown[]) => unknown;
    patched.push([target, method, original]);
    target[method] = function (this: unknown, ...args: unknown[]) {
      counter.record(sql(this, args));
      return original.apply(this, args);
    };
  };
  for (const method of ['run', 'get', 'all', 'iterate']) {
    wrap(statementProto, method, (self) => (self as { source: string }).source);
  }
  wrap(Database.prototype as unknown as Record<string, unknown>, 'exec', (_, args) => String(args[0]));
  return () => {
    for (const [target, method, original] of patched.reverse()) target[method] = original;
  };
}

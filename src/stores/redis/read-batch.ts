/**
 * Session reads gathered per event-loop turn. The reads asked for while the loop handles one round
 * of I/O (the requests that arrived together) leave as one script call per bucket — one command
 * whose reply holds every session's fields — instead of one HMGET each: ioredis' per-command work
 * (the command object, its promise, the reply parse) is most of what a strict read costs the
 * application's CPU, and here it is paid once per batch. A lone read stays a plain HMGET.
 *
 * The script answers the short fields of every row as one JSON text (one native `JSON.parse`
 * instead of redis-parser building six bulk strings per session) and each session's data as a bulk
 * string of its own (the data is JSON already: inside a JSON text every quote of it would be
 * escaped by Redis and unescaped again here). Each read's promise resolves with its decoded
 * result directly (no extra promise hop per request between the reply and the caller). A/B of
 * builds, strict verification on Redis, Fastify: JSON rows with direct resolution 1.05x requests
 * per CPU-second over seven bulk strings per session; the data as its own bulk string 1.06x over
 * the data inside the JSON text (Hono 1.035x).
 *
 * Nothing is read earlier than asked: a batch is sent after every read in it was requested, and
 * each read gets its own session's fields. A failed batch fails every read in it with the same
 * store error (fail closed, as a failed HMGET would).
 */
import type { Bucket } from './keys.js';

/** A session's hash fields in the order read; null where absent. */
export type SessionFields = (string | null)[];

/** The most keys one script call reads (larger batches are split). */
export const MAX_READ_BATCH = 128;

/** The hash fields every read returns, in this order; the data (`d`) last. */
export const SESSION_FIELDS = ['v', 'c', 'u', 'e', 'r', 'n', 'd'] as const;

/**
 * Reads the hash fields of each session key, in order; every key in one bucket. Answers
 * `[rows, data_1, …, data_n]`: `rows` a JSON array of each session's fields but the data (a
 * missing field is `false`, Lua's nil in an HMGET reply, read back as null), then each session's
 * data (nil when missing).
 */
export const READ_MANY = `
local rows = {}
local out = {}
for i, key in ipairs(KEYS) do
  local row = redis.call('HMGET', key, ${SESSION_FIELDS.map((f) => `'${f}'`).join(', ')})
  out[i + 1] = row[${SESSION_FIELDS.length}]
  row[${SESSION_FIELDS.length}] = nil
  rows[i] = row
end
out[1] = cjson.encode(rows)
return out
`;

export interface BatchedReads {
  /** One session's fields (an HMGET). */
  one(key: string): Promise<SessionFields>;
  /** Several sessions' fields in one command (READ_MANY's reply), all keys in one bucket. */
  many(keys: string[]): Promise<unknown>;
}

export interface ReadDecoding<T> {
  /** The read's result from its session's fields (must not throw). */
  decode(fields: SessionFields, id: string, now: number): T;
  /** The error every read of a failed batch rejects with. */
  failure(error: unknown): Error;
}

interface PendingRead<T> {
  key: string;
  id: string;
  now: number;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export class ReadBatcher<T> {
  readonly #reads: BatchedReads;
  readonly #decoding: ReadDecoding<T>;
  #pending = new Map<Bucket, PendingRead<T>[]>();
  #scheduled = false;

  constructor(reads: BatchedReads, decoding: ReadDecoding<T>) {
    this.#reads = reads;
    this.#decoding = decoding;
  }

  /** Reads `key` (session `id`, in `bucket`) with this turn's other reads; `now` goes to decode. */
  read(bucket: Bucket, key: string, id: string, now: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let queue = this.#pending.get(bucket);
      if (queue === undefined) {
        queue = [];
        this.#pending.set(bucket, queue);
      }
      queue.push({ key, id, now, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the I/O phase: every read its requests asked for is in by then.
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const queue of pending.values()) {
      for (let start = 0; start < queue.length; start += MAX_READ_BATCH) {
        this.#send(queue.slice(start, start + MAX_READ_BATCH));
      }
    }
  };

  #send(batch: PendingRead<T>[]): void {
    const fail = (error: unknown) => {
      const failure = this.#decoding.failure(error);
      for (const read of batch) read.reject(failure);
    };
    if (batch.length === 1) {
      const only = batch[0]!;
      this.#reads.one(only.key).then((fields) => this.#answer(only, fields), fail);
      return;
    }
    this.#reads.many(batch.map((read) => read.key)).then((reply) => {
      const rows = parseRows(reply, batch.length);
      if (typeof rows === 'string') {
        fail(new Error(`redis: a batched read answered ${rows} for ${batch.length} keys`));
        return;
      }
      for (let i = 0; i < batch.length; i++) this.#answer(batch[i]!, rows[i]);
    }, fail);
  }

  #answer(read: PendingRead<T>, row: unknown): void {
    if (!Array.isArray(row)) {
      read.reject(this.#decoding.failure(new Error(`redis: a read answered ${describe(row)} for a session`)));
      return;
    }
    read.resolve(this.#decoding.decode(row as SessionFields, read.id, read.now));
  }
}

/**
 * READ_MANY's reply as one row of fields per key (Lua's `false` read as null, the data appended);
 * a malformed row as undefined (its read fails alone); or what was wrong with the whole reply.
 */
function parseRows(reply: unknown, expected: number): unknown[] | string {
  if (!Array.isArray(reply) || reply.length !== expected + 1) return describe(reply);
  if (typeof reply[0] !== 'string') return `${describe(reply[0])} where the rows' JSON text goes`;
  let rows: unknown;
  try {
    rows = JSON.parse(reply[0]);
  } catch {
    return 'text that is not JSON';
  }
  if (!Array.isArray(rows) || rows.length !== expected) return `${describe(rows)} in its JSON text`;
  for (let i = 0; i < expected; i++) {
    const row: unknown = rows[i];
    const data: unknown = reply[i + 1];
    if (!Array.isArray(row) || (typeof data !== 'string' && data !== null)) {
      // Its read fails alone, its error naming what was malformed: the row, else the data.
      rows[i] = Array.isArray(row) ? data : row;
      continue;
    }
    for (let j = 0; j < row.length; j++) if (row[j] === false) row[j] = null;
    row.push(data);
  }
  return rows;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? `${value.length} items` : typeof value;
}

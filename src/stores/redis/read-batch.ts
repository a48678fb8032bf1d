/**
 * Session reads gathered per event-loop turn. The reads asked for while the loop handles one round
 * of I/O (the requests that arrived together) leave as one script call per bucket — one command
 * whose reply holds every session's fields — instead of one HMGET each: ioredis' per-command work
 * (the command object, its promise, the reply parse) is most of what a strict read costs the
 * application's CPU, and here it is paid once per batch. A lone read stays a plain HMGET.
 *
 * Nothing is read earlier than asked: a batch is sent after every read in it was requested, and
 * each read gets its own session's fields. A failed batch fails every read in it with the same
 * store error (fail closed, as a failed HMGET would).
 */
import type { Bucket } from './keys.js';

export type SessionFields = (string | null)[];

/** The most keys one script call reads (larger batches are split). */
export const MAX_READ_BATCH = 128;

/** Reads the hash fields of each session key, in order; every key in one bucket. */
export const READ_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('HMGET', key, 'v', 'c', 'u', 'e', 'r', 'n', 'd')
end
return out
`;

interface PendingRead {
  key: string;
  resolve(fields: SessionFields): void;
  reject(error: unknown): void;
}

export interface BatchedReads {
  /** One session's fields (an HMGET). */
  one(key: string): Promise<SessionFields>;
  /** Several sessions' fields in one command (READ_MANY), all keys in one bucket. */
  many(keys: string[]): Promise<SessionFields[]>;
}

export class ReadBatcher {
  readonly #reads: BatchedReads;
  #pending = new Map<Bucket, PendingRead[]>();
  #scheduled = false;

  constructor(reads: BatchedReads) {
    this.#reads = reads;
  }

  read(bucket: Bucket, key: string): Promise<SessionFields> {
    return new Promise<SessionFields>((resolve, reject) => {
      let queue = this.#pending.get(bucket);
      if (queue === undefined) {
        queue = [];
        this.#pending.set(bucket, queue);
      }
      queue.push({ key, resolve, reject });
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

  #send(batch: PendingRead[]): void {
    if (batch.length === 1) {
      const only = batch[0]!;
      this.#reads.one(only.key).then(only.resolve, only.reject);
      return;
    }
    this.#reads.many(batch.map((read) => read.key)).then(
      (rows) => {
        if (!Array.isArray(rows) || rows.length !== batch.length) {
          const error = new Error(
            `redis: a batched read answered ${describe(rows)} for ${batch.length} keys`,
          );
          for (const read of batch) read.reject(error);
          return;
        }
        for (let i = 0; i < batch.length; i++) {
          const row = rows[i];
          if (Array.isArray(row)) batch[i]!.resolve(row);
          else batch[i]!.reject(new Error(`redis: a batched read answered ${describe(row)} for a session`));
        }
      },
      (error: unknown) => {
        for (const read of batch) read.reject(error);
      },
    );
  }
}

function describe(value: unknown): string {
  return Array.isArray(value) ? `${value.length} rows` : typeof value;
}

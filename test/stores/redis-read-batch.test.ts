/**
 * The Redis store's read batching (src/stores/redis/read-batch.ts) as a unit: which reads travel
 * together, that each read gets its own row, and that a failed or malformed batch fails every read
 * in it. The Redis side (one script call, real replies) is in redis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Bucket } from '../../src/stores/redis/keys.js';
import { MAX_READ_BATCH, ReadBatcher, type SessionFields } from '../../src/stores/redis/read-batch.js';

const bucketA = { index: 0, tag: 'a' } as Bucket;
const bucketB = { index: 1, tag: 'b' } as Bucket;

/** Batched reads answering from `rows` (key → fields), recording each call. */
function recorder(rows: Map<string, SessionFields> = new Map()) {
  const calls: { kind: 'one' | 'many'; keys: string[] }[] = [];
  const fieldsOf = (key: string): SessionFields => rows.get(key) ?? [key, null];
  return {
    calls,
    batcher: new ReadBatcher({
      one: async (key) => {
        calls.push({ kind: 'one', keys: [key] });
        return fieldsOf(key);
      },
      many: async (keys) => {
        calls.push({ kind: 'many', keys });
        return keys.map(fieldsOf);
      },
    }),
  };
}

describe('ReadBatcher', () => {
  it('sends the reads of one turn together, per bucket, each answered with its own row', async () => {
    const { batcher, calls } = recorder();
    const answers = await Promise.all([
      batcher.read(bucketA, 'a1'),
      batcher.read(bucketB, 'b1'),
      batcher.read(bucketA, 'a2'),
      batcher.read(bucketA, 'a3'),
    ]);
    expect(answers.map((row) => row[0])).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(calls).toEqual([
      { kind: 'many', keys: ['a1', 'a2', 'a3'] },
      { kind: 'one', keys: ['b1'] },
    ]);
  });

  it('reads of later turns go in later batches; none is sent before it was asked for', async () => {
    const { batcher, calls } = recorder();
    const first = batcher.read(bucketA, 'x');
    expect(calls).toEqual([]); // nothing leaves before the turn ends
    await first;
    await Promise.all([batcher.read(bucketA, 'y'), batcher.read(bucketA, 'z')]);
    expect(calls).toEqual([
      { kind: 'one', keys: ['x'] },
      { kind: 'many', keys: ['y', 'z'] },
    ]);
  });

  it(`splits a turn's reads into commands of at most ${MAX_READ_BATCH} keys`, async () => {
    const { batcher, calls } = recorder();
    const keys = Array.from({ length: MAX_READ_BATCH * 2 + 1 }, (_, i) => `k${i}`);
    const answers = await Promise.all(keys.map((k) => batcher.read(bucketA, k)));
    expect(answers.map((row) => row[0])).toEqual(keys);
    expect(calls.map((c) => c.keys.length)).toEqual([MAX_READ_BATCH, MAX_READ_BATCH, 1]);
  });

  it('a failed batch fails every read in it with that error, and the next turn starts afresh', async () => {
    const outage = new Error('redis unavailable: connection lost');
    let fail = true;
    const batcher = new ReadBatcher({
      one: async (key) => [key],
      many: async (keys) => {
        if (fail) throw outage;
        return keys.map((k) => [k]);
      },
    });
    const results = await Promise.allSettled([batcher.read(bucketA, 'a'), batcher.read(bucketA, 'b')]);
    expect(results).toEqual([
      { status: 'rejected', reason: outage },
      { status: 'rejected', reason: outage },
    ]);
    fail = false;
    await expect(Promise.all([batcher.read(bucketA, 'c'), batcher.read(bucketA, 'd')])).resolves.toEqual([
      ['c'],
      ['d'],
    ]);
  });

  it('a reply of the wrong shape fails closed: no read gets another session’s row', async () => {
    const short = new ReadBatcher({
      one: async () => [],
      many: async (keys) => keys.slice(1).map((k) => [k]),
    });
    const shortResults = await Promise.allSettled([short.read(bucketA, 'a'), short.read(bucketA, 'b')]);
    expect(shortResults.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((shortResults[0] as PromiseRejectedResult).reason)).toMatch(/1 rows for 2 keys/);

    const odd = new ReadBatcher({
      one: async () => [],
      many: async () => [['a'], 'not a row' as unknown as SessionFields],
    });
    const oddResults = await Promise.allSettled([odd.read(bucketA, 'a'), odd.read(bucketA, 'b')]);
    expect(oddResults[0]).toEqual({ status: 'fulfilled', value: ['a'] });
    expect(oddResults[1]!.status).toBe('rejected');
  });
});

/**
 * The Redis store's read batching (src/stores/redis/read-batch.ts) as a unit: which reads travel
 * together, that each read gets its own row (decoded with its own id and time), and that a failed
 * or malformed batch fails every read in it. The Redis side (one script call, real replies, the
 * JSON rows) is in redis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Bucket } from '../../src/stores/redis/keys.js';
import {
  type BatchedReads,
  MAX_READ_BATCH,
  ReadBatcher,
  type SessionFields,
} from '../../src/stores/redis/read-batch.js';

const bucketA = { index: 0, tag: 'a' } as Bucket;
const bucketB = { index: 1, tag: 'b' } as Bucket;

interface Decoded {
  fields: SessionFields;
  id: string;
  now: number;
}

class BatchFailure extends Error {
  constructor(readonly original: unknown) {
    super(`failed: ${String(original)}`);
  }
}

/** A batcher whose decode returns what it was given and whose failures wrap the error. */
function batcherOver(reads: BatchedReads): ReadBatcher<Decoded> {
  return new ReadBatcher(reads, {
    decode: (fields, id, now) => ({ fields, id, now }),
    failure: (error) => new BatchFailure(error),
  });
}

/** READ_MANY's reply for these rows: the fields but the last as one JSON text, then each last field. */
function readManyReply(rows: SessionFields[]): unknown[] {
  const text = JSON.stringify(rows.map((row) => row.slice(0, -1).map((field) => field ?? false)));
  return [text, ...rows.map((row) => row.at(-1) ?? null)];
}

/** Batched reads answering from `rows` (key → fields) as READ_MANY does, recording each call. */
function recorder(rows: Map<string, SessionFields> = new Map()) {
  const calls: { kind: 'one' | 'many'; keys: string[] }[] = [];
  const fieldsOf = (key: string): SessionFields => rows.get(key) ?? [key, null];
  return {
    calls,
    batcher: batcherOver({
      one: async (key) => {
        calls.push({ kind: 'one', keys: [key] });
        return fieldsOf(key);
      },
      many: async (keys) => {
        calls.push({ kind: 'many', keys });
        return readManyReply(keys.map(fieldsOf));
      },
    }),
  };
}

/** Reads `key` as session `id-<key>` at time 7. */
const readOf = (batcher: ReadBatcher<Decoded>, bucket: Bucket, key: string) =>
  batcher.read(bucket, key, `id-${key}`, 7);

describe('ReadBatcher', () => {
  it('sends the reads of one turn together, per bucket, each answered with its own row', async () => {
    const { batcher, calls } = recorder();
    const answers = await Promise.all([
      readOf(batcher, bucketA, 'a1'),
      readOf(batcher, bucketB, 'b1'),
      readOf(batcher, bucketA, 'a2'),
      batcher.read(bucketA, 'a3', 'id-other', 9),
    ]);
    expect(answers).toEqual([
      { fields: ['a1', null], id: 'id-a1', now: 7 },
      { fields: ['b1', null], id: 'id-b1', now: 7 },
      { fields: ['a2', null], id: 'id-a2', now: 7 },
      { fields: ['a3', null], id: 'id-other', now: 9 },
    ]);
    expect(calls).toEqual([
      { kind: 'many', keys: ['a1', 'a2', 'a3'] },
      { kind: 'one', keys: ['b1'] },
    ]);
  });

  it('reads of later turns go in later batches; none is sent before it was asked for', async () => {
    const { batcher, calls } = recorder();
    const first = readOf(batcher, bucketA, 'x');
    expect(calls).toEqual([]); // nothing leaves before the turn ends
    await first;
    await Promise.all([readOf(batcher, bucketA, 'y'), readOf(batcher, bucketA, 'z')]);
    expect(calls).toEqual([
      { kind: 'one', keys: ['x'] },
      { kind: 'many', keys: ['y', 'z'] },
    ]);
  });

  it(`splits a turn's reads into commands of at most ${MAX_READ_BATCH} keys`, async () => {
    const { batcher, calls } = recorder();
    const keys = Array.from({ length: MAX_READ_BATCH * 2 + 1 }, (_, i) => `k${i}`);
    const answers = await Promise.all(keys.map((k) => readOf(batcher, bucketA, k)));
    expect(answers.map((answer) => answer.fields[0])).toEqual(keys);
    expect(answers.map((answer) => answer.id)).toEqual(keys.map((k) => `id-${k}`));
    expect(calls.map((c) => c.keys.length)).toEqual([MAX_READ_BATCH, MAX_READ_BATCH, 1]);
  });

  it("a missing field (the script's false) reads as null; every other value as it was", async () => {
    const rows = new Map<string, SessionFields>([
      ['a', ['1', null, 'false', '', '"quoted" \\ \u0000 é 😀', null, '{"x":[1]}']],
      ['b', [null, null, null, null, null, null, null]],
    ]);
    const { batcher } = recorder(rows);
    const [a, b] = await Promise.all([readOf(batcher, bucketA, 'a'), readOf(batcher, bucketA, 'b')]);
    expect(a!.fields).toEqual(rows.get('a'));
    expect(b!.fields).toEqual(rows.get('b'));
  });

  it('a failed batch fails every read in it with one store error, and the next turn starts afresh', async () => {
    const outage = new Error('redis unavailable: connection lost');
    let fail = true;
    const batcher = batcherOver({
      one: async (key) => [key],
      many: async (keys) => {
        if (fail) throw outage;
        return readManyReply(keys.map((k) => [k, 'data']));
      },
    });
    const results = await Promise.allSettled([readOf(batcher, bucketA, 'a'), readOf(batcher, bucketA, 'b')]);
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(reasons[0]).toBeInstanceOf(BatchFailure);
    expect(reasons[0].original).toBe(outage);
    expect(reasons[1]).toBe(reasons[0]);
    fail = false;
    const next = await Promise.all([readOf(batcher, bucketA, 'c'), readOf(batcher, bucketA, 'd')]);
    expect(next.map((answer) => answer.fields)).toEqual([
      ['c', 'data'],
      ['d', 'data'],
    ]);
  });

  it('a lone read that fails rejects with the store error', async () => {
    const outage = new Error('redis unavailable');
    const batcher = batcherOver({
      one: async () => {
        throw outage;
      },
      many: async () => ['[]'],
    });
    const reason = await readOf(batcher, bucketA, 'a').catch((error: unknown) => error);
    expect(reason).toBeInstanceOf(BatchFailure);
    expect((reason as BatchFailure).original).toBe(outage);
  });

  it('a reply of the wrong shape fails closed: no read gets another session’s row', async () => {
    const settle = async (many: BatchedReads['many'], one: BatchedReads['one'] = async () => []) => {
      const batcher = batcherOver({ one, many });
      return Promise.allSettled([readOf(batcher, bucketA, 'a'), readOf(batcher, bucketA, 'b')]);
    };
    const messageOf = (r: PromiseSettledResult<Decoded>) =>
      String(((r as PromiseRejectedResult).reason as BatchFailure).original);

    const short = await settle(async (keys) => readManyReply(keys.slice(1).map((k) => [k, 'data'])));
    expect(short.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(messageOf(short[0]!)).toMatch(/answered 2 items for 2 keys/);

    const fewRows = await settle(async () => [JSON.stringify([['a']]), 'data-a', 'data-b']);
    expect(fewRows.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(messageOf(fewRows[0]!)).toMatch(/1 items in its JSON text for 2 keys/);

    const notArray = await settle(async () => 'rows');
    expect(notArray.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(messageOf(notArray[0]!)).toMatch(/answered string for 2 keys/);

    const noText = await settle(async () => [['a'], 'data-a', 'data-b']);
    expect(messageOf(noText[0]!)).toMatch(/1 items where the rows' JSON text goes/);

    const notJson = await settle(async () => ['[["a"], ["b"]', 'data-a', 'data-b']);
    expect(notJson.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(messageOf(notJson[0]!)).toMatch(/text that is not JSON/);

    const oddRow = await settle(async () => [JSON.stringify([['a'], 'not a row']), 'data-a', 'data-b']);
    expect(oddRow[0]).toEqual({
      status: 'fulfilled',
      value: { fields: ['a', 'data-a'], id: 'id-a', now: 7 },
    });
    expect(oddRow[1]!.status).toBe('rejected');
    expect(messageOf(oddRow[1]!)).toMatch(/answered string for a session/);

    const oddData = await settle(async () => [JSON.stringify([['a'], ['b']]), 42, 'data-b']);
    expect(oddData[0]!.status).toBe('rejected');
    expect(messageOf(oddData[0]!)).toMatch(/answered number for a session/);
    expect(oddData[1]).toEqual({
      status: 'fulfilled',
      value: { fields: ['b', 'data-b'], id: 'id-b', now: 7 },
    });

    const batcher = batcherOver({
      one: async () => 'x' as unknown as SessionFields,
      many: async () => ['[]'],
    });
    const lone = await readOf(batcher, bucketA, 'a').catch((error: unknown) => error);
    expect(String((lone as BatchFailure).original)).toMatch(/answered string for a session/);
  });
});

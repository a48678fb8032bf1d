import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/stores/memory.js';
import { describeStoreContract } from '../contract/store-contract.js';
import { record, T0 } from '../support/records.js';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore specifics', () => {
  it('reclaims expired sessions lazily: memory follows the live sessions', async () => {
    const store = new MemoryStore({ sweepBatch: 1000 });
    const t0 = 1_000_000;
    for (let i = 0; i < 500; i++) {
      await store.create({
        id: `s${i}`,
        namespace: i % 2 === 0 ? 'even' : null,
        version: 1,
        createdAt: t0,
        lastUsedAt: t0,
        expiresAt: t0 + 1000 + (i % 10),
        accessRevoked: false,
        data: '{}',
      });
    }
    expect(store.size).toBe(500);
    // any operation after the deadline sweeps
    expect(await store.get('s1', t0 + 5000)).toBeNull();
    expect(store.size).toBe(0);
  });

  it('a touched session is kept past its first deadline, then reclaimed at the new one', async () => {
    const store = new MemoryStore();
    await store.create({
      id: 'a',
      namespace: 'n',
      version: 1,
      createdAt: 0,
      lastUsedAt: 0,
      expiresAt: 100,
      accessRevoked: false,
      data: '{}',
    });
    await store.touch('a', 50, 500, 50);
    expect(await store.get('a', 200)).not.toBeNull();
    expect(store.size).toBe(1);
    expect(await store.get('a', 501)).toBeNull();
    expect(store.size).toBe(0);
    expect(await store.listNamespace('n', 501)).toEqual([]);
  });

  it('internal structures follow the live sessions, not the churn: create / replace / touch / delete cycles', async () => {
    const store = new MemoryStore();
    let worst = 0;
    // The bound the store documents for its expiry heap: 2 x live sessions + a constant slack (64).
    const checkBound = () => {
      worst = Math.max(worst, store.heapEntries - 2 * store.size);
      expect(store.heapEntries, `heap entries for ${store.size} sessions`).toBeLessThanOrEqual(
        2 * store.size + 64,
      );
    };
    // Ten long-lived sessions stay throughout while 10,000 others come and go, every deadline far in
    // the future: nothing is swept by time, only compaction can keep the heap bounded.
    const keep = Array.from({ length: 10 }, (_, i) => record({ namespace: `keep${i % 3}` }));
    for (const s of keep) await store.create(s);
    const now = T0 + 1;
    for (let i = 0; i < 10_000; i++) {
      const s = record({ namespace: 'churn', expiresAt: T0 + 3_600_000 });
      await store.create(s);
      // a shorter deadline pushes a new heap entry and leaves the old one stale
      expect(await store.replace({ ...s, version: 2, expiresAt: T0 + 3_000_000 }, 1, now)).toBe(true);
      await store.touch(s.id, now, T0 + 2_000_000, now);
      if (i % 2 === 0) expect(await store.delete(s.id, now)).toBe(1);
      else expect(await store.deleteNamespace('churn', now)).toBe(1);
      checkBound();
    }
    expect(store.size).toBe(keep.length);
    console.info(
      `[memory] 10,000 create/replace/touch/delete cycles next to ${keep.length} live sessions: ${store.heapEntries} heap entries at the end (worst heap - 2 x live: ${worst})`,
    );

    // Compaction kept every deadline: the kept sessions live until theirs, then are reclaimed.
    const end = keep[0]!.expiresAt;
    for (const s of keep) expect(await store.get(s.id, end - 1)).toEqual(s);
    expect(await store.get(keep[0]!.id, end)).toBeNull();
    expect(store.size).toBe(0);
    expect(await store.listNamespace('keep0', end)).toEqual([]);
    expect(store.heapEntries).toBeLessThanOrEqual(64);
  });

  it('all sessions deleted: the heap shrinks to the slack, not to the deleted count', async () => {
    const store = new MemoryStore();
    const sessions = Array.from({ length: 5000 }, () => record({ expiresAt: T0 + 3_600_000 }));
    for (const s of sessions) await store.create(s);
    expect(store.heapEntries).toBe(5000);
    for (const s of sessions) expect(await store.delete(s.id, T0)).toBe(1);
    expect(store.size).toBe(0);
    expect(store.heapEntries).toBeLessThanOrEqual(64);
    // and still a working store
    const again = record();
    await store.create(again);
    expect(await store.get(again.id, T0)).toEqual(again);
    expect(await store.get(again.id, again.expiresAt)).toBeNull();
    expect(store.size).toBe(0);
  });

  it('refuses operations after close with a clear error', async () => {
    const store = new MemoryStore();
    await store.close();
    expect(() => store.get('x', 0)).toThrow(/closed/);
  });
});

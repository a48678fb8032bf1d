/**
 * The session-cap part of the Store contract (`createCapped`, what `maxSessionsPerNamespace` runs
 * on): the insert and the trim are one step — the least recently used live sessions beyond the cap
 * end (lastUsedAt, then createdAt, then id, descending), the new one stays, expired sessions and
 * other namespaces are untouched; an id clash or bad input changes nothing; racing creates on two
 * store instances over one backend leave exactly `cap` sessions, each ended id reported once.
 */
import { describe, expect, it } from 'vitest';
import type { Store, StoredSession } from '../../src/stores/store.js';
import { record, T0 } from '../support/records.js';
import { type StoreFactory, storeHandles } from './store-contract.js';

/** A record whose id the store accepts for a capped create of its namespace (see `acceptsCappedId`). */
function cappedRecord(
  store: Store,
  overrides: Partial<StoredSession> & { namespace: string },
): StoredSession {
  for (;;) {
    const candidate = record(overrides);
    if (store.acceptsCappedId?.(candidate.id, overrides.namespace) ?? true) return candidate;
  }
}

function createCapped(store: Store): NonNullable<Store['createCapped']> {
  expect(store.createCapped, 'every built-in store implements createCapped').toBeTypeOf('function');
  return store.createCapped!.bind(store);
}

const ids = (sessions: StoredSession[]) => sessions.map((s) => s.id).sort();

export function describeCapContract(name: string, factory: StoreFactory): void {
  describe(`${name}: session cap (createCapped)`, () => {
    const { open, twinOf } = storeHandles(factory);

    it('ends the least recently used live sessions beyond the cap, the new one counted and kept', async () => {
      const { store } = await open();
      const capped = createCapped(store);
      const ns = 'cap:lru';
      // Ranked: c (used last), then a and b used at the same time (b created later ranks first).
      const a = cappedRecord(store, { namespace: ns, createdAt: T0, lastUsedAt: T0 + 50 });
      const b = cappedRecord(store, { namespace: ns, createdAt: T0 + 10, lastUsedAt: T0 + 50 });
      const c = cappedRecord(store, { namespace: ns, createdAt: T0 + 20, lastUsedAt: T0 + 90 });
      const expired = cappedRecord(store, {
        namespace: ns,
        createdAt: T0,
        lastUsedAt: T0,
        expiresAt: T0 + 100,
      });
      const bystander = cappedRecord(store, { namespace: 'cap:other', lastUsedAt: T0 });
      for (const s of [a, b, c, expired, bystander]) await store.create(s);

      const fresh = cappedRecord(store, { namespace: ns, createdAt: T0 + 200, lastUsedAt: T0 + 200 });
      const ended = await capped(fresh, 3, T0 + 200);
      expect(ended).toEqual([a.id]);
      expect(ids(await store.listNamespace(ns, T0 + 200))).toEqual([b.id, c.id, fresh.id].sort());
      expect(await store.get(a.id, T0 + 200)).toBeNull();
      expect(await store.get(bystander.id, T0 + 200)).not.toBeNull();

      const newest = cappedRecord(store, { namespace: ns, createdAt: T0 + 300, lastUsedAt: T0 + 300 });
      expect((await capped(newest, 1, T0 + 300)).sort()).toEqual([b.id, c.id, fresh.id].sort());
      expect(ids(await store.listNamespace(ns, T0 + 300))).toEqual([newest.id]);
    });

    it('under the cap, nothing ends', async () => {
      const { store } = await open();
      const first = cappedRecord(store, { namespace: 'cap:under' });
      expect(await createCapped(store)(first, 2, T0)).toEqual([]);
      const second = cappedRecord(store, { namespace: 'cap:under', createdAt: T0 + 1, lastUsedAt: T0 + 1 });
      expect(await createCapped(store)(second, 2, T0 + 1)).toEqual([]);
      expect(ids(await store.listNamespace('cap:under', T0 + 1))).toEqual([first.id, second.id].sort());
    });

    it('an id clash rejects and ends nothing; bad input is a TypeError and stores nothing', async () => {
      const { store } = await open();
      const capped = createCapped(store);
      const old = cappedRecord(store, { namespace: 'cap:clash', lastUsedAt: T0 });
      const live = cappedRecord(store, { namespace: 'cap:clash', lastUsedAt: T0 + 5 });
      await store.create(old);
      await store.create(live);
      await expect(capped({ ...live, lastUsedAt: T0 + 10 }, 1, T0 + 10)).rejects.toThrow(/clash/);
      expect(ids(await store.listNamespace('cap:clash', T0 + 10))).toEqual([old.id, live.id].sort());

      const unscoped = record();
      await expect(Promise.resolve().then(() => capped(unscoped, 1, T0))).rejects.toThrow(TypeError);
      expect(await store.get(unscoped.id, T0)).toBeNull();
      for (const cap of [0, -1, 1.5, Number.NaN]) {
        const candidate = cappedRecord(store, { namespace: 'cap:clash' });
        await expect(Promise.resolve().then(() => capped(candidate, cap, T0))).rejects.toThrow(TypeError);
        expect(await store.get(candidate.id, T0)).toBeNull();
      }
      expect(ids(await store.listNamespace('cap:clash', T0 + 10))).toEqual([old.id, live.id].sort());
    });

    it('40 racing capped creates over two store instances on one backend leave exactly the cap', async () => {
      const handle = await open();
      const other = await twinOf(handle);
      const ns = 'cap:race';
      const records = Array.from({ length: 40 }, (_, i) =>
        cappedRecord(handle.store, { namespace: ns, createdAt: T0 + i, lastUsedAt: T0 + i }),
      );
      const ended = await Promise.all(
        records.map((r, i) => createCapped(i % 2 === 0 ? handle.store : other)(r, 4, T0 + 100)),
      );
      const all = ended.flat();
      expect(all).toHaveLength(36);
      expect(new Set(all).size).toBe(36);
      const left = await handle.store.listNamespace(ns, T0 + 100);
      expect(left).toHaveLength(4);
      for (const s of left) expect(all).not.toContain(s.id);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/stores/memory.js';
import { describeStoreContract } from '../contract/store-contract.js';

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

  it('refuses operations after close with a clear error', async () => {
    const store = new MemoryStore();
    await store.close();
    expect(() => store.get('x', 0)).toThrow(/closed/);
  });
});

/**
 * `maxSessionsPerNamespace` on a custom store without `createCapped`: the engine's create-then-trim
 * (src/session/operations/cap.ts) keeps the cap exact under concurrency too, reports each ending
 * once, and never calls a method the store does not have. The built-in stores take the atomic path
 * (test/contract/cap-contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../src/index.js';
import type { SessionEvent } from '../../src/session/types.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { Store } from '../../src/stores/store.js';

/** A store with only the required methods: what a hand-written store may offer. */
function withoutCappedCreate(inner: MemoryStore): Store {
  return {
    create: (s) => inner.create(s),
    get: (id, now) => inner.get(id, now),
    replace: (next, v, now) => inner.replace(next, v, now),
    touch: (id, u, e, now) => inner.touch(id, u, e, now),
    delete: (id, now) => inner.delete(id, now),
    deleteNamespace: (ns, now) => inner.deleteNamespace(ns, now),
    deleteAll: (now) => inner.deleteAll(now),
    revokeNamespaceAccess: (ns, now) => inner.revokeNamespaceAccess(ns, now),
    listNamespace: (ns, now) => inner.listNamespace(ns, now),
    markProofUsed: (k, e, now) => inner.markProofUsed(k, e, now),
    close: () => inner.close(),
  };
}

describe('session cap on a store without createCapped', () => {
  it('50 concurrent logins over two engines with a cap of 5 leave exactly 5, each ending reported once', async () => {
    const store = withoutCappedCreate(new MemoryStore());
    const events: SessionEvent[] = [];
    const options = {
      keys: { signing: { alg: 'HS256' as const, key: 'cap-fallback-secret-0123456789abcdef' } },
      store,
      maxSessionsPerNamespace: 5,
      onEvent: (event: SessionEvent) => events.push(event),
    };
    const engines = [createSessions(options), createSessions(options)];
    await Promise.all(Array.from({ length: 50 }, (_, i) => engines[i % 2]!.login({ namespace: 'u' })));
    const live = await engines[0]!.listSessions('u');
    expect(live).toHaveLength(5);
    const ended = events.filter((e) => e.type === 'revoke' && e.scope === 'cap');
    expect(new Set(ended.map((e) => (e as { sessionId: string }).sessionId)).size).toBe(45);
    expect(ended).toHaveLength(45);
    await store.close();
  });
});

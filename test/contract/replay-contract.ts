/**
 * The replay-cache part of the Store contract (`markProofUsed`, for DPoP proof `jti`s): first use
 * wins, a second use within the expiry loses, expiry follows the caller's clock, racing inserts of
 * one key (on two store instances over one backend, when the factory offers a twin) give exactly
 * one winner, and bad input is a typed error that records nothing.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../../src/errors.js';
import { T0 } from '../support/records.js';
import { type StoreFactory, storeHandles } from './store-contract.js';

function replayKey(): string {
  return randomBytes(32).toString('base64url');
}

export function describeReplayCacheContract(name: string, factory: StoreFactory): void {
  describe(`${name}: DPoP replay cache (markProofUsed)`, () => {
    const { open, twinOf } = storeHandles(factory);

    it('the first use of a key wins; later uses within its expiry lose; other keys are independent', async () => {
      const { store } = await open();
      const key = replayKey();
      expect(await store.markProofUsed(key, T0 + 1000, T0)).toBe(true);
      expect(await store.markProofUsed(key, T0 + 1000, T0 + 1)).toBe(false);
      expect(await store.markProofUsed(key, T0 + 5000, T0 + 999)).toBe(false);
      expect(await store.markProofUsed(replayKey(), T0 + 1000, T0 + 1)).toBe(true);
    });

    it('an entry is gone at its expiry instant (caller clock) and the key can be used again', async () => {
      const { store } = await open();
      const key = replayKey();
      expect(await store.markProofUsed(key, T0 + 100, T0)).toBe(true);
      expect(await store.markProofUsed(key, T0 + 200, T0 + 99)).toBe(false);
      expect(await store.markProofUsed(key, T0 + 300, T0 + 100)).toBe(true);
      // the take-over recorded the new expiry
      expect(await store.markProofUsed(key, T0 + 400, T0 + 299)).toBe(false);
    });

    it('20 racing uses of one key, spread over two store instances on one backend: exactly one wins', async () => {
      const handle = await open();
      const other = await twinOf(handle);
      for (let round = 0; round < 5; round++) {
        const key = replayKey();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? handle.store : other).markProofUsed(key, T0 + 1000, T0),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });

    it('bad input is an InvalidPayloadError and records nothing', async () => {
      const { store } = await open();
      const bad: [unknown, unknown, unknown][] = [
        ['', T0 + 1, T0],
        ['x'.repeat(129), T0 + 1, T0],
        ['has space', T0 + 1, T0],
        ['caf\u00e9', T0 + 1, T0],
        [42, T0 + 1, T0],
        ['k-time', T0, T0],
        ['k-time', T0 - 1, T0],
        ['k-time', 1.5, T0],
        ['k-time', T0 + 1, Number.NaN],
        ['k-time', '1', T0],
      ];
      for (const [key, expiresAt, now] of bad) {
        await expect(
          Promise.resolve().then(() =>
            store.markProofUsed(key as string, expiresAt as number, now as number),
          ),
        ).rejects.toBeInstanceOf(InvalidPayloadError);
      }
      expect(await store.markProofUsed('k-time', T0 + 10, T0)).toBe(true);
      expect(await store.markProofUsed('x'.repeat(128), T0 + 10, T0)).toBe(true);
    });

    it('replay entries are not sessions: they do not show up in session operations', async () => {
      const { store } = await open();
      const key = replayKey();
      expect(await store.markProofUsed(key, T0 + 1000, T0)).toBe(true);
      expect(await store.get(key, T0)).toBeNull();
      expect(await store.delete(key, T0)).toBe(0);
      expect(await store.markProofUsed(key, T0 + 1000, T0 + 1)).toBe(false);
    });
  });
}

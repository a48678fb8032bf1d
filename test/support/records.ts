/** Store-level test records: one shape for every store test, with a fixed epoch for injected clocks. */
import { randomBytes } from 'node:crypto';
import type { StoredSession } from '../../src/stores/store.js';

/** The injected clock's "now" in store tests (ms). */
export const T0 = 1_700_000_000_000;

/** A live session record at T0, expiring a minute later; non-ASCII data checks every store's encoding. */
export function record(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    id: randomBytes(16).toString('base64url'),
    namespace: null,
    version: 1,
    createdAt: T0,
    lastUsedAt: T0,
    expiresAt: T0 + 60_000,
    accessRevoked: false,
    data: JSON.stringify({ note: 'opaque ✓ 🔑', n: 1 }),
    ...overrides,
  };
}

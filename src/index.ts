/**
 * jwt-sessions: stateful JWT sessions for Node.js.
 *
 * The core entry point: the session engine, the embedded memory store, the Store contract, the
 * typed errors and the token layer. Stores with drivers and framework adapters live behind their
 * own subpaths (`jwt-sessions/stores/redis`, `jwt-sessions/express`, ...), so their drivers stay
 * optional.
 */
export * from './errors.js';
export { createSessions, Sessions } from './session/engine.js';
export type * from './session/types.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export { assertStoredSession, type Store, type StoredSession } from './stores/store.js';
export * from './tokens/index.js';

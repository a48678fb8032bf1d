/**
 * Sessions for the scaling benchmark (bench/scaling.bench.ts and its memory child): records shaped
 * exactly as the engine writes them at login, made in bulk without signing tokens, and the timed
 * namespace operations run through the engine.
 *
 * A record is cloned from one real login (typical payload and device) with fresh random values
 * where every session differs (session id, refresh and access generation ids, CSRF secret), so
 * each record holds its own strings: memory per session is not flattered by shared strings.
 */
import { newCsrfSecret } from '../../src/session/csrf.js';
import { createSessions, type Sessions } from '../../src/session/engine.js';
import { randomId } from '../../src/session/ids.js';
import { decodeState, encodeState, type SessionState } from '../../src/session/state.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { Store, StoredSession } from '../../src/stores/store.js';
import type { TimedCase } from './harness.js';

export const BENCH_KEYS = {
  signing: { alg: 'HS256', key: 'scaling-bench-secret-0123456789abcdef', kid: 'sc1' },
} as const;

/** Sessions per user (namespace) when a store is filled with unrelated sessions: web + phone. */
export const SESSIONS_PER_USER = 2;

const TYPICAL_LOGIN = {
  payload: { uid: '4f1c2b7e-9a3d-4e8b-b6f0-2d5c8a1e7f90', roles: ['user'], name: 'Jane Doe' },
  device: {
    ip: '203.0.113.42',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  },
};

/** Makes session records as the engine stores them after a typical login. */
export class SessionFactory {
  readonly #state: SessionState;
  readonly #lifeMs: number;
  /** Length of one record's engine data (JSON), the part every store must keep. */
  readonly dataBytes: number;

  private constructor(state: SessionState, lifeMs: number) {
    this.#state = state;
    this.#lifeMs = lifeMs;
    this.dataBytes = Buffer.byteLength(encodeState(state));
  }

  /** Logs in once through the engine and keeps the stored record as the template. */
  static async create(): Promise<SessionFactory> {
    const store = new MemoryStore();
    const sessions = createSessions({ keys: BENCH_KEYS, store });
    await sessions.login({ namespace: 'template', ...TYPICAL_LOGIN });
    const [record] = await store.listNamespace('template', Date.now());
    await sessions.close();
    if (!record) throw new Error('template login stored nothing');
    return new SessionFactory(decodeState(record.data), record.expiresAt - record.createdAt);
  }

  record(namespace: string | null, now: number): StoredSession {
    const data = encodeState({ ...this.#state, g: randomId(), a: randomId(), c: newCsrfSecret() });
    return {
      id: randomId(),
      namespace,
      version: 1,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.#lifeMs,
      accessRevoked: false,
      data,
    };
  }

  /** Creates `count` sessions, `inFlight` at a time (pipelined on a network store). */
  async fill(
    store: Store,
    count: number,
    namespaceOf: (i: number) => string | null,
    inFlight = 2000,
  ): Promise<void> {
    const now = Date.now();
    for (let start = 0; start < count; start += inFlight) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(count, start + inFlight); i++) {
        batch.push(store.create(this.record(namespaceOf(i), now)));
      }
      await Promise.all(batch);
    }
  }
}

/** The engine over a store, as an application would use it. */
export function engineOver(store: Store): Sessions {
  return createSessions({ keys: BENCH_KEYS, store });
}

export const NAMESPACE_OPS = ['list', 'revoke access', 'revoke'] as const;
export type NamespaceOp = (typeof NAMESPACE_OPS)[number];

let victimCounter = 0;

/**
 * The three namespace operations on a namespace of `size` sessions, as timed cases labelled
 * `<tag> <op>`: list (listSessions), revoke access (revokeNamespaceAccess; repeatable) and revoke
 * (revokeNamespace, which ends the sessions: each round first fills one fresh namespace per call).
 * Call `ready()` before timing (fills the listed namespace, checks the counts), `dispose()` after.
 */
export function namespaceCases(
  sessions: Sessions,
  factory: SessionFactory,
  size: number,
  tag: string,
): { cases: Record<NamespaceOp, TimedCase>; ready(): Promise<void>; dispose(): Promise<unknown> } {
  const listed = `listed:${tag}:${++victimCounter}`;
  let victims: string[] = [];
  const expect = (what: string, got: number) => {
    if (got !== size) throw new Error(`${tag} ${what}: ${got} sessions, expected ${size}`);
  };
  return {
    async ready() {
      await factory.fill(sessions.store, size, () => listed);
      expect('list', (await sessions.listSessions(listed)).length);
      expect('revoke access', await sessions.revokeNamespaceAccess(listed));
    },
    dispose: () => sessions.revokeNamespace(listed),
    cases: {
      list: { label: `${tag} list`, op: () => sessions.listSessions(listed) },
      'revoke access': { label: `${tag} revoke access`, op: () => sessions.revokeNamespaceAccess(listed) },
      revoke: {
        label: `${tag} revoke`,
        async prepare(batch) {
          victims = Array.from({ length: batch }, () => `victim:${tag}:${++victimCounter}`);
          for (const ns of victims) await factory.fill(sessions.store, size, () => ns);
        },
        async op(i) {
          expect('revoke', await sessions.revokeNamespace(victims[i]!));
        },
      },
    },
  };
}

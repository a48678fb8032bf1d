/** Sessions over `store` whose `onError` reports land in `reported` (HS256, a test-only key). */
import type { JwtSessionsError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import type { Store } from '../../src/stores/store.js';

export const REPORTING_KEYS = {
  signing: { alg: 'HS256' as const, key: 'reporting-sessions-test-secret-0123456789' },
};

export function reportingSessions(store: Store) {
  const reported: JwtSessionsError[] = [];
  const sessions = createSessions({ keys: REPORTING_KEYS, store, onError: (error) => reported.push(error) });
  return { sessions, reported };
}

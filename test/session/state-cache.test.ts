/** The decoded-state cache of strict verification (`recordState`) and what it must never do. */
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import { createSessions } from '../../src/session/engine.js';
import { decodeState, recordState } from '../../src/session/state.js';
import { MemoryStore } from '../../src/stores/memory.js';

const KEYS = { signing: { alg: 'HS256', key: 'state-cache-test-secret-0123456789abcdef' } } as const;

async function storedRecord() {
  const store = new MemoryStore();
  const sessions = createSessions({ keys: KEYS, store });
  const pair = await sessions.login({ payload: { role: 'user' } });
  const record = (await store.get(pair.sessionId, Date.now()))!;
  return { sessions, store, pair, record };
}

describe('recordState', () => {
  it('decodes a record once: the same record object gives the same frozen state, equal to decodeState', async () => {
    const { record, sessions } = await storedRecord();
    const first = recordState(record);
    expect(first).toEqual(decodeState(record.data));
    expect(recordState(record)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    await sessions.close();
  });

  it('decodes again when a store reuses the record object with other data', async () => {
    const { record, sessions } = await storedRecord();
    const before = recordState(record);
    const changed = { ...decodeState(record.data), a: 'another-access-id' };
    const reused = record as { data: string };
    reused.data = JSON.stringify(changed);
    const after = recordState(record);
    expect(after).not.toBe(before);
    expect(after.a).toBe('another-access-id');
    await sessions.close();
  });

  it('a record read afresh with the same text (a store without a cache) reuses the decoded state', async () => {
    const { record, sessions } = await storedRecord();
    const first = recordState(record);
    // What Redis without the live cache or SQL hand out: a new object and a new string per read.
    const fresh = { ...record, data: `${record.data} `.slice(0, -1) };
    expect(fresh).not.toBe(record);
    expect(recordState(fresh)).toBe(first);
    // Text, not identity: a record with other text is decoded for itself.
    const other = { ...record, data: JSON.stringify({ ...decodeState(record.data), a: 'other-id' }) };
    expect(recordState(other).a).toBe('other-id');
    expect(recordState(fresh).a).toBe(first.a);
    await sessions.close();
  });

  it('the text picked by session id must be equal: another session, or the same one changed, decodes its own', async () => {
    const { record, sessions } = await storedRecord();
    const first = recordState({ ...record, data: `${record.data} `.slice(0, -1) });
    // Another session's record (another id) while this one's is cached: its own state.
    const elsewhere = { ...record, id: 'another-session', data: JSON.stringify({ ...first, a: 'x-id' }) };
    expect(recordState(elsewhere).a).toBe('x-id');
    // The same id with a changed text, as a refresh writes: never the cached state.
    const changed = { ...record, data: JSON.stringify({ ...first, a: 'refreshed-id' }) };
    expect(recordState(changed).a).toBe('refreshed-id');
    expect(recordState({ ...record, data: `${record.data} `.slice(0, -1) })).toEqual(first);
    await sessions.close();
  });

  it('an unreadable record fails closed with session_not_found, and is not cached as readable', () => {
    const record = { id: 'unreadable-session', data: '{"not":"a state"}' };
    expect(() => recordState(record)).toThrow(SessionError);
    expect(() => recordState(record)).toThrow(/unreadable/);
  });

  it('strict verification sees a refresh at once: the superseded access token is refused', async () => {
    const { sessions, pair } = await storedRecord();
    await sessions.verifyAccess(pair.access, { mode: 'strict' }); // caches the first version's state
    const next = await sessions.refresh(pair.refresh);
    await expect(sessions.verifyAccess(pair.access, { mode: 'strict' })).rejects.toMatchObject({
      code: 'access_revoked',
    });
    await expect(sessions.verifyAccess(next.access, { mode: 'strict' })).resolves.toMatchObject({
      sessionId: pair.sessionId,
    });
    await sessions.close();
  });
});

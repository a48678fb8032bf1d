import type { StoredSession } from '../../stores/store.js';
import type { EngineContext } from '../context.js';
import { decodeState, type SessionState } from '../state.js';
import type { SessionInfo } from '../types.js';
import { checkSessionId, requireNamespace } from '../validate.js';

/** The live sessions of a namespace, oldest first, with their times and device metadata. */
export async function listSessions(ctx: EngineContext, namespace: string): Promise<SessionInfo[]> {
  const ns = requireNamespace(namespace);
  const records = await ctx.storeCall(() => ctx.store.listNamespace(ns, ctx.clock()));
  return records.map(toSessionInfo);
}

/** One live session's details, or null. */
export async function getSession(ctx: EngineContext, sessionId: string): Promise<SessionInfo | null> {
  const record = await ctx.get(checkSessionId(sessionId), ctx.clock());
  return record === null ? null : toSessionInfo(record);
}

function toSessionInfo(record: StoredSession): SessionInfo {
  // Listing shows an unreadable record without its device details rather than failing the list.
  let state: Pick<SessionState, 'ip' | 'ua'>;
  try {
    state = decodeState(record.data);
  } catch {
    state = { ip: null, ua: null };
  }
  return {
    id: record.id,
    namespace: record.namespace,
    createdAt: new Date(record.createdAt),
    lastUsedAt: new Date(record.lastUsedAt),
    expiresAt: new Date(record.expiresAt),
    ip: state.ip,
    userAgent: state.ua,
  };
}

import { InvalidPayloadError } from '../../errors.js';
import type { StoredSession } from '../../stores/store.js';
import type { EngineContext } from '../context.js';
import { decodeState, type SessionState } from '../state.js';
import type { ListSessionsOptions, SessionInfo, SessionPage } from '../types.js';
import { checkSessionId, isPlainObject, MAX_SESSION_ID_LENGTH, requireNamespace } from '../validate.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
const MAX_CURSOR_LENGTH = 256;
const CURSOR_VERSION = 1;

/** Where a page starts: after this (createdAt, id) in listing order. */
interface Position {
  createdAt: number;
  id: string;
}

/** The live sessions of a namespace, oldest first (creation time, then id). */
export async function listSessions(ctx: EngineContext, namespace: string): Promise<SessionInfo[]> {
  const ns = requireNamespace(namespace);
  const records = await ctx.storeCall(() => ctx.store.listNamespace(ns, ctx.clock()));
  return records.sort(inListingOrder).map(toSessionInfo);
}

/**
 * One page of a namespace's live sessions, in a stable order (creation time, then id): sessions
 * created or ended between pages never make another one appear twice or be skipped. A store with
 * `listNamespacePage` (the SQL stores) reads only the page; others are paged here.
 */
export async function listSessionPage(
  ctx: EngineContext,
  namespace: string,
  options: ListSessionsOptions,
): Promise<SessionPage> {
  const ns = requireNamespace(namespace);
  if (!isPlainObject(options)) throw new InvalidPayloadError('listSessions options must be an object');
  const limit = checkLimit(options.limit);
  const after = options.cursor === undefined ? null : decodeCursor(options.cursor);
  const now = ctx.clock();
  const store = ctx.store;
  let page: StoredSession[];
  let more: boolean;
  if (store.listNamespacePage !== undefined) {
    // One more than asked tells whether another page follows.
    const read = await ctx.storeCall(() => store.listNamespacePage!(ns, now, { limit: limit + 1, after }));
    page = read.slice(0, limit);
    more = read.length > limit;
  } else {
    const ordered = (await ctx.storeCall(() => store.listNamespace(ns, now))).sort(inListingOrder);
    const start = after === null ? 0 : ordered.findIndex((r) => inListingOrder(r, after) > 0);
    page = start === -1 ? [] : ordered.slice(start, start + limit);
    more = start !== -1 && start + limit < ordered.length;
  }
  const last = page.at(-1);
  return {
    sessions: page.map(toSessionInfo),
    nextCursor: more && last !== undefined ? encodeCursor(last) : null,
  };
}

/** One live session's details, or null. */
export async function getSession(ctx: EngineContext, sessionId: string): Promise<SessionInfo | null> {
  const record = await ctx.get(checkSessionId(sessionId), ctx.clock());
  return record === null ? null : toSessionInfo(record);
}

function inListingOrder(a: Position, b: Position): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function checkLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw new InvalidPayloadError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/** Opaque to clients: base64url of `[version, createdAt, id]`. */
function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, position.createdAt, position.id])).toString('base64url');
}

function decodeCursor(cursor: unknown): Position {
  const invalid = () => new InvalidPayloadError('cursor is not a cursor this listing returned');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw invalid();
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
  const [version, createdAt, id] = parsed as unknown[];
  if (
    version !== CURSOR_VERSION ||
    typeof createdAt !== 'number' ||
    !Number.isSafeInteger(createdAt) ||
    createdAt < 0 ||
    typeof id !== 'string' ||
    id.length === 0 ||
    id.length > MAX_SESSION_ID_LENGTH
  ) {
    throw invalid();
  }
  return { createdAt, id };
}

function toSessionInfo(record: StoredSession): SessionInfo {
  // Listing shows an unreadable record without its device details rather than failing the list.
  let state: Pick<SessionState, 'ip' | 'ua' | 'k'>;
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
    jkt: state.k ?? null,
  };
}

import { sessionsBeyondCap } from '../../stores/store.js';
import type { EngineContext } from '../context.js';

interface TrimQueue {
  /** The pass running now, if any. */
  running: Promise<void> | undefined;
  /** The pass that starts when it ends: shared by every login that asks meanwhile. */
  queued: Promise<void> | undefined;
}

const queues = new WeakMap<EngineContext, Map<string, TrimQueue>>();

/**
 * `maxSessionsPerNamespace` on a store without `createCapped` (the built-in stores all have it,
 * which makes the cap part of the create itself): after a login has stored its session, ends the namespace's least
 * recently used sessions beyond the cap. This is exact under concurrency on every store: each
 * login's session is stored before a trim pass that starts after it reads the namespace, so the
 * last pass to start sees every session and keeps exactly the `cap` most recently used, while
 * earlier passes, seeing fewer, only end sessions that rank below the cap among more too.
 *
 * Within one engine, logins of a namespace that arrive while a pass runs share the next pass
 * (one read and one round of deletes instead of one per login): a burst of N logins costs a few
 * passes, not N passes ending up to N sessions each.
 */
export function enforceSessionCap(ctx: EngineContext, namespace: string, cap: number): Promise<void> {
  let byNamespace = queues.get(ctx);
  if (byNamespace === undefined) {
    byNamespace = new Map();
    queues.set(ctx, byNamespace);
  }
  const namespaces = byNamespace;
  let queue = namespaces.get(namespace);
  if (queue === undefined) {
    queue = { running: undefined, queued: undefined };
    namespaces.set(namespace, queue);
  }
  const q = queue;
  // A queued pass has not started yet, so it will read after this login's session was stored.
  if (q.queued !== undefined) return q.queued;
  const run = (): Promise<void> => {
    q.queued = undefined;
    const pass = trim(ctx, namespace, cap);
    const tracked: Promise<void> = pass.finally(() => {
      if (q.running !== tracked) return;
      q.running = undefined;
      if (q.queued === undefined) namespaces.delete(namespace);
    });
    q.running = tracked;
    tracked.catch(() => {}); // the caller handles `pass`; this branch only keeps the bookkeeping
    return pass;
  };
  if (q.running === undefined) return run();
  q.queued = q.running.then(run, run);
  return q.queued;
}

async function trim(ctx: EngineContext, namespace: string, cap: number): Promise<void> {
  const now = ctx.clock();
  const live = await ctx.storeCall(() => ctx.store.listNamespace(namespace, now));
  const beyond = sessionsBeyondCap(live, cap);
  if (beyond.length === 0) return;
  const ended = await Promise.all(
    beyond.map((session) => ctx.storeCall(() => ctx.store.delete(session.id, now))),
  );
  // A session a concurrent pass (another instance) ended first is reported once, by that pass.
  reportCapEndings(
    ctx,
    namespace,
    beyond.filter((_, i) => ended[i] === 1).map((session) => session.id),
  );
}

/** One `revoke` event (scope `cap`) per session the cap ended. */
export function reportCapEndings(ctx: EngineContext, namespace: string, sessionIds: readonly string[]): void {
  for (const sessionId of sessionIds)
    ctx.emit({ type: 'revoke', scope: 'cap', sessionId, namespace, count: 1 });
}

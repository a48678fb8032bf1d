import { InvalidPayloadError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { newCsrfSecret } from '../csrf.js';
import { randomId } from '../ids.js';
import { encodeState, type SessionState } from '../state.js';
import type { LoginOptions, Payload, TokenPair } from '../types.js';
import { checkDevice, checkNamespace, checkPayload, checkSessionTtl, isPlainObject } from '../validate.js';
import { enforceSessionCap, reportCapEndings } from './cap.js';
import { loginBinding } from './dpop-binding.js';

/** Starts a session: access + refresh + CSRF token (jwt_sessions `Session#login`). */
export async function login<P extends Payload, R extends Payload>(
  ctx: EngineContext,
  options: LoginOptions<P, R>,
): Promise<TokenPair> {
  if (!isPlainObject(options)) throw new InvalidPayloadError('login options must be an object');
  const payload = checkPayload('payload', options.payload);
  const refreshPayload = checkPayload('refreshPayload', options.refreshPayload);
  const namespace = checkNamespace(options.namespace);
  const deviceInfo = checkDevice(options.device);
  const accessTtl = checkSessionTtl('accessTtl', options.accessTtl, ctx.config.accessTtl);
  const refreshTtl = checkSessionTtl('refreshTtl', options.refreshTtl, ctx.config.refreshTtl);
  if (options.refreshByAccess !== undefined && typeof options.refreshByAccess !== 'boolean') {
    throw new InvalidPayloadError('refreshByAccess must be a boolean');
  }

  // The proof is checked (and spent) before anything is stored: a refused one creates nothing.
  const jkt = options.dpop === undefined ? undefined : await loginBinding(ctx, options.dpop);
  const now = ctx.clock();
  const nowSec = Math.floor(now / 1000);
  const absoluteDeadline = ctx.config.absoluteTimeoutMs === null ? null : now + ctx.config.absoluteTimeoutMs;
  const refreshExp = ctx.refreshExpiry(nowSec, refreshTtl, absoluteDeadline);
  const state: SessionState = {
    p: payload,
    rp: refreshPayload,
    g: randomId(),
    gi: nowSec,
    ge: refreshExp,
    pg: null,
    pgu: 0,
    a: randomId(),
    ai: nowSec,
    ae: Math.max(nowSec + 1, Math.min(nowSec + accessTtl, refreshExp)),
    pa: null,
    pau: 0,
    c: newCsrfSecret(),
    rba: options.refreshByAccess ?? false,
    at: accessTtl,
    rt: refreshTtl,
    ad: absoluteDeadline,
    rf: now,
    ip: deviceInfo.ip,
    ua: deviceInfo.ua,
  };
  if (jkt !== undefined) state.k = jkt;
  const cap = ctx.config.maxSessionsPerNamespace;
  const capped = cap !== null && namespace !== null ? { cap, namespace } : null;
  const store = ctx.store;
  let id = randomId();
  if (capped !== null && store.createCapped !== undefined && store.acceptsCappedId !== undefined) {
    while (!store.acceptsCappedId(id, capped.namespace)) id = randomId();
  }
  // Sign before storing: a payload too large to verify later is refused with nothing stored.
  const pair = ctx.pair(id, namespace, state);
  const record = {
    id,
    namespace,
    version: 1,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: ctx.sessionExpiry(state, now),
    accessRevoked: false,
    data: encodeState(state),
  };
  const device = { ip: deviceInfo.ip, userAgent: deviceInfo.ua };
  if (capped !== null && store.createCapped !== undefined) {
    const createCapped = store.createCapped.bind(store);
    const ended = await ctx.storeCall(() => createCapped(record, capped.cap, now));
    ctx.emit({ type: 'login', sessionId: id, namespace, device });
    reportCapEndings(ctx, capped.namespace, ended);
    return pair;
  }
  await ctx.storeCall(() => store.create(record));
  ctx.emit({ type: 'login', sessionId: id, namespace, device });
  if (capped !== null) {
    // The session is stored: a failing trim (already reported to onError) does not undo the
    // login; the next login of the namespace trims again.
    await enforceSessionCap(ctx, capped.namespace, capped.cap).catch(() => {});
  }
  return pair;
}

import { InvalidPayloadError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { newCsrfSecret } from '../csrf.js';
import { randomId } from '../ids.js';
import { encodeState, type SessionState } from '../state.js';
import type { LoginOptions, Payload, TokenPair } from '../types.js';
import { checkDevice, checkNamespace, checkPayload, checkSessionTtl, isPlainObject } from '../validate.js';
import { enforceSessionCap } from './cap.js';
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
  const device = checkDevice(options.device);
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
    ip: device.ip,
    ua: device.ua,
  };
  if (jkt !== undefined) state.k = jkt;
  const id = randomId();
  // Sign before storing: a payload too large to verify later is refused with nothing stored.
  const pair = ctx.pair(id, namespace, state);
  await ctx.storeCall(() =>
    ctx.store.create({
      id,
      namespace,
      version: 1,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: ctx.sessionExpiry(state, now),
      accessRevoked: false,
      data: encodeState(state),
    }),
  );
  ctx.emit({ type: 'login', sessionId: id, namespace, device: { ip: device.ip, userAgent: device.ua } });
  const cap = ctx.config.maxSessionsPerNamespace;
  if (cap !== null && namespace !== null) {
    // The session is stored: a failing trim (already reported to onError) does not undo the
    // login; the next login of the namespace trims again.
    await enforceSessionCap(ctx, namespace, cap).catch(() => {});
  }
  return pair;
}

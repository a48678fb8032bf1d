/**
 * `jwt-sessions/client`: the browser half of the product (SPEC §8). No dependencies; it talks to
 * the reference routes (`POST login|refresh|logout`, `GET sessions|session`, `DELETE sessions/:id`).
 *
 * How racing is made impossible:
 * - One refresh at a time for every tab of the origin: a Web Lock (an in-process lock where Web
 *   Locks do not exist). Every refresh names the generation it wants to replace; a tab that gets
 *   the lock after another tab already replaced it sends nothing and uses the new one.
 * - Each new generation (login, refresh, sliding renewal) is broadcast to the other tabs before
 *   the lock is released, so no tab presents a refresh token that was rotated out.
 * - A request retries at most once, after at most one refresh; a refused refresh signs out, a
 *   refresh that cannot reach the server goes `offline` and retries with backoff.
 */

import { type DpopKey, dpopKey } from './dpop.js';

export type Transport = 'cookie' | 'header';

export interface SessionInfo {
  sessionId: string;
  /** The access token's claims (cookie mode: as the server reported them at sign-in or resume). */
  claims: Record<string, unknown> | null;
  /** Epoch milliseconds. */
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** The RFC 7638 thumbprint of the key the session is bound to (DPoP), null when it is not bound. */
  jkt: string | null;
}

export type SessionState =
  | { status: 'loading' }
  | ({ status: 'signed-in' } & SessionInfo)
  /** `reason`: the server's error code, `'logout'`, or `'no_session'` when none was found. */
  | { status: 'signed-out'; reason: string }
  /** Refreshing fails for network reasons; retried with backoff at `retryAt` (epoch ms). */
  | ({ status: 'offline'; retryAt: number; error: string } & SessionInfo);

export type SessionEvent =
  | { type: 'refresh'; shared: boolean }
  | { type: 'renewed' }
  | { type: 'signed-in'; by: 'login' | 'resume' | 'tab' }
  | { type: 'signed-out'; reason: string; by: 'server' | 'tab' | 'logout' }
  | { type: 'offline'; error: string; retryIn: number };

export interface SessionClientOptions {
  /** Where the session routes are mounted, e.g. `/auth` or `https://api.example.com/auth`. */
  baseUrl: string;
  transport: Transport;
  /** Seconds before the access token expires at which it is refreshed (at most half its life). Default 30. */
  refreshMargin?: number;
  /** False: no refresh before expiry, only when a request needs one (default true). */
  autoRefresh?: boolean;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Response header carrying a renewed access token (sliding expiration). Default `authorization`. */
  slidingHeader?: string;
  /**
   * True: DPoP (SPEC §9). Logins send a proof by this browser's non-extractable key, so the server
   * binds the session to it; every refresh and every request of a bound session then carries a
   * fresh proof. Needs WebCrypto (a secure context). See the README section "DPoP (sender-constrained sessions)".
   */
  dpop?: boolean;
  onEvent?: (event: SessionEvent) => void;
}

export interface SessionRow {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/** A failure with the server's `code` (or `network_error`, `signed_out`, `bad_response`). */
export class SessionClientError extends Error {
  readonly code: string;
  /** HTTP status; 0 when the server was not reached. */
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'SessionClientError';
    this.code = code;
    this.status = status;
  }
}

export interface SessionClient {
  readonly transport: Transport;
  readonly state: SessionState;
  /** Settles once the client knows whether a session exists. */
  readonly ready: Promise<SessionState>;
  login(body: Record<string, unknown>): Promise<SessionState>;
  refresh(): Promise<SessionState>;
  logout(): Promise<number>;
  logoutAll(): Promise<number>;
  listSessions(): Promise<SessionRow[]>;
  revokeSession(id: string): Promise<number>;
  /** A drop-in `fetch` that authorizes the request (and refreshes once on an expired token). */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  subscribe(listener: (state: SessionState) => void): () => void;
  /** DPoP: the thumbprint (`jkt`) of this browser's key; null without `dpop: true`. */
  dpopThumbprint(): Promise<string | null>;
  /** The two halves of `fetch`, for other HTTP clients (jwt-sessions/client/axios uses them). */
  readonly interceptors: {
    /**
     * Waits for a refresh in flight, adds the credentials via `set`; resolves a ticket. `url`: the
     * absolute request URL, needed for the DPoP proof of a bound session.
     */
    beforeRequest(method: string, set: (name: string, value: string) => void, url?: string): Promise<unknown>;
    /**
     * True when the request should be sent again: a refresh replaced an expired token. `retried`:
     * this response answers such a second attempt (then nothing more is refreshed).
     */
    afterResponse(
      ticket: unknown,
      status: number,
      header: (name: string) => string | null | undefined,
      code: () => Promise<string>,
      retried?: boolean,
    ): Promise<boolean>;
  };
  /** Stops timers and the tab channel (tests, hot reloads). */
  close(): void;
}

/** A generation of the session: what one refresh (or login, or sliding renewal) produced. */
interface Generation extends SessionInfo {
  /** Sequence number: bigger is newer, across tabs. */
  n: number;
  csrf: string;
  access?: string;
  refresh?: string;
}

type Message = { t: 'gen'; g: Generation } | { t: 'out'; sid: string; reason: string } | { t: 'ask' };

interface TokenBody {
  session_id: string;
  csrf: string;
  access_expires_at: string | null;
  refresh_expires_at: string;
  access_token?: string;
  refresh_token?: string;
  claims?: Record<string, unknown> | null;
  token_type?: string;
  jkt?: string | null;
}

/** Codes that end the session: no refresh can help. */
const ENDED = ['session_not_found', 'session_expired', 'refresh_reused'];
const SAFE = ['GET', 'HEAD', 'OPTIONS'];
/** How long the refreshing tab keeps the lock after broadcasting (delivery to the waiting tabs). */
const HOLD_MS = 100;
/** How long a new header-mode tab waits for an open tab to share its session. */
const ASK_MS = 300;
const locks = new Map<string, Promise<unknown>>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One holder at a time across tabs (Web Locks), or within this JavaScript realm. */
function withLock<T>(name: string, run: () => Promise<T>): Promise<T> {
  const webLocks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (webLocks) return webLocks.request(name, run) as Promise<T>;
  const result = (locks.get(name) ?? Promise.resolve()).then(run, run);
  locks.set(
    name,
    result.catch(() => {}),
  );
  return result;
}

/** The claims of a JWT, unverified (the server verifies; the client only reads its own token). */
function claimsOf(token: string): Record<string, unknown> | null {
  try {
    const part = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function errorOf(response: Response): Promise<SessionClientError> {
  let body: { error?: unknown; code?: unknown } | null = null;
  try {
    body = await response.clone().json();
  } catch {}
  return new SessionClientError(
    typeof body?.code === 'string' ? body.code : `http_${response.status}`,
    typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`,
    response.status,
  );
}

const NONCE_REQUIRED = 'dpop_nonce_required';

const networkError = (error: unknown) =>
  new SessionClientError('network_error', `the server cannot be reached (${String(error)})`, 0);

export function createSessionClient(options: SessionClientOptions): SessionClient {
  const { transport, onEvent } = options;
  if (transport !== 'cookie' && transport !== 'header')
    throw new TypeError("transport must be 'cookie' or 'header'");
  const cookie = transport === 'cookie';
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const slidingHeader = options.slidingHeader ?? 'authorization';
  const margin = (options.refreshMargin ?? 30) * 1000;
  const scope = `jwt-sessions:${transport}:${new URL(base, globalThis.location?.href ?? 'http://localhost').href}`;
  // One DPoP key per origin and routes (tabs of both transports share it).
  const key = options.dpop
    ? dpopKey(`jwt-sessions:${new URL(base, globalThis.location?.href ?? 'http://localhost').href}`)
    : null;
  key?.catch(() => {});
  /** The key's thumbprint once known: a `token_type: "DPoP"` response names the binding. */
  let thumbprint: string | null = null;
  /** The latest `DPoP-Nonce` any response gave. */
  let nonce: string | undefined;
  const keepNonce = (value: string | null | undefined) => {
    if (value) nonce = value;
  };
  /** A fresh proof for one request; a typed error when this browser cannot make one. */
  async function prove(method: string, url: string, token?: string): Promise<string> {
    try {
      const k = await (key as Promise<DpopKey>);
      thumbprint = k.thumbprint;
      return await k.proof(method, url, token, nonce);
    } catch (error) {
      throw new SessionClientError(
        'dpop_unavailable',
        `no DPoP proof can be made here (${String(error)})`,
        0,
      );
    }
  }
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(scope) : null;
  (channel as { unref?: () => void } | null)?.unref?.();

  let gen: Generation | null = null;
  let state: SessionState = { status: 'loading' };
  let refreshing: Promise<boolean> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let closed = false;
  /** False when the current access token looked expired on arrival: this clock is not the server's. */
  let clockAgrees = true;
  const listeners = new Set<(state: SessionState) => void>();

  /** Calls application code: its exceptions surface (asynchronously) but never derail the client. */
  const notify = <T>(fn: ((value: T) => void) | undefined, value: T) => {
    try {
      fn?.(value);
    } catch (error) {
      setTimeout(() => {
        throw error;
      });
    }
  };
  const emit = (event: SessionEvent) => notify(onEvent, event);
  const post = (message: Message) => channel?.postMessage(message);
  const info = (g: Generation): SessionInfo => ({
    sessionId: g.sessionId,
    claims: g.claims,
    accessExpiresAt: g.accessExpiresAt,
    refreshExpiresAt: g.refreshExpiresAt,
    jkt: g.jkt,
  });

  function setState(next: SessionState): void {
    state = next;
    for (const listener of listeners) notify(listener, next);
  }

  function schedule(delay: number, run: () => void): void {
    clearTimeout(timer);
    if (!closed) timer = setTimeout(run, Math.max(delay, 500));
  }

  /** Makes `g` the current generation; `share` tells the other tabs; `fromTab`: another tab sent it. */
  function adopt(g: Generation, share: boolean, fromTab = false): void {
    gen = g;
    failures = 0;
    if (share) post({ t: 'gen', g });
    setState({ status: 'signed-in', ...info(g) });
    // Proactive refresh shortly before expiry; every tab sets it, the lock lets one tab act. A
    // clock far ahead of the server's would make it a refresh storm: then the 401s decide alone.
    const life = g.accessExpiresAt - Date.now();
    // Only a token fresh from the server says something about this clock (a tab's may be old).
    if (!fromTab) clockAgrees = life > 0;
    if ((clockAgrees || fromTab) && options.autoRefresh !== false)
      schedule(life - Math.min(margin, life / 2), () => void refresh(g));
    else clearTimeout(timer);
  }

  function end(reason: string, by: 'server' | 'tab' | 'logout', share: boolean): void {
    const sid = gen?.sessionId;
    gen = null;
    clearTimeout(timer);
    if (state.status === 'signed-out') return;
    if (share && sid !== undefined) post({ t: 'out', sid, reason });
    setState({ status: 'signed-out', reason });
    emit({ type: 'signed-out', reason, by });
  }

  function generation(body: TokenBody, previous: Generation | null): Generation {
    const g: Generation = {
      // Newer is bigger in every tab (a tab resuming from the server knows the latest state).
      n: Math.max(Date.now(), (previous?.n ?? 0) + 1),
      sessionId: body.session_id,
      csrf: body.csrf,
      claims: body.claims ?? (previous?.sessionId === body.session_id ? previous.claims : null),
      accessExpiresAt: Date.parse(body.access_expires_at ?? '') || 0,
      refreshExpiresAt: Date.parse(body.refresh_expires_at),
      // The binding as the server states it (`jkt`, or `token_type` naming this key); a body that
      // says neither (a refresh through an older server) keeps the session's binding.
      jkt:
        typeof body.jkt === 'string'
          ? body.jkt
          : body.token_type === 'DPoP'
            ? thumbprint
            : body.token_type || body.jkt === null || previous?.sessionId !== body.session_id
              ? null
              : previous.jkt,
    };
    if (!cookie) {
      if (!body.access_token || !body.refresh_token)
        throw new SessionClientError('bad_response', 'the server sent no tokens', 200);
      g.access = body.access_token;
      g.refresh = body.refresh_token;
      g.claims = claimsOf(body.access_token);
    }
    return g;
  }

  /** A call to one of the session routes; resolves the JSON body or throws a typed error. */
  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    retried = false,
  ): Promise<T> {
    let response: Response;
    // DPoP: a proof on every session route (the server ignores it where nothing is bound).
    const proof = key && { dpop: await prove(method, base + path) };
    try {
      response = await send(base + path, {
        method,
        headers: { accept: 'application/json', 'content-type': 'application/json', ...headers, ...proof },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        ...(cookie && { credentials: 'include' }),
        cache: 'no-store',
        // Cookie mode: a reload must not cancel a refresh whose new cookies the browser still needs.
        keepalive: cookie && path === '/refresh',
      });
    } catch (error) {
      throw networkError(error);
    }
    keepNonce(response.headers.get('dpop-nonce'));
    if (!response.ok) {
      const error = await errorOf(response);
      // Once, with a fresh proof carrying the nonce the server just gave.
      if (key && error.code === NONCE_REQUIRED && !retried) return call(method, path, body, headers, true);
      throw error;
    }
    try {
      return (await response.json()) as T;
    } catch {
      throw new SessionClientError('bad_response', 'the server sent no JSON', response.status);
    }
  }

  /** Cookie mode: the server's view of the session (after a reload, or for the claims). */
  const currentSession = () => call<TokenBody>('GET', '/session');

  /**
   * Replaces the generation `stale` (once for all callers of this tab, once for all tabs).
   * Resolves true when a newer generation is in place afterwards.
   */
  function refresh(stale: Generation | null): Promise<boolean> {
    refreshing ??= new Promise<boolean>((resolve) => {
      void withLock(scope, async () => {
        let sent = false;
        try {
          if (gen === null || closed) return resolve(false);
          if (stale === null || gen.n !== stale.n || gen.sessionId !== stale.sessionId) {
            emit({ type: 'refresh', shared: true });
            return resolve(true);
          }
          sent = true;
          const g = gen;
          let body: TokenBody;
          try {
            body = await call<TokenBody>(
              'POST',
              '/refresh',
              {},
              cookie ? { 'x-csrf-token': g.csrf } : { 'x-refresh-token': g.refresh ?? '' },
            );
          } catch (error) {
            // Another tab rotated the CSRF secret and its message is late: ask the server.
            if (!(cookie && error instanceof SessionClientError && error.code === 'csrf_invalid'))
              throw error;
            const now = await currentSession();
            if (now.claims !== null) body = now;
            else body = await call<TokenBody>('POST', '/refresh', {}, { 'x-csrf-token': now.csrf });
          }
          adopt(generation(body, g), true);
          emit({ type: 'refresh', shared: false });
          resolve(true);
        } catch (error) {
          refreshFailed(error);
          resolve(false);
        } finally {
          refreshing = null;
        }
        if (sent) await sleep(HOLD_MS);
      });
    });
    return refreshing;
  }

  function refreshFailed(error: unknown): void {
    const e = error instanceof SessionClientError ? error : networkError(error);
    const g = gen;
    if (e.status !== 0 && e.status < 500) {
      end(e.code, 'server', true);
    } else if (g !== null) {
      // Unreachable or failing server: keep the session, try again later (1 s, 2 s, 4 s … 30 s).
      const retryIn = Math.min(30_000, 1000 * 2 ** failures++);
      setState({ status: 'offline', retryAt: Date.now() + retryIn, error: e.code, ...info(g) });
      emit({ type: 'offline', error: e.code, retryIn });
      schedule(retryIn, () => void refresh(g));
    }
  }

  channel?.addEventListener('message', (event: MessageEvent<Message>) => {
    const m = event.data;
    if (m.t === 'ask') {
      if (gen !== null) post({ t: 'gen', g: gen });
    } else if (m.t === 'gen') {
      if (gen === null || m.g.sessionId !== gen.sessionId || m.g.n > gen.n) {
        const first = gen === null;
        adopt(m.g, false, true);
        if (first) emit({ type: 'signed-in', by: 'tab' });
      }
    } else if (m.t === 'out' && (gen === null || gen.sessionId === m.sid)) {
      end(m.reason, m.reason === 'logout' ? 'logout' : 'tab', false);
    }
  });

  async function start(): Promise<SessionState> {
    if (!cookie) {
      post({ t: 'ask' });
      if (channel) await sleep(ASK_MS);
    } else {
      // Under the lock: never read the cookies while another tab is rotating them.
      await withLock(scope, async () => {
        for (;;) {
          try {
            if (gen !== null) return;
            const body = await currentSession();
            const g = generation(body, null);
            if (body.claims !== null) {
              adopt(g, false);
            } else {
              // Only the refresh token is left: refresh with the CSRF token the server just gave.
              gen = g;
              const next = generation(
                await call<TokenBody>('POST', '/refresh', {}, { 'x-csrf-token': g.csrf }),
                g,
              );
              next.claims = (await currentSession()).claims ?? null;
              adopt(next, true);
            }
            emit({ type: 'signed-in', by: 'resume' });
            return;
          } catch (error) {
            const e = error instanceof SessionClientError ? error : networkError(error);
            if (e.status !== 0 && e.status < 500) {
              gen = null;
              return end(e.code === 'token_missing' ? 'no_session' : e.code, 'server', false);
            }
            const retryIn = Math.min(30_000, 1000 * 2 ** failures++);
            emit({ type: 'offline', error: e.code, retryIn });
            if (closed) return;
            await sleep(retryIn);
          }
        }
      });
    }
    if (state.status === 'loading') setState({ status: 'signed-out', reason: 'no_session' });
    return state;
  }

  const ready = start();

  /**
   * Before a request: waits for a refresh in flight (or refreshes a token known to be expired),
   * then adds this transport's credentials through `set`. Resolves a ticket for `afterResponse`.
   */
  async function beforeRequest(
    method: string,
    set: (name: string, value: string) => void,
    url?: string,
  ): Promise<unknown> {
    await ready;
    if (refreshing) await refreshing;
    // Known to be expired: refresh first rather than collect a certain 401.
    if (gen !== null && clockAgrees && gen.accessExpiresAt <= Date.now()) await refresh(gen);
    const g = gen;
    if (g !== null) {
      // A bound session: the DPoP scheme and a proof; `ath` only where the page holds the token.
      const bound = key !== null && g.jkt !== null;
      if (bound) {
        if (url === undefined) throw new TypeError('a DPoP-bound request needs its URL');
        set('dpop', await prove(method, url, g.access));
      }
      if (!cookie) set('authorization', `${bound ? 'DPoP' : 'Bearer'} ${g.access}`);
      else if (!SAFE.includes(method.toUpperCase())) set('x-csrf-token', g.csrf);
    }
    return g;
  }

  /**
   * After a response: picks up a renewed access token; on a 401 ends the session (its code says it
   * is gone) or refreshes once. Resolves true when the request should be sent again, once.
   */
  async function afterResponse(
    ticket: unknown,
    status: number,
    header: (name: string) => string | null | undefined,
    code: () => Promise<string>,
    retried = false,
  ): Promise<boolean> {
    const g = ticket as Generation | null;
    keepNonce(header('dpop-nonce'));
    if (g === null) return false;
    const renewed = header(slidingHeader);
    if (!cookie && gen === g && renewed) pickUpRenewal(renewed.replace(/^(Bearer|DPoP)\s+/i, ''), g);
    if (status !== 401 && status !== 403) return false;
    const c = await code();
    // The server wants a nonce it just gave: once more with a fresh proof carrying it.
    if (c === NONCE_REQUIRED) return !retried && key !== null;
    // Cookie mode: another tab rotated the CSRF secret and its message is late: ask the server.
    if (cookie && status === 403 && c === 'csrf_invalid' && !retried) {
      try {
        const now = await currentSession();
        if (now.claims === null) return refresh(g);
        adopt(generation(now, g), true);
        return true;
      } catch {
        return false;
      }
    }
    if (status === 403) return false;
    if (ENDED.includes(c)) {
      if (gen?.sessionId === g.sessionId) end(c, 'server', true);
      return false;
    }
    return !retried && !c.startsWith('http_') && refresh(g);
  }

  async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request ? new Request(input, init) : null;
    const attempt = async (): Promise<[Response, unknown]> => {
      const headers = new Headers(request ? request.headers : init?.headers);
      const explicit = headers.has('authorization');
      const ticket = await beforeRequest(
        request?.method ?? init?.method ?? 'GET',
        (name, value) => {
          // A caller's own Authorization is kept, and no proof is made for our token then.
          if (!(explicit && (name === 'authorization' || name === 'dpop'))) headers.set(name, value);
        },
        request?.url ?? String(input instanceof URL ? input.href : input),
      );
      const withCredentials = cookie ? { credentials: 'include' as const } : {};
      try {
        const response = request
          ? await send(new Request(request.clone(), { headers, ...withCredentials }))
          : await send(input, { ...init, headers, ...withCredentials });
        return [response, ticket];
      } catch (error) {
        throw networkError(error);
      }
    };
    let [response, ticket] = await attempt();
    const settle = (r: Response, t: unknown, retried?: boolean) =>
      afterResponse(
        t,
        r.status,
        (name) => r.headers.get(name),
        async () => (await errorOf(r)).code,
        retried,
      );
    if (await settle(response, ticket)) {
      [response, ticket] = await attempt();
      await settle(response, ticket, true);
    }
    return response;
  }

  /** Sliding expiration: a renewed access token becomes the current one, in every tab. */
  function pickUpRenewal(token: string, g: Generation): void {
    const claims = claimsOf(token);
    if (token === g.access || typeof claims?.exp !== 'number' || claims.sid !== g.sessionId) return;
    adopt({ ...g, n: g.n + 1, access: token, claims, accessExpiresAt: claims.exp * 1000 }, true);
    emit({ type: 'renewed' });
  }

  /** A call to a session route through `authorizedFetch` (so it refreshes on an expired token). */
  async function authed<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await authorizedFetch(base + path, {
      method,
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }

  async function logout(all: boolean): Promise<number> {
    await ready;
    if (gen === null) throw new SessionClientError('signed_out', 'not signed in', 0);
    let revoked = 0;
    try {
      revoked = (await authed<{ revoked: number }>('POST', '/logout', all ? { refresh_token: 'all' } : {}))
        .revoked;
    } catch (error) {
      // Already ended by the server: signed out all the same.
      if (!(error instanceof SessionClientError && error.status === 401)) throw error;
    }
    end('logout', 'logout', true);
    return revoked;
  }

  return {
    transport,
    get state() {
      return state;
    },
    ready,
    async login(body) {
      await ready;
      const g = generation(await call<TokenBody>('POST', '/login', { ...body, transport }), gen);
      if (cookie) g.claims = (await currentSession()).claims ?? null;
      adopt(g, true);
      emit({ type: 'signed-in', by: 'login' });
      return state;
    },
    async refresh() {
      await ready;
      if (gen === null) throw new SessionClientError('signed_out', 'not signed in', 0);
      await refresh(gen);
      return state;
    },
    logout: () => logout(false),
    logoutAll: () => logout(true),
    listSessions: async () => (await authed<{ sessions: SessionRow[] }>('GET', '/sessions')).sessions,
    async revokeSession(id) {
      const { revoked } = await authed<{ revoked: number }>('DELETE', `/sessions/${encodeURIComponent(id)}`);
      if (id === gen?.sessionId) end('logout', 'logout', true);
      return revoked;
    },
    fetch: authorizedFetch,
    async dpopThumbprint() {
      return key && (await key).thumbprint;
    },
    interceptors: { beforeRequest, afterResponse },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      channel?.close();
    },
  };
}

/**
 * The browser client's state machine against an in-process fake of the session routes (a fake
 * `fetch`): every transition and error path. Two clients in one process stand for two tabs: they
 * share Node's BroadcastChannel and the client's in-process lock (Node has no Web Locks).
 * The same behaviour in real Chromium, against the real server: test/e2e/client.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSessionClient,
  type SessionClient,
  SessionClientError,
  type SessionEvent,
  type SessionState,
  type Transport,
} from '../../src/client/index.js';
import { FakeServer } from './fake-server.js';

let clients: SessionClient[] = [];
let scope = 0;

afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
});

/** A client ("tab") on `server`; tabs of one test share `base` (their channel and lock). */
function tab(server: FakeServer, transport: Transport, base: string, events: SessionEvent[] = []) {
  const client = createSessionClient({
    baseUrl: `http://app.test/${base}/auth`,
    transport,
    fetch: server.fetch,
    onEvent: (event) => events.push(event),
  });
  clients.push(client);
  return client;
}

/** A fake whose routes live under `/<base>/auth` is the same fake: strip the test's scope. */
function scoped(server: FakeServer) {
  const base = `t${++scope}`;
  const inner = server.fetch;
  server.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const path = new URL(url, 'http://app.test').pathname.replace(/^\/t[^/]*/, '');
    return input instanceof Request
      ? inner(new Request(`http://app.test${path}`, input), init)
      : inner(`http://app.test${path}`, init);
  };
  return base;
}

const api = (path = '/api/me') => `http://app.test${path}`;

async function signedIn(transport: Transport, options: ConstructorParameters<typeof FakeServer>[0] = {}) {
  const server = new FakeServer(options);
  const base = scoped(server);
  const events: SessionEvent[] = [];
  const client = tab(server, transport, base, events);
  await client.login({ login: 'demo@example.com', password: 'pw' });
  return { server, base, client, events };
}

describe('sign in and authorized requests', () => {
  it('header mode: login gives signed-in state with the decoded claims; fetch sends the bearer token', async () => {
    const { server, client, events } = await signedIn('header');
    const state = client.state;
    expect(state.status).toBe('signed-in');
    if (state.status !== 'signed-in') return;
    const session = [...server.sessions.values()][0]!;
    expect(state.sessionId).toBe(session.id);
    expect(state.claims).toMatchObject({ sid: session.id, email: 'demo@example.com' });
    expect(state.accessExpiresAt).toBe(session.accessExpiresAt);
    expect(events).toContainEqual({ type: 'signed-in', by: 'login' });
    const response = await client.fetch(api());
    expect(response.status).toBe(200);
    const sent = server.requests.at(-1)!;
    expect(sent.headers.get('authorization')).toBe(`Bearer ${session.access}`);
    expect(sent.headers.has('x-csrf-token')).toBe(false);
  });

  it('cookie mode: credentials included, X-CSRF-Token on unsafe methods only, claims from GET /session', async () => {
    const { server, client } = await signedIn('cookie');
    const state = client.state;
    expect(state.status === 'signed-in' && state.claims).toMatchObject({ email: 'demo@example.com' });
    // One at start (no session yet), one after the login (the claims).
    expect(server.count('GET', '/auth/session')).toBe(2);
    const session = [...server.sessions.values()][0]!;
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      await client.fetch(api(), { method });
      const sent = server.requests.at(-1)!;
      expect(sent.credentials).toBe('include');
      expect(sent.headers.has('authorization')).toBe(false);
      expect(sent.headers.get('x-csrf-token')).toBe(
        ['GET', 'HEAD', 'OPTIONS'].includes(method) ? null : session.csrf,
      );
    }
    // A Request object works too, body and all.
    const response = await client.fetch(new Request(api(), { method: 'POST', body: '{"a":1}' }));
    expect(await response.json()).toMatchObject({ method: 'POST' });
    expect(server.requests.at(-1)!.headers.get('x-csrf-token')).toBe(session.csrf);
  });

  it('a listener or onEvent that throws does not derail the client (the error surfaces asynchronously)', async () => {
    const server = new FakeServer();
    const base = scoped(server);
    const client = createSessionClient({
      baseUrl: `http://app.test/${base}/auth`,
      transport: 'header',
      fetch: server.fetch,
      onEvent: () => {
        throw new Error('onEvent bug');
      },
    });
    clients.push(client);
    client.subscribe(() => {
      throw new Error('listener bug');
    });
    const surfaced: unknown[] = [];
    const onError = (error: unknown) => surfaced.push(error);
    process.on('uncaughtException', onError);
    try {
      await client.login({ login: 'x', password: 'pw' });
      server.expireAccess();
      expect((await client.fetch(api())).status).toBe(200);
      expect(client.state.status).toBe('signed-in');
      expect(server.count('POST', '/auth/refresh')).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(surfaced.map((e) => (e as Error).message)).toContain('listener bug');
      expect(surfaced.map((e) => (e as Error).message)).toContain('onEvent bug');
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it('bad credentials: a typed error with the server code; the state stays signed-out', async () => {
    const server = new FakeServer();
    const client = tab(server, 'header', scoped(server));
    const error = await client.login({ login: 'x', password: 'wrong' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionClientError);
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401 });
    expect(client.state).toEqual({ status: 'signed-out', reason: 'no_session' });
  });

  it('a header-mode response without tokens is bad_response, not a half session', async () => {
    const server = new FakeServer();
    const base = scoped(server);
    const client = createSessionClient({
      baseUrl: `http://app.test/${base}/auth`,
      transport: 'header',
      fetch: async (input, init) => {
        const response = await server.fetch(input, init);
        const body = await response.json();
        delete body.refresh_token;
        return new Response(JSON.stringify(body), { status: response.status });
      },
    });
    clients.push(client);
    await expect(client.login({ login: 'x', password: 'pw' })).rejects.toMatchObject({
      code: 'bad_response',
    });
    expect(client.state.status).toBe('signed-out');
  });

  it('an unreachable server: network_error (status 0) from login and from fetch', async () => {
    const server = new FakeServer();
    const client = tab(server, 'header', scoped(server));
    server.down = true;
    await expect(client.login({ login: 'x', password: 'pw' })).rejects.toMatchObject({
      code: 'network_error',
      status: 0,
    });
    await expect(client.fetch(api())).rejects.toBeInstanceOf(SessionClientError);
  });

  it('refresh, logout and revokeSession while signed out: signed_out errors; an invalid transport throws', async () => {
    const server = new FakeServer();
    const client = tab(server, 'header', scoped(server));
    await expect(client.refresh()).rejects.toMatchObject({ code: 'signed_out' });
    await expect(client.logout()).rejects.toMatchObject({ code: 'signed_out' });
    expect(() => createSessionClient({ baseUrl: '/auth', transport: 'bearer' as Transport })).toThrow(
      TypeError,
    );
  });
});

describe('expiry: one refresh, one retry, never a loop', () => {
  for (const transport of ['header', 'cookie'] as const) {
    it(`${transport}: 20 concurrent calls on an expired token → 1 refresh, 20 successes`, async () => {
      const { server, client } = await signedIn(transport);
      server.expireAccess(); // the server says expired; the client still believes it is valid
      const before = server.count('GET', '/api/me');
      const responses = await Promise.all(Array.from({ length: 20 }, () => client.fetch(api())));
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(server.count('POST', '/auth/refresh')).toBe(1);
      // Each call: one 401 at most, then its retry.
      expect(server.count('GET', '/api/me') - before).toBeLessThanOrEqual(40);
      expect(client.state.status).toBe('signed-in');
    });
  }

  it('an access token the client knows is expired is refreshed before the request is sent', async () => {
    const { server, client } = await signedIn('header', { accessTtl: 30 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetch(api())));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    expect(server.count('GET', '/api/me')).toBe(10); // no 401 round trip at all
  });

  it('a 401 after the retry is returned to the caller: no second refresh', async () => {
    const { server, client } = await signedIn('header');
    server.accessTtl = -1000; // every token the server issues is already expired
    server.expireAccess();
    const response = await client.fetch(api());
    expect(response.status).toBe(401);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    expect(server.count('GET', '/api/me')).toBe(2);
  });

  it('a 401 without a server code (a foreign API) is passed through untouched', async () => {
    const { server, client } = await signedIn('header');
    const foreign = createSessionClient({
      baseUrl: '/auth',
      transport: 'header',
      fetch: async () => new Response('no', { status: 401 }),
    });
    clients.push(foreign);
    const response = await foreign.fetch('http://elsewhere.test/');
    expect(response.status).toBe(401);
    expect(server.count('POST', '/auth/refresh')).toBe(0);
    expect(client.state.status).toBe('signed-in');
  });

  it('the server ends the session (session_not_found on a request): signed-out once, no refresh', async () => {
    const { server, client, events } = await signedIn('header');
    const seen: SessionState[] = [];
    client.subscribe((state) => seen.push(state));
    server.sessions.clear();
    const responses = await Promise.all(Array.from({ length: 5 }, () => client.fetch(api())));
    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(401));
    expect(client.state).toEqual({ status: 'signed-out', reason: 'session_not_found' });
    expect(seen).toEqual([{ status: 'signed-out', reason: 'session_not_found' }]);
    expect(events.filter((e) => e.type === 'signed-out')).toHaveLength(1);
    expect(server.count('POST', '/auth/refresh')).toBe(0);
    // Signed out: later calls go out without credentials and refresh nothing.
    await client.fetch(api());
    expect(server.requests.at(-1)!.headers.has('authorization')).toBe(false);
    expect(server.count('POST', '/auth/refresh')).toBe(0);
  });

  it('a refused refresh signs out with the server code', async () => {
    const { server, client } = await signedIn('header');
    const session = [...server.sessions.values()][0]!;
    session.refresh = 'rotated-elsewhere'; // the client's refresh token is now a rotated-out one
    session.previousRefresh = null;
    server.expireAccess();
    await expect(client.refresh()).resolves.toEqual({ status: 'signed-out', reason: 'session_not_found' });
    expect(server.count('POST', '/auth/refresh')).toBe(1);
  });

  it('refresh_reused from the server ends the session with that reason', async () => {
    const { server, client } = await signedIn('header');
    server.refreshFailure = { status: 401, code: 'refresh_reused' };
    await client.refresh();
    expect(client.state).toEqual({ status: 'signed-out', reason: 'refresh_reused' });
  });
});

describe('offline: a network failure is not a sign-out', () => {
  it('refresh while the server is down → offline with retries → signed-in when it is back', async () => {
    const { server, client, events } = await signedIn('header');
    const sid = (client.state as { sessionId: string }).sessionId;
    server.down = true;
    await client.refresh();
    expect(client.state).toMatchObject({ status: 'offline', sessionId: sid, error: 'network_error' });
    expect(events.at(-1)).toEqual({ type: 'offline', error: 'network_error', retryIn: 1000 });
    // Waiting requests get a typed network error, not a sign-out.
    await expect(client.fetch(api())).rejects.toMatchObject({ code: 'network_error' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(client.state.status).toBe('offline'); // the first retry failed too: backoff grows
    expect(
      events.filter((e) => e.type === 'offline').map((e) => (e as { retryIn: number }).retryIn),
    ).toContain(2000);
    server.down = false;
    await expect.poll(() => client.state.status, { timeout: 4000 }).toBe('signed-in');
    expect((client.state as { sessionId: string }).sessionId).toBe(sid);
    expect((await client.fetch(api())).status).toBe(200);
    expect(events.some((e) => e.type === 'signed-out')).toBe(false);
  });

  it('a 503 (store unavailable) during a refresh is offline too', async () => {
    const { server, client } = await signedIn('cookie');
    server.refreshFailure = { status: 503, code: 'store_unavailable' };
    await client.refresh();
    expect(client.state).toMatchObject({ status: 'offline', error: 'store_unavailable' });
    server.refreshFailure = null;
    await expect.poll(() => client.state.status, { timeout: 3000 }).toBe('signed-in');
  });
});

describe('several tabs', () => {
  it('header mode: a new tab asks the open ones and adopts their session', async () => {
    const { server, base, client } = await signedIn('header');
    const second = tab(server, 'header', base);
    expect(second.state).toEqual({ status: 'loading' });
    const state = await second.ready;
    expect(state).toEqual(client.state);
    expect(server.count('GET', '/auth/session')).toBe(0);
  });

  it('header mode: no open tab → signed-out (no_session)', async () => {
    const server = new FakeServer();
    const client = tab(server, 'header', scoped(server));
    expect(await client.ready).toEqual({ status: 'signed-out', reason: 'no_session' });
  });

  for (const transport of ['header', 'cookie'] as const) {
    it(`${transport}: 3 tabs × 10 calls on an expired token, grace 0 → one refresh, all succeed`, async () => {
      const { server, base, client } = await signedIn(transport);
      const tabs = [client, tab(server, transport, base), tab(server, transport, base)];
      await Promise.all(tabs.map((t) => t.ready));
      server.expireAccess();
      const responses = await Promise.all(
        tabs.flatMap((t) => Array.from({ length: 10 }, () => t.fetch(api()))),
      );
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(server.count('POST', '/auth/refresh')).toBe(1);
      expect(server.sessions.size).toBe(1);
      const [first, ...rest] = tabs.map((t) => t.state);
      for (const other of rest) expect(other).toEqual(first);
    });
  }

  it('requests arriving while a refresh is in flight wait for it', async () => {
    const { server, client } = await signedIn('header');
    server.holdRefresh = true;
    const refreshing = client.refresh();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const call = client.fetch(api());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.count('GET', '/api/me')).toBe(0);
    server.releaseRefreshes();
    await refreshing;
    expect((await call).status).toBe(200);
    const session = [...server.sessions.values()][0]!;
    expect(server.requests.at(-1)!.headers.get('authorization')).toBe(`Bearer ${session.access}`);
  });

  it('logout in one tab signs out every tab once, with reason logout', async () => {
    const { server, base, client } = await signedIn('header');
    const second = tab(server, 'header', base);
    await second.ready;
    const seen: SessionState[] = [];
    second.subscribe((state) => seen.push(state));
    expect(await client.logout()).toBe(1);
    expect(client.state).toEqual({ status: 'signed-out', reason: 'logout' });
    await expect.poll(() => second.state.status).toBe('signed-out');
    expect(seen).toEqual([{ status: 'signed-out', reason: 'logout' }]);
  });

  it('a session ended by the server reaches the other tabs with its code', async () => {
    const { server, base, client } = await signedIn('cookie');
    const second = tab(server, 'cookie', base);
    await second.ready;
    server.sessions.clear();
    server.cookieSession = null;
    expect((await client.fetch(api())).status).toBe(401);
    expect(client.state).toEqual({ status: 'signed-out', reason: 'token_missing' });
    await expect.poll(() => second.state).toEqual({ status: 'signed-out', reason: 'token_missing' });
  });

  it('sliding renewal: the renewed access token is used next, in this tab and the others', async () => {
    const { server, base, client, events } = await signedIn('header');
    const second = tab(server, 'header', base);
    await second.ready;
    server.slideNext = true;
    await client.fetch(api());
    const session = [...server.sessions.values()][0]!;
    expect(events.at(-1)).toEqual({ type: 'renewed' });
    await client.fetch(api());
    expect(server.requests.at(-1)!.headers.get('authorization')).toBe(`Bearer ${session.access}`);
    await expect
      .poll(() => (second.state as { accessExpiresAt: number }).accessExpiresAt)
      .toBe(Math.floor(session.accessExpiresAt / 1000) * 1000);
    await second.fetch(api());
    expect(server.requests.at(-1)!.headers.get('authorization')).toBe(`Bearer ${session.access}`);
    expect(server.count('POST', '/auth/refresh')).toBe(0);
  });
});

describe('cookie mode resume and CSRF', () => {
  it('a reload resumes from GET /session; with only a refresh token left it refreshes first', async () => {
    const { server, base } = await signedIn('cookie');
    const reloaded = tab(server, 'cookie', base);
    expect(await reloaded.ready).toMatchObject({
      status: 'signed-in',
      claims: { email: 'demo@example.com' },
    });
    server.expireAccess();
    const again = tab(server, 'cookie', base);
    expect(await again.ready).toMatchObject({ status: 'signed-in' });
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    const refresh = server.requests.find((r) => r.path === '/auth/refresh')!;
    expect(refresh.headers.get('x-csrf-token')).toMatch(/^csrf/);
  });

  it('no cookies: signed-out (no_session); an unreachable server retries the resume', async () => {
    const server = new FakeServer();
    const base = scoped(server);
    expect(await tab(server, 'cookie', base).ready).toEqual({ status: 'signed-out', reason: 'no_session' });
    server.down = true;
    const events: SessionEvent[] = [];
    const client = tab(server, 'cookie', base, events);
    setTimeout(() => {
      server.down = false;
    }, 300);
    expect(await client.ready).toEqual({ status: 'signed-out', reason: 'no_session' });
    expect(events[0]).toMatchObject({ type: 'offline', error: 'network_error' });
  });

  it('a stale CSRF token at refresh (another tab rotated it): the client asks the server, no sign-out', async () => {
    const { server, client } = await signedIn('cookie');
    const session = [...server.sessions.values()][0]!;
    session.csrf = 'rotated-by-another-tab';
    await client.refresh();
    expect(client.state.status).toBe('signed-in');
    expect(server.count('GET', '/auth/session')).toBe(3); // start, login, and the stale-CSRF check
    expect(server.count('POST', '/auth/refresh')).toBe(1); // the access token was still valid
    await client.fetch(api(), { method: 'POST' });
    expect(server.requests.at(-1)!.headers.get('x-csrf-token')).toBe('rotated-by-another-tab');
  });
});

describe('cookie mode: a stale CSRF token on a request', () => {
  it('a 403 csrf_invalid: the client asks the server for the current token and retries once', async () => {
    const { server, client } = await signedIn('cookie');
    const session = [...server.sessions.values()][0]!;
    session.csrf = 'rotated-by-another-tab';
    const response = await client.fetch(api(), { method: 'POST' });
    expect(response.status).toBe(200);
    expect(server.requests.at(-1)!.headers.get('x-csrf-token')).toBe('rotated-by-another-tab');
    expect(server.count('POST', '/auth/refresh')).toBe(0);
    // A CSRF token the server keeps refusing: the 403 goes back to the caller after one retry.
    const refusing = createSessionClient({
      baseUrl: 'http://app.test/auth',
      transport: 'cookie',
      fetch: async (input, init) => {
        const path = new URL(String(input instanceof Request ? input.url : input)).pathname;
        if (path === '/api/me') return new Response('{"code":"csrf_invalid","error":"no"}', { status: 403 });
        return server.fetch(input, init);
      },
    });
    clients.push(refusing);
    const before = server.count('GET', '/auth/session');
    expect((await refusing.fetch(api(), { method: 'POST' })).status).toBe(403);
    expect(server.count('GET', '/auth/session') - before).toBe(2); // resume, then one check
  });
});

describe('session routes', () => {
  it('listSessions, revokeSession (another and then its own), logoutAll', async () => {
    const { server, base, client } = await signedIn('header');
    const other = tab(server, 'header', `${base}-other`);
    await other.ready;
    await other.login({ login: 'x', password: 'pw' });
    const rows = await client.listSessions();
    expect(rows).toHaveLength(2);
    const mine = (client.state as { sessionId: string }).sessionId;
    const theirs = rows.find((r) => r.id !== mine)!.id;
    expect(await client.revokeSession(theirs)).toBe(1);
    await expect(client.revokeSession('nope')).rejects.toMatchObject({ code: 'not_found', status: 404 });
    expect(await client.revokeSession(mine)).toBe(1);
    expect(client.state).toEqual({ status: 'signed-out', reason: 'logout' });
    await client.login({ login: 'x', password: 'pw' });
    expect(await client.logoutAll()).toBe(1);
    expect(server.requests.at(-1)!.path).toBe('/auth/logout');
  });

  it('logout when the server already ended the session: signed out all the same', async () => {
    const { server, client } = await signedIn('header');
    server.sessions.clear();
    expect(await client.logout()).toBe(0);
    expect(client.state.status).toBe('signed-out');
  });
});

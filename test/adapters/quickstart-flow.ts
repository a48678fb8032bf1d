/**
 * What every quickstart must do over real HTTP (examples.test.ts runs it on the files in examples/,
 * quickstarts-packed.test.ts on fresh projects installed from the packed tarball).
 */
import { createServer } from 'node:net';
import { expect } from 'vitest';

/** A port nothing listens on right now (for servers that take their port from PORT). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

function client(url: string) {
  return {
    post: (path: string, headers: Record<string, string>, body?: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    get: (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers }),
  };
}

function setCookieValue(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no ${name} cookie`);
  return line.slice(name.length + 1, line.indexOf(';'));
}

/** Header transport: login → protected call → refresh → logout. */
export async function headerTransportFlow(url: string): Promise<void> {
  const { post, get } = client(url);
  const wrong = await post('/auth/login', {}, { ...DEMO, password: 'wrong' });
  expect(wrong.status).toBe(401);
  expect(await wrong.json()).toMatchObject({ code: 'invalid_credentials' });

  const login = await post('/auth/login', {}, DEMO);
  expect(login.status).toBe(200);
  const tokens = await login.json();
  const me = await get('/api/me', { authorization: `Bearer ${tokens.access_token}` });
  expect(me.status).toBe(200);
  expect(await me.json()).toEqual({ user_id: 'u_demo', session_id: tokens.session_id });
  expect((await get('/api/me')).status).toBe(401);

  const refresh = await post('/auth/refresh', { 'x-refresh-token': tokens.refresh_token });
  expect(refresh.status).toBe(200);
  const rotated = await refresh.json();
  expect(rotated.session_id).toBe(tokens.session_id);
  expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
  expect((await get('/api/me', { authorization: `Bearer ${tokens.access_token}` })).status).toBe(401);
  const authorization = `Bearer ${rotated.access_token}`;
  expect((await get('/api/me', { authorization })).status).toBe(200);

  const list = await get('/auth/sessions', { authorization });
  expect((await list.json()).sessions).toContainEqual(
    expect.objectContaining({ id: tokens.session_id, current: true }),
  );

  const logout = await post('/auth/logout', { authorization });
  expect(await logout.json()).toEqual({ revoked: 1 });
  expect((await get('/api/me', { authorization })).status).toBe(401);
  expect((await post('/auth/refresh', { 'x-refresh-token': rotated.refresh_token })).status).toBe(401);
}

/** Cookie transport: login → protected call → refresh with CSRF → logout clears the cookies. */
export async function cookieTransportFlow(url: string): Promise<void> {
  const { post, get } = client(url);
  const login = await post('/auth/login', {}, { ...DEMO, transport: 'cookie' });
  expect(login.status).toBe(200);
  const { csrf } = await login.json();
  const cookie = `jwt_access=${setCookieValue(login, 'jwt_access')}; jwt_refresh=${setCookieValue(login, 'jwt_refresh')}`;
  expect((await get('/api/me', { cookie })).status).toBe(200);

  expect((await post('/auth/refresh', { cookie })).status).toBe(403);
  const refresh = await post('/auth/refresh', { cookie, 'x-csrf-token': csrf });
  expect(refresh.status).toBe(200);
  const next = await refresh.json();
  const rotatedCookie = `jwt_access=${setCookieValue(refresh, 'jwt_access')}; jwt_refresh=${setCookieValue(refresh, 'jwt_refresh')}`;
  expect((await get('/api/me', { cookie: rotatedCookie })).status).toBe(200);

  const logout = await post('/auth/logout', { cookie: rotatedCookie, 'x-csrf-token': next.csrf });
  expect(await logout.json()).toEqual({ revoked: 1 });
  expect(logout.headers.getSetCookie().every((c) => /^jwt_(access|refresh)=; .*Max-Age=0/.test(c))).toBe(
    true,
  );
  expect((await get('/api/me', { cookie: rotatedCookie })).status).toBe(401);
}

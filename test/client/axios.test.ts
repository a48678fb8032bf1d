/**
 * The axios add-on against the in-process fake of the session routes (axios' own fetch adapter
 * given the fake `fetch`): the same single-flight refresh, single retry and sign-out as
 * `client.fetch`. In real Chromium against the real server: test/e2e/client.test.ts.
 */
import axios, { type AxiosInstance } from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { attachSessionClient } from '../../src/client/axios.js';
import { createSessionClient, type SessionClient, type Transport } from '../../src/client/index.js';
import { FakeServer } from './fake-server.js';

const clients: SessionClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

let scope = 0;

async function setup(
  transport: Transport,
): Promise<{ server: FakeServer; client: SessionClient; api: AxiosInstance }> {
  const server = new FakeServer();
  const client = createSessionClient({
    baseUrl: `http://app.test/axios${++scope}/auth`,
    transport,
    fetch: (input, init) => server.fetch(String(input).replace(/\/axios\d+/, ''), init),
  });
  clients.push(client);
  await client.login({ login: 'demo@example.com', password: 'pw' });
  const api = axios.create({ baseURL: 'http://app.test', adapter: 'fetch', env: { fetch: server.fetch } });
  attachSessionClient(api, client);
  return { server, client, api };
}

describe('axios interceptors', () => {
  for (const transport of ['header', 'cookie'] as const) {
    it(`${transport}: 20 concurrent calls on an expired token → 1 refresh, 20 successes`, async () => {
      const { server, api, client } = await setup(transport);
      server.expireAccess();
      const responses = await Promise.all(Array.from({ length: 20 }, () => api.get('/api/me')));
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(server.count('POST', '/auth/refresh')).toBe(1);
      expect(client.state.status).toBe('signed-in');
      const session = [...server.sessions.values()][0]!;
      const last = server.requests.at(-1)!;
      if (transport === 'header') expect(last.headers.get('authorization')).toBe(`Bearer ${session.access}`);
      else expect(last.credentials).toBe('include');
    });
  }

  it('cookie: X-CSRF-Token on unsafe methods only', async () => {
    const { server, api } = await setup('cookie');
    const session = [...server.sessions.values()][0]!;
    for (const method of ['get', 'head', 'options', 'post', 'put', 'patch', 'delete'] as const) {
      await api.request({
        method,
        url: '/api/me',
        data: ['get', 'head'].includes(method) ? undefined : { a: 1 },
      });
      const sent = server.requests.at(-1)!;
      expect(sent.headers.get('x-csrf-token')).toBe(
        ['get', 'head', 'options'].includes(method) ? null : session.csrf,
      );
      expect(sent.headers.has('authorization')).toBe(false);
    }
  });

  it('a 401 after the retry rejects with the axios error: no second refresh, no loop', async () => {
    const { server, api } = await setup('header');
    server.accessTtl = -1000;
    server.expireAccess();
    const error = await api.get('/api/me').catch((e: unknown) => e);
    expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
    expect(server.count('POST', '/auth/refresh')).toBe(1);
    expect(server.count('GET', '/api/me')).toBe(2);
  });

  it('session_not_found: signed-out once, the error passed on, nothing refreshed', async () => {
    const { server, api, client } = await setup('header');
    server.sessions.clear();
    const errors = await Promise.all(
      Array.from({ length: 3 }, () => api.get('/api/me').catch((e: unknown) => e)),
    );
    expect(errors.every((e) => axios.isAxiosError(e) && e.response?.data.code === 'session_not_found')).toBe(
      true,
    );
    expect(client.state).toEqual({ status: 'signed-out', reason: 'session_not_found' });
    expect(server.count('POST', '/auth/refresh')).toBe(0);
  });

  it('a renewed access token in the response is picked up; detach removes the interceptors', async () => {
    const { server, api, client } = await setup('header');
    const before = (client.state as { accessExpiresAt: number }).accessExpiresAt;
    server.slideNext = true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await api.get('/api/me');
    const session = [...server.sessions.values()][0]!;
    expect((client.state as { accessExpiresAt: number }).accessExpiresAt).toBeGreaterThan(before);
    await api.get('/api/me');
    expect(server.requests.at(-1)!.headers.get('authorization')).toBe(`Bearer ${session.access}`);
    const plain = axios.create({
      baseURL: 'http://app.test',
      adapter: 'fetch',
      env: { fetch: server.fetch },
    });
    const detach = attachSessionClient(plain, client);
    detach();
    await plain.get('/api/me').catch(() => {});
    expect(server.requests.at(-1)!.headers.has('authorization')).toBe(false);
  });
});

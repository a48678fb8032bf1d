/**
 * Koa's own errors (http-errors thrown by `ctx.throw`, a body parser, a router) come out through
 * `auth.errorHandler()` in the `{error, code}` shape with `Cache-Control: no-store`, never echoing
 * what the request carried; anything that is not a client error still goes on to the app.
 */
import { createServer } from 'node:http';
import Koa from 'koa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { koaSessions } from '../../src/adapters/koa.js';
import { listen } from './apps.js';
import { createFixture, type RunningApp } from './harness.js';

const ECHO = 'request-supplied <script>detail</script>';
let app: RunningApp;

beforeAll(async () => {
  const fixture = createFixture();
  const auth = koaSessions(fixture.sessions, fixture.httpOptions);
  const koa = new Koa();
  koa.silent = true;
  koa.use(auth.errorHandler());
  koa.use((ctx) => {
    const status = Number(ctx.path.slice(1));
    if (status >= 400 && status < 500) ctx.throw(status, `${ECHO} ${ctx.get('x-echo')}`);
    throw Object.assign(new Error(ECHO), { status: 502, expose: true });
  });
  app = await listen(createServer(koa.callback()));
});
afterAll(() => app?.close());

it.each([
  [400, 'bad_request'],
  [404, 'not_found'],
  [413, 'payload_too_large'],
  [415, 'unsupported_media_type'],
])('Koa %i → %s JSON, no-store, no echo', async (status, code) => {
  const reply = await fetch(`${app.url}/${status}`, { headers: { 'x-echo': 'from-the-header' } });
  const text = await reply.text();
  expect(reply.status).toBe(status);
  expect(JSON.parse(text)).toEqual({ error: expect.any(String), code });
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(text).not.toContain('from-the-header');
  expect(text).not.toContain('script');
});

it('the app’s own 401/403/422 and server errors are left to Koa', async () => {
  for (const status of [401, 403, 422]) expect((await fetch(`${app.url}/${status}`)).status).toBe(status);
  expect((await fetch(`${app.url}/boom`)).status).toBe(502);
});

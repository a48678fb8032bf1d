import { createServer } from 'node:http';
import express from 'express';
import express4 from 'express4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressSessions } from '../../src/adapters/express.js';
import { ConfigurationError, RequestError } from '../../src/errors.js';
import { listen, startExpressOn } from './apps.js';
import { createFixture, type RunningApp } from './harness.js';
import { defineScenarios } from './scenarios.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

// The whole HTTP contract again, every guarded route a single `auth.withSession(handler)`, on
// Express 5 and on Express 4 (which does not catch a handler's rejected promise itself).
defineScenarios('express (withSession)', startExpressOn(express, 'handler'));
defineScenarios('express 4 (withSession)', startExpressOn(express4, 'handler'));

describe.each([
  ['Express 5', express],
  ['Express 4', express4 as unknown as typeof express],
])('withSession on %s: what the handler throws reaches the error handlers', (_name, createApp) => {
  const fixture = createFixture();
  const auth = expressSessions(fixture.sessions, fixture.httpOptions);
  let running: RunningApp | undefined;
  let base = '';
  let handlerRuns = 0;

  beforeAll(async () => {
    const app = createApp();
    app.use('/auth', auth.routes(fixture.routeOptions));
    app.get(
      '/sync-typed',
      auth.withSession(() => {
        handlerRuns++;
        throw new RequestError('not_found', 'no such note');
      }),
    );
    app.get(
      '/async-plain',
      auth.withSession(async () => {
        handlerRuns++;
        await Promise.resolve();
        throw new Error('not ours');
      }),
    );
    // Ours answer the library's typed errors; the app's own handler gets everything else.
    app.use(
      auth.errorHandler(),
      (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).json({ passedOn: error.message });
      },
    );
    running = await listen(createServer(app));
    base = running.url;
  });
  afterAll(() => running?.close());

  it('a typed error thrown at once gets the JSON shape; a rejection goes on to the app', async () => {
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(DEMO),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}` };
    const typed = await fetch(`${base}/sync-typed`, { headers });
    expect(typed.status).toBe(404);
    expect(await typed.json()).toEqual({ error: 'no such note', code: 'not_found' });
    const plain = await fetch(`${base}/async-plain`, { headers });
    expect(plain.status).toBe(500);
    expect(await plain.json()).toEqual({ passedOn: 'not ours' });
    expect(handlerRuns).toBe(2);
  });

  it('a refused request never reaches the handler', async () => {
    const before = handlerRuns;
    const reply = await fetch(`${base}/sync-typed`, { headers: { authorization: 'Bearer not.a.token' } });
    expect(reply.status).toBe(401);
    expect(handlerRuns).toBe(before);
    expect(() => auth.withSession(() => undefined, { transport: 'pigeon' as never })).toThrow(
      ConfigurationError,
    );
  });
});

/**
 * What is Fastify-specific about the adapter: a plugin that skips encapsulation (fastify-plugin's
 * symbols, set by hand), named `jwt-sessions`, whose decorators reach the
 * registering scope, a typed `request.jwtSession` (null where no hook ran), a routes plugin that
 * keeps its body parsing to itself, and configuration errors at registration.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { jwtSessionRoutes, jwtSessions } from '../../src/adapters/fastify.js';
import { ConfigurationError } from '../../src/errors.js';
import { createFixture } from './harness.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

describe('Fastify plugin', () => {
  it('decorates the registering scope; request.jwtSession is null on routes without a hook', async () => {
    const fixture = createFixture();
    const app = Fastify();
    await app.register(jwtSessions, { sessions: fixture.sessions, ...fixture.httpOptions });
    expect(app.hasPlugin('jwt-sessions')).toBe(true);
    for (const name of [
      'sessions',
      'sessionHttp',
      'requireAccess',
      'requireRefresh',
      'requireRefreshByAccess',
    ]) {
      expect(app.hasDecorator(name), name).toBe(true);
    }
    expect(app.sessions).toBe(fixture.sessions);
    expect(app.hasRequestDecorator('jwtSession')).toBe(true);
    app.get('/open', async (request) => ({ session: request.jwtSession }));
    app.get('/guarded', { onRequest: app.requireAccess({ transport: 'header' }) }, async (request) => ({
      sid: request.jwtSession?.sessionId,
    }));
    const login = await fixture.sessions.login({ payload: { user_id: 'u1' } });
    expect((await app.inject({ url: '/open' })).json()).toEqual({ session: null });
    const guarded = await app.inject({
      url: '/guarded',
      headers: { authorization: `Bearer ${login.access}` },
    });
    expect(guarded.json()).toEqual({ sid: login.sessionId });
    const refused = await app.inject({ url: '/guarded', cookies: { jwt_access: login.access } });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: expect.any(String), code: 'token_missing' });
    await app.close();
  });

  it('the routes plugin parses its own bodies without changing the rest of the app', async () => {
    const fixture = createFixture();
    const app = Fastify();
    await app.register(jwtSessions, { sessions: fixture.sessions, ...fixture.httpOptions });
    await app.register(jwtSessionRoutes, { prefix: '/auth', ...fixture.routeOptions });
    app.post('/notes', async (request) => ({ received: request.body }));
    const note = await app.inject({ method: 'POST', url: '/notes', payload: { text: 'hi' } });
    expect(note.json()).toEqual({ received: { text: 'hi' } });
    const plain = await app.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(plain.json()).toEqual({ received: 'hello' });
    const login = await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify(DEMO),
    });
    expect(login.statusCode).toBe(415);
    expect((await app.inject({ method: 'POST', url: '/auth/login', payload: DEMO })).statusCode).toBe(200);
    await app.close();
  });

  it('the routes plugin works on its own with { sessions }', async () => {
    const fixture = createFixture();
    const app = Fastify();
    await app.register(jwtSessionRoutes, {
      prefix: '/v2/auth',
      sessions: fixture.sessions,
      http: fixture.httpOptions,
      ...fixture.routeOptions,
    });
    const login = await app.inject({ method: 'POST', url: '/v2/auth/login', payload: DEMO });
    expect(login.statusCode).toBe(200);
    expect(app.hasDecorator('sessions')).toBe(false);
    await app.close();
  });

  it('configuration errors surface at registration', async () => {
    const fixture = createFixture();
    const withoutSessions = Fastify();
    withoutSessions.register(jwtSessionRoutes, { prefix: '/auth', ...fixture.routeOptions });
    await expect(withoutSessions.ready()).rejects.toBeInstanceOf(ConfigurationError);
    const badCookie = Fastify();
    badCookie.register(jwtSessions, {
      sessions: fixture.sessions,
      accessCookie: { name: '__Host-a', path: '/x' },
    });
    await expect(badCookie.ready()).rejects.toBeInstanceOf(ConfigurationError);
    const badHook = Fastify();
    await badHook.register(jwtSessions, { sessions: fixture.sessions });
    expect(() => badHook.requireAccess({ transport: 'carrier-pigeon' as 'header' })).toThrow(
      ConfigurationError,
    );
  });
});

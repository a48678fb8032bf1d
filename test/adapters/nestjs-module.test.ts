/**
 * The NestJS module beyond the shared scenarios: forRootAsync (options from an injected provider),
 * guard options on the controller, and the exception filter leaving Nest's own exceptions alone
 * while answering the platform's body-parser errors in the `{error, code}` shape.
 */
import 'reflect-metadata';
import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  JwtSession,
  JwtSessionGuard,
  JwtSessionOptions,
  JwtSessionsModule,
  type VerifiedSession,
} from '../../src/adapters/nestjs.js';
import { ConfigurationError } from '../../src/errors.js';
import { createFixture } from './harness.js';

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
const SETTINGS = Symbol('settings');

class NotesController {
  mine(session: VerifiedSession) {
    return { user: session.claims.user_id };
  }
  refused() {
    throw new BadRequestException('the app’s own 400');
  }
  create(body: unknown) {
    return { created: body };
  }
}
// Options on the controller: every handler takes header tokens only.
Controller('notes')(NotesController);
JwtSessionOptions({ transport: 'header' })(NotesController);
const proto = NotesController.prototype;
for (const [method, decorators, guarded] of [
  ['mine', [Get('mine')], true],
  ['refused', [Get('refused')], false],
  ['create', [Post(), HttpCode(200)], false],
] as const) {
  const descriptor = Object.getOwnPropertyDescriptor(proto, method)!;
  if (guarded) {
    JwtSession()(proto, method, 0);
    UseGuards(JwtSessionGuard)(proto, method, descriptor);
  }
  for (const decorator of decorators) decorator(proto, method, descriptor);
}

// One guarded handler inherited by two controllers with different controller-level options: the
// guard resolves options per (handler, controller), so each route keeps its own.
class InheritedNotes {
  whoami(session: VerifiedSession) {
    return { user: session.claims.user_id };
  }
}
{
  const descriptor = Object.getOwnPropertyDescriptor(InheritedNotes.prototype, 'whoami')!;
  JwtSession()(InheritedNotes.prototype, 'whoami', 0);
  UseGuards(JwtSessionGuard)(InheritedNotes.prototype, 'whoami', descriptor);
  Get('whoami')(InheritedNotes.prototype, 'whoami', descriptor);
}
class HeaderNotesController extends InheritedNotes {}
Controller('header-notes')(HeaderNotesController);
JwtSessionOptions({ transport: 'header' })(HeaderNotesController);
class CookieNotesController extends InheritedNotes {}
Controller('cookie-notes')(CookieNotesController);
JwtSessionOptions({ transport: 'cookie' })(CookieNotesController);

function appModule() {
  const fixture = createFixture();
  class SettingsModule {}
  Module({
    providers: [{ provide: SETTINGS, useValue: { sessions: fixture.sessions, http: fixture.httpOptions } }],
    exports: [SETTINGS],
  })(SettingsModule);
  class AppModule {}
  Module({
    imports: [
      JwtSessionsModule.forRootAsync({
        imports: [SettingsModule],
        inject: [SETTINGS],
        routes: { prefix: 'session' },
        useFactory: async (settings: { sessions: typeof fixture.sessions; http: object }) => ({
          sessions: settings.sessions,
          ...settings.http,
          routes: fixture.routeOptions,
        }),
      }),
    ],
    controllers: [NotesController, HeaderNotesController, CookieNotesController],
  })(AppModule);
  return AppModule;
}

/** The Cookie header a browser would send back after this reply's Set-Cookie lines. */
const cookieHeaderOf = (reply: Response) =>
  reply.headers
    .getSetCookie()
    .map((line) => line.slice(0, line.indexOf(';')))
    .join('; ');

describe.each([
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
])('NestJS module on %s', (_platform, adapter) => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(appModule(), adapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app?.close());

  const login = async (transport: 'header' | 'cookie') => {
    const reply = await fetch(`${url}/session/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...DEMO, transport }),
    });
    expect(reply.status).toBe(200);
    return reply;
  };

  it('forRootAsync: the routes under the given prefix, the engine from the injected provider', async () => {
    const { access_token } = await (await login('header')).json();
    const mine = await fetch(`${url}/notes/mine`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await mine.json()).toEqual({ user: 'user-demo' });
  });

  it('controller-level options: a cookie is not accepted where header tokens are required', async () => {
    const cookie = cookieHeaderOf(await login('cookie'));
    const mine = await fetch(`${url}/notes/mine`, { headers: { cookie } });
    expect(mine.status).toBe(401);
    expect(await mine.json()).toEqual({ error: expect.any(String), code: 'token_missing' });
  });

  it('one handler inherited by two controllers: each route keeps its controller’s options', async () => {
    const { access_token } = await (await login('header')).json();
    const cookie = cookieHeaderOf(await login('cookie'));
    const bearer = { authorization: `Bearer ${access_token}` };
    // Alternating, so a cached answer for the first controller would show on the second.
    for (let i = 0; i < 2; i++) {
      const viaHeader = await fetch(`${url}/header-notes/whoami`, { headers: bearer });
      expect(await viaHeader.json()).toEqual({ user: 'user-demo' });
      const headerOnCookieRoute = await fetch(`${url}/cookie-notes/whoami`, { headers: bearer });
      expect(headerOnCookieRoute.status).toBe(401);
      expect(await headerOnCookieRoute.json()).toMatchObject({ code: 'token_missing' });
      const viaCookie = await fetch(`${url}/cookie-notes/whoami`, { headers: { cookie } });
      expect(await viaCookie.json()).toEqual({ user: 'user-demo' });
      const cookieOnHeaderRoute = await fetch(`${url}/header-notes/whoami`, { headers: { cookie } });
      expect(cookieOnHeaderRoute.status).toBe(401);
    }
  });

  it('Nest’s own exceptions keep Nest’s handling', async () => {
    const refused = await fetch(`${url}/notes/refused`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ message: 'the app’s own 400', statusCode: 400 });
    const missing = await fetch(`${url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404 });
  });

  it('a body the platform cannot parse, on an app route: {error, code}, no-store, nothing echoed', async () => {
    const reply = await fetch(`${url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"secret-looking": <script>',
    });
    const text = await reply.text();
    expect(reply.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: expect.any(String), code: 'invalid_json' });
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(text).not.toContain('script');
  });
});

it('forRoot without sessions is a configuration error', () => {
  expect(() => JwtSessionsModule.forRoot({} as never)).toThrow(ConfigurationError);
});

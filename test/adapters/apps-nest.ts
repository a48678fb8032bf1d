/**
 * The adapter test app (see harness.ts) on NestJS 11, on the Express and on the Fastify platform.
 * Decorators are applied as plain function calls (as the adapter does): vitest's transform emits no
 * decorator metadata, and the adapter must not need it. examples/nestjs/ is the same kind of app in
 * ordinary decorator syntax, compiled by tsc as a CommonJS Nest project.
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import { Controller, Get, HttpCode, type INestApplication, Inject, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  JWT_SESSION_HTTP,
  JwtSession,
  JwtSessionsModule,
  RequireSession,
  sendNestResponse,
  type VerifiedSession,
} from '../../src/adapters/nestjs.js';
import { RequestError } from '../../src/errors.js';
import { createSessionHttp, type SessionHttp } from '../../src/http/session-http.js';
import { listen } from './apps.js';
import { type Fixture, INTERNAL_DETAIL, MAX_HEADER_SIZE, type StartApp } from './harness.js';

type MethodDecorator = (target: object, key: string | symbol, descriptor: PropertyDescriptor) => unknown;
type ParamDecorator = (target: object, key: string | symbol | undefined, index: number) => void;

/** `@decorators` on a method and its parameters, written as calls. */
function on(
  target: { prototype: object },
  method: string,
  decorators: MethodDecorator[],
  params: ParamDecorator[] = [],
): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method)!;
  params.forEach((param, index) => {
    param(target.prototype, method, index);
  });
  for (const decorator of decorators.reverse()) decorator(target.prototype, method, descriptor);
}

class ApiController {
  constructor(private readonly http: SessionHttp) {}
  me(session: VerifiedSession) {
    return { claims: session.claims, transport: session.transport };
  }
  echo(session: VerifiedSession) {
    return { ok: true, transport: session.transport };
  }
  stateless(session: VerifiedSession) {
    return { claims: session.claims };
  }
  headerOnly() {
    return { ok: true };
  }
  cookieOnly() {
    return { ok: true };
  }
  refreshCheck(session: VerifiedSession) {
    return { session_id: session.sessionId, transport: session.transport };
  }
  async refreshByAccess(session: VerifiedSession, response: Parameters<typeof sendNestResponse>[0]) {
    // A typed error thrown here reaches the module's exception filter.
    const pair = await this.http.sessions.refreshByAccess(session.token);
    sendNestResponse(response, this.http.tokenResponse(pair, session.transport));
  }
  throwsTyped() {
    throw new RequestError('not_found', 'no such note');
  }
  throwsPlain() {
    throw new Error(INTERNAL_DETAIL);
  }
}
Controller('api')(ApiController);
Inject(JWT_SESSION_HTTP)(ApiController, undefined, 0);
on(ApiController, 'me', [Get('me'), RequireSession()], [JwtSession()]);
on(ApiController, 'echo', [Post('echo'), HttpCode(200), RequireSession()], [JwtSession()]);
on(ApiController, 'stateless', [Get('stateless'), RequireSession({ mode: 'stateless' })], [JwtSession()]);
on(ApiController, 'headerOnly', [Get('header-only'), RequireSession({ transport: 'header' })]);
on(ApiController, 'cookieOnly', [Get('cookie-only'), RequireSession({ transport: 'cookie' })]);
on(
  ApiController,
  'refreshCheck',
  [Post('refresh-check'), HttpCode(200), RequireSession({ kind: 'refresh' })],
  [JwtSession()],
);
on(
  ApiController,
  'refreshByAccess',
  [Post('refresh-by-access'), RequireSession({ kind: 'refresh_by_access' })],
  [JwtSession(), Res()],
);
on(ApiController, 'throwsTyped', [Get('throws-typed')]);
on(ApiController, 'throwsPlain', [Get('throws-plain')]);

class PublicController {
  ok() {
    return { ok: true };
  }
}
Controller()(PublicController);
on(PublicController, 'ok', [Get('public')]);

function appModule(fixture: Fixture) {
  class AppModule {}
  Module({
    imports: [
      JwtSessionsModule.forRoot({
        sessions: createSessionHttp(fixture.sessions, fixture.httpOptions),
        routes: { prefix: fixture.prefix, ...fixture.routeOptions },
      }),
    ],
    controllers: [ApiController, PublicController],
  })(AppModule);
  return AppModule;
}

async function serve(app: INestApplication) {
  await app.init();
  const running = await listen(
    createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app.getHttpAdapter().getInstance()),
  );
  return {
    url: running.url,
    async close() {
      await running.close();
      await app.close();
    },
  };
}

export const startNestExpress: StartApp = async (fixture) => {
  const app = await NestFactory.create<NestExpressApplication>(appModule(fixture), new ExpressAdapter(), {
    logger: false,
  });
  // The routes' 16 KiB cap: Nest's JSON parser reads the body first (its default limit is 100 KiB).
  app.useBodyParser('json', { limit: 16 * 1024 });
  return serve(app);
};

export const startNestFastify: StartApp = async (fixture) => {
  const app = await NestFactory.create(
    appModule(fixture),
    new FastifyAdapter({ http: { maxHeaderSize: MAX_HEADER_SIZE }, bodyLimit: 16 * 1024 } as never),
    { logger: false },
  );
  await app.init();
  await app.listen(0, '127.0.0.1');
  return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), close: () => app.close() };
};

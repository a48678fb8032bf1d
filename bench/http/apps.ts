/**
 * The app under test, one per framework: `GET /api/me` answering the user's profile as a small
 * JSON, guarded as the case says (see spec.ts `Auth`). Framework and peer packages are imported on
 * demand so that a server process loads only its own stack.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorRequestHandler } from 'express';
import type { JwtSessionsEnv } from '../../src/adapters/hono.js';
import type { Sessions } from '../../src/session/engine.js';
import { guardedByJwtSessions, profileOf, ROUTE, SECRET, type ServerSpec, USER } from './spec.js';

export interface RunningApp {
  url: string;
  /** Credentials made by the app itself (express-session: a login request); null = use the token. */
  login: (() => Promise<Record<string, string>>) | null;
  close(): Promise<void>;
}

/** jwt-sessions engine of the case (null for `none` and the peers). */
export type AppSessions = Sessions | null;

const UNAUTHORIZED = { error: 'unauthorized' };

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** The shared secret as a KeyObject, imported once (the peers' fastest configuration). */
function secretKeyObject(): KeyObject {
  return createSecretKey(Buffer.from(SECRET));
}

function unsupported(spec: ServerSpec): never {
  throw new Error(`no ${spec.auth} case on ${spec.framework}`);
}

async function startExpress(spec: ServerSpec, sessions: AppSessions): Promise<RunningApp> {
  const { default: express } = await import('express');
  const { createServer } = await import('node:http');
  const app = express();
  let closeExtra: () => Promise<void> = async () => undefined;
  let login: RunningApp['login'] = null;
  if (spec.auth === 'none') {
    app.get(ROUTE, (_req, res) => {
      res.json(profileOf(USER));
    });
  } else if (spec.auth === 'none-middleware') {
    app.get(
      ROUTE,
      (_req, _res, next) => next(),
      (_req, res) => {
        res.json(profileOf(USER));
      },
    );
  } else if (guardedByJwtSessions(spec.auth) && sessions) {
    const { expressSessions } = await import('../../src/adapters/express.js');
    const auth = expressSessions(sessions);
    // One guarded handler (the README's form); the `none-middleware` row shows what a
    // `requireAccess()` middleware's extra layer costs Express.
    app.get(
      ROUTE,
      auth.withSession((_req, res, session) => {
        res.json(profileOf(session.claims));
      }),
    );
  } else if (spec.auth === 'express-jwt') {
    const { expressjwt } = await import('express-jwt');
    // Its fastest documented form: a KeyObject (jsonwebtoken re-imports a string secret per verify).
    app.get(ROUTE, expressjwt({ secret: secretKeyObject(), algorithms: ['HS256'] }), (req, res) => {
      res.json(profileOf((req as typeof req & { auth: unknown }).auth));
    });
    const onUnauthorized: ErrorRequestHandler = (error, _req, res, next) => {
      if ((error as { status?: number }).status === 401) res.status(401).json(UNAUTHORIZED);
      else next(error);
    };
    app.use(onUnauthorized);
  } else if (spec.auth === 'express-session') {
    const { default: session } = await import('express-session');
    const { RedisStore } = await import('connect-redis');
    const { createClient } = await import('redis');
    const client = createClient({ url: spec.redisUrl });
    client.on('error', (error: Error) => console.error(`redis client: ${error.message}`));
    await client.connect();
    const store = new RedisStore({ client, prefix: `${spec.redisPrefix}sess:` });
    // The usual configuration: no session until login, no rewrite of unchanged sessions.
    app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, name: 'sid' }));
    app.post('/login', (req, res) => {
      (req.session as unknown as { user: unknown }).user = { ...USER };
      res.json({ ok: true });
    });
    app.get(ROUTE, (req, res) => {
      const user = (req.session as unknown as { user?: unknown }).user;
      if (user === undefined) res.status(401).json(UNAUTHORIZED);
      else res.json(profileOf(user));
    });
    closeExtra = async () => {
      await store.clear();
      await client.close();
    };
    login = async () => {
      const response = await fetch(`${url}/login`, { method: 'POST' });
      const cookie = response.headers.getSetCookie()[0];
      if (response.status !== 200 || cookie === undefined) throw new Error(`login: ${response.status}`);
      return { cookie: cookie.split(';', 1)[0]! };
    };
  } else {
    unsupported(spec);
  }
  const server = createServer(app);
  const url = await listen(server);
  return {
    url,
    login,
    async close() {
      await closeServer(server);
      await closeExtra();
    },
  };
}

async function startFastify(spec: ServerSpec, sessions: AppSessions): Promise<RunningApp> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (spec.auth === 'none') {
    app.get(ROUTE, async () => profileOf(USER));
  } else if (guardedByJwtSessions(spec.auth) && sessions) {
    const { jwtSessions } = await import('../../src/adapters/fastify.js');
    await app.register(jwtSessions, { sessions });
    app.get(ROUTE, { onRequest: app.requireAccess() }, async (req) => profileOf(req.jwtSession!.claims));
  } else if (spec.auth === 'fastify-jwt') {
    const { default: fastifyJwt } = await import('@fastify/jwt');
    // Its fastest documented form: fast-jwt's verified-token cache, keyed by the token itself
    // (`cacheKeyBuilder`; the default key hashes every token), as jwt-sessions' verified cache is.
    await app.register(fastifyJwt, {
      secret: SECRET,
      verify: { algorithms: ['HS256'], cache: true, cacheKeyBuilder: (token: string) => token },
    });
    app.get(
      ROUTE,
      {
        // The plugin's documented guard; its errors carry a 401 status.
        onRequest: async (req, reply) => {
          try {
            await req.jwtVerify();
          } catch {
            return reply.code(401).send(UNAUTHORIZED);
          }
          return undefined;
        },
      },
      async (req) => profileOf(req.user),
    );
  } else {
    unsupported(spec);
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, login: null, close: () => app.close() };
}

async function startHono(spec: ServerSpec, sessions: AppSessions): Promise<RunningApp> {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono<JwtSessionsEnv>();
  if (spec.auth === 'none') {
    app.get(ROUTE, (c) => c.json(profileOf(USER)));
  } else if (spec.auth === 'none-middleware') {
    app.get(
      ROUTE,
      async (_c, next) => {
        await next();
      },
      (c) => c.json(profileOf(USER)),
    );
  } else if (guardedByJwtSessions(spec.auth) && sessions) {
    const { honoSessions } = await import('../../src/adapters/hono.js');
    const auth = honoSessions(sessions);
    // The guarded route as one handler (the README's form): a `requireAccess()` middleware in front
    // would add Hono's async middleware chain, the `none-middleware` row's cost.
    app.get(
      ROUTE,
      auth.withSession((c, session) => c.json(profileOf(session.claims))),
    );
  } else {
    unsupported(spec);
  }
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    login: null,
    close: () => closeServer(server),
  };
}

async function startKoa(spec: ServerSpec, sessions: AppSessions): Promise<RunningApp> {
  const { default: Koa } = await import('koa');
  const { createServer } = await import('node:http');
  const app = new Koa();
  // The same shape for both (one middleware answering the route, no router), so the ratio is the
  // guard's cost; the guarded one runs the guard, then the answer as its `next`.
  if (spec.auth === 'none') {
    app.use((ctx, next) => {
      if (ctx.path !== ROUTE) return next();
      ctx.body = profileOf(USER);
      return undefined;
    });
  } else if (guardedByJwtSessions(spec.auth) && sessions) {
    const { koaSessions } = await import('../../src/adapters/koa.js');
    const guard = koaSessions(sessions).requireAccess();
    app.use((ctx, next) => {
      if (ctx.path !== ROUTE) return next();
      return guard(ctx, () => {
        ctx.body = profileOf(ctx.state.jwtSession.claims);
        return Promise.resolve();
      });
    });
  } else {
    unsupported(spec);
  }
  const server = createServer(app.callback());
  return { url: await listen(server), login: null, close: () => closeServer(server) };
}

/** NestJS 11 on its Express or Fastify platform; decorators applied as calls (no metadata needed). */
async function startNest(spec: ServerSpec, sessions: AppSessions, platform: 'express' | 'fastify') {
  await import('reflect-metadata');
  const common = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const imports: unknown[] = [];
  const providers: unknown[] = [];
  class MeController {
    me(request: { jwtSession?: { claims: unknown }; user?: unknown }) {
      return profileOf(request.jwtSession?.claims ?? request.user ?? USER);
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(MeController.prototype, 'me')!;
  common.Req()(MeController.prototype, 'me', 0);
  if (guardedByJwtSessions(spec.auth) && sessions) {
    const { JwtSessionsModule, JwtSessionGuard } = await import('../../src/adapters/nestjs.js');
    imports.push(JwtSessionsModule.forRoot({ sessions }));
    common.UseGuards(JwtSessionGuard)(MeController.prototype, 'me', descriptor);
  } else if (spec.auth === 'nestjs-passport') {
    const { PassportModule, PassportStrategy, AuthGuard } = await import('@nestjs/passport');
    const { ExtractJwt, Strategy } = await import('passport-jwt');
    class JwtStrategy extends PassportStrategy(Strategy) {
      constructor() {
        super({
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          // A KeyObject, as for express-jwt: jsonwebtoken re-imports a string secret per verify.
          // passport-jwt hands it to jsonwebtoken as is; its types only predate KeyObject.
          secretOrKey: secretKeyObject() as unknown as Buffer,
          algorithms: ['HS256'],
        });
      }
      validate(payload: unknown) {
        return payload;
      }
    }
    common.Injectable()(JwtStrategy);
    imports.push(PassportModule);
    providers.push(JwtStrategy);
    common.UseGuards(AuthGuard('jwt'))(MeController.prototype, 'me', descriptor);
  } else if (spec.auth !== 'none') {
    unsupported(spec);
  }
  common.Get(ROUTE.slice(1))(MeController.prototype, 'me', descriptor);
  common.Controller()(MeController);
  class AppModule {}
  common.Module({
    imports: imports as never[],
    providers: providers as never[],
    controllers: [MeController],
  })(AppModule);
  const adapter =
    platform === 'express'
      ? new (await import('@nestjs/platform-express')).ExpressAdapter()
      : new (await import('@nestjs/platform-fastify')).FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, login: null, close: () => app.close() };
}

/**
 * Next.js 16: the adapter test app's production build (test/fixtures/next-app, built by the parent)
 * on Next's own server; its `/api/me` route file calls the handler registered on globalThis.
 */
async function startNext(spec: ServerSpec, sessions: AppSessions): Promise<RunningApp> {
  const { createRequire } = await import('node:module');
  const { createServer } = await import('node:http');
  const { fileURLToPath } = await import('node:url');
  const require = createRequire(import.meta.url);
  // This file runs from a copy under <root>/node_modules/.cache (see transpileTree).
  const root = fileURLToPath(import.meta.url).split('/node_modules/')[0]!;
  let handler: (request: Request, context: unknown) => Response | Promise<Response>;
  if (spec.auth === 'none') {
    handler = () => Response.json(profileOf(USER));
  } else if (guardedByJwtSessions(spec.auth) && sessions) {
    const { nextSessions } = await import('../../src/adapters/next.js');
    handler = nextSessions(sessions).withSession((_request, session) =>
      Response.json(profileOf(session.claims)),
    );
  } else {
    unsupported(spec);
  }
  (globalThis as { __jwtSessionsNextFixture?: unknown }).__jwtSessionsNextFixture = {
    handle: (key: string, request: Request) =>
      key === `${ROUTE} GET` ? handler(request, undefined) : Response.json(UNAUTHORIZED, { status: 404 }),
    proxy: (_request: Request, next: () => Response) => next(),
  };
  const createNext = require('next') as (options: object) => {
    prepare(): Promise<void>;
    getRequestHandler(): (req: unknown, res: unknown) => Promise<void>;
    close(): Promise<void>;
  };
  const next = createNext({ dev: false, dir: `${root}/test/fixtures/next-app`, quiet: true });
  await next.prepare();
  const handle = next.getRequestHandler();
  const server = createServer((req, res) => handle(req, res));
  return {
    url: await listen(server),
    login: null,
    async close() {
      await closeServer(server);
      await next.close();
    },
  };
}

export function startApp(spec: ServerSpec, sessions: AppSessions): Promise<RunningApp> {
  switch (spec.framework) {
    case 'express':
      return startExpress(spec, sessions);
    case 'fastify':
      return startFastify(spec, sessions);
    case 'hono':
      return startHono(spec, sessions);
    case 'koa':
      return startKoa(spec, sessions);
    case 'nestjs-express':
      return startNest(spec, sessions, 'express');
    case 'nestjs-fastify':
      return startNest(spec, sessions, 'fastify');
    case 'next':
      return startNext(spec, sessions);
  }
}

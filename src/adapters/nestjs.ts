/**
 * NestJS adapter (Nest 11, on the Express or the Fastify platform).
 *
 * ```ts
 * @Module({ imports: [JwtSessionsModule.forRoot({ sessions, routes: { prefix: 'auth', authenticate } })] })
 * export class AppModule {}
 *
 * @Controller('api')
 * export class MeController {
 *   @Get('me')
 *   @UseGuards(JwtSessionGuard)                 // or @RequireSession({ transport: 'header' })
 *   me(@JwtSession() session: VerifiedSession) { return session.claims; }
 * }
 * ```
 *
 * - `JwtSessionsModule.forRoot` / `forRootAsync`: a global module providing the HTTP layer
 *   (`@Inject(JWT_SESSION_HTTP)`), the guard, the exception filter (registered app-wide; it answers
 *   the library's errors and the platform's body-parser errors, nothing else) and, with `routes`,
 *   the ready-made routes as a controller under `routes.prefix`.
 * - `JwtSessionGuard` + `@JwtSessionOptions({ transport, mode, claims, kind })` per route or
 *   controller; `@RequireSession(options)` is both in one.
 * - `@JwtSession()`: the verified session as a handler parameter.
 *
 * Nothing here relies on emitted decorator metadata (`emitDecoratorMetadata`): every injection
 * names its token, and the decorators are applied as functions, so the library needs neither
 * legacy decorators in its own build nor a compiler that emits metadata.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  All,
  type ArgumentsHost,
  applyDecorators,
  type CanActivate,
  Catch,
  Controller,
  createParamDecorator,
  type DynamicModule,
  type ExecutionContext,
  type FactoryProvider,
  HttpException,
  Inject,
  Injectable,
  Module,
  type Provider,
  Req,
  Res,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, BaseExceptionFilter } from '@nestjs/core';
import { ConfigurationError, RequestError } from '../errors.js';
import { checkAuthorizeOptions } from '../http/authorize.js';
import { createRouteDispatcher, type RouteDispatcher } from '../http/dispatch.js';
import { isAnsweredError } from '../http/errors.js';
import type { HttpOptions } from '../http/options.js';
import { createSessionRoutes, type SessionRoutesOptions } from '../http/routes.js';
import { type SessionHttp, toSessionHttp } from '../http/session-http.js';
import type {
  Authorized,
  AuthorizeOptions,
  JwtSession as HttpJwtSession,
  HttpRequest,
  HttpResponse,
  ResponsePatch,
} from '../http/types.js';
import type { Sessions } from '../session/engine.js';
import { expressHttpRequest } from './express.js';
import { applyFastifyPatch, fastifyHttpRequest, sendFastifyResponse } from './fastify-http.js';
import { applyNodePatch, sendNodeResponse } from './node.js';

/** Injection token of the `SessionHttp` (`@Inject(JWT_SESSION_HTTP) http: SessionHttp`). */
export const JWT_SESSION_HTTP = Symbol.for('jwt-sessions.nestjs.http');
/** Injection token of the route dispatcher behind the routes controller. */
const JWT_SESSION_ROUTES = Symbol.for('jwt-sessions.nestjs.routes');
/** Metadata key of the per-route guard options. */
export const JWT_SESSION_OPTIONS = 'jwt-sessions:options';

export interface JwtSessionsRoutesOptions extends SessionRoutesOptions {
  /** Path of the routes controller (Nest style, e.g. `auth` or `v1/session`). Default `auth`. */
  prefix?: string;
}

export interface JwtSessionsModuleOptions extends HttpOptions {
  /** The engine, or a ready HTTP layer (then the other HTTP options are ignored). */
  sessions: Sessions | SessionHttp;
  /** The ready-made routes; leave out to mount none. */
  routes?: JwtSessionsRoutesOptions;
  /** Register the exception filter app-wide (default true). */
  filter?: boolean;
}

export interface JwtSessionsModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  inject?: FactoryProvider['inject'];
  /** Builds the options (the engine, HTTP options, route options) from injected providers. */
  useFactory(
    ...args: never[]
  ): Omit<JwtSessionsModuleOptions, 'filter'> | Promise<Omit<JwtSessionsModuleOptions, 'filter'>>;
  /** Controllers are declared before any factory runs: say here whether to mount the routes, and where. */
  routes?: { prefix?: string } | false;
  filter?: boolean;
}

/** The platform's request, Express or Fastify. */
type PlatformRequest = IncomingMessage & {
  raw?: IncomingMessage;
  body?: unknown;
  jwtSession?: HttpJwtSession;
};
/** The platform's response: Express `Response` or Fastify `FastifyReply`. */
type PlatformResponse = ServerResponse & { raw?: ServerResponse; hijack?: () => void };

// biome-ignore lint/suspicious/noExplicitAny: the Fastify types describe the same objects.
type AnyFastify = any;

function isFastify(request: PlatformRequest): boolean {
  return request.raw !== undefined && request.raw !== request;
}

/** The platform's request as an `HttpRequest`. */
export function nestHttpRequest(request: PlatformRequest): HttpRequest {
  return isFastify(request) ? fastifyHttpRequest(request as AnyFastify) : expressHttpRequest(request);
}

function applyPatch(response: PlatformResponse, patch: ResponsePatch): void {
  if (response.raw !== undefined) applyFastifyPatch(response as AnyFastify, patch);
  else applyNodePatch(response, patch);
}

function sendResponse(response: PlatformResponse, reply: HttpResponse): void {
  if (response.raw !== undefined) void sendFastifyResponse(response as AnyFastify, reply);
  else sendNodeResponse(response, reply);
}

/** Per-route (or per-controller) guard options: which token, how verified. */
export const JwtSessionOptions = (options: AuthorizeOptions) => {
  checkAuthorizeOptions(options);
  return SetMetadata(JWT_SESSION_OPTIONS, options);
};

/**
 * Authorizes the request (options from `@JwtSessionOptions`, handler first, then controller),
 * sets `request.jwtSession`, adds the sliding-expiration patch to the response. A refusal is thrown
 * as the library's typed error, answered as `{error, code}` by the module's exception filter.
 */
export class JwtSessionGuard implements CanActivate {
  constructor(private readonly http: SessionHttp) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // getArgByIndex rather than switchToHttp(): the latter assigns three fresh closures to the
    // context on every call (Nest 11), a cost per request for two array reads.
    const request = context.getArgByIndex<PlatformRequest>(0);
    const options = routeOptions(context.getHandler(), context.getClass());
    // Answered at once (stateless, or the store had the session at hand): Nest takes the boolean.
    const answer = this.http.authorizeEager(nestHttpRequest(request), options);
    if (!(answer instanceof Promise)) return admit(context, request, answer);
    return answer.then((authorized) => admit(context, request, authorized));
  }
}

/** An authorized request: its session on the request, the patch on the response. */
function admit(context: ExecutionContext, request: PlatformRequest, { session, patch }: Authorized): true {
  request.jwtSession = session;
  applyPatch(context.getArgByIndex<PlatformResponse>(1), patch);
  return true;
}

const NO_OPTIONS: AuthorizeOptions = Object.freeze({});
/**
 * The options of a route, by handler then controller: decorator metadata, fixed once the classes
 * are defined, so it is read and validated once per route instead of four reflect-metadata
 * lookups (prototype walks on a miss) per request.
 */
const optionsByRoute = new WeakMap<object, Map<object, AuthorizeOptions>>();
function routeOptions(handler: object, controller: object): AuthorizeOptions {
  let byController = optionsByRoute.get(handler);
  const known = byController?.get(controller);
  if (known !== undefined) return known;
  const options: AuthorizeOptions =
    Reflect.getMetadata(JWT_SESSION_OPTIONS, handler) ??
    Reflect.getMetadata(JWT_SESSION_OPTIONS, controller) ??
    NO_OPTIONS;
  checkAuthorizeOptions(options);
  if (byController === undefined) {
    byController = new Map();
    optionsByRoute.set(handler, byController);
  }
  byController.set(controller, options);
  return options;
}
Injectable()(JwtSessionGuard);
Inject(JWT_SESSION_HTTP)(JwtSessionGuard, undefined, 0);

/** `@UseGuards(JwtSessionGuard)` with its options, in one decorator. */
export const RequireSession = (options: AuthorizeOptions = {}) =>
  applyDecorators(JwtSessionOptions(options), UseGuards(JwtSessionGuard));

/** The verified session (set by `JwtSessionGuard`) as a handler parameter. */
export const JwtSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => context.getArgByIndex<PlatformRequest>(0).jwtSession ?? null,
);

/** The verified session's type, for `@JwtSession() session: VerifiedSession`. */
export type VerifiedSession = HttpJwtSession;

/** The messages of Fastify's content-type parser errors (`FST_ERR_CTP_*`), as Nest passes them on. */
const FASTIFY_PARSER_MESSAGES =
  /^(Body cannot be empty when content-type|Body is not valid JSON|Unsupported Media Type|Request body is too large|Request body size did not match Content-Length)/;

/**
 * The platform's own client errors as the library's typed errors: body-parser errors on Express
 * (`type: 'entity.too.large'`, `'charset.unsupported'`…, and the JSON syntax errors Nest turns into
 * a `BadRequestException` before any route ran), content-type parser errors on Fastify
 * (`FST_ERR_CTP_*`, which Nest turns into an `HttpException`). Anything else comes back unchanged.
 * The one place Nest-platform errors meet the error contract.
 */
export function fromNestPlatformError(error: unknown, request?: PlatformRequest): unknown {
  if (isAnsweredError(error) || typeof error !== 'object' || error === null) return error;
  const { type, code, status, statusCode } = error as Record<string, unknown>;
  const httpStatus = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : 400;
  const fromParser =
    (typeof type === 'string' && (type.startsWith('entity.') || type.endsWith('.unsupported'))) ||
    (typeof code === 'string' && code.startsWith('FST_ERR_CTP_'));
  if (fromParser) {
    if (httpStatus === 413) return new RequestError('payload_too_large', 'request body too large');
    if (httpStatus === 415) return new RequestError('unsupported_media_type', 'unsupported content type');
    if (type === 'entity.parse.failed' || code === 'FST_ERR_CTP_INVALID_JSON_BODY')
      return new RequestError('invalid_json', 'request body is not valid JSON');
    return new RequestError('bad_request', 'bad request');
  }
  // Express: body-parser consumed the body and no route matched yet (`route`): the exception is
  // Nest's wrapping of the parser's SyntaxError, whose message quotes the body.
  const raw = request as (PlatformRequest & { route?: unknown }) | undefined;
  if (
    error instanceof HttpException &&
    raw !== undefined &&
    !isFastify(raw) &&
    raw.readableEnded &&
    raw.route === undefined
  ) {
    const wrapped = error.getStatus();
    if (wrapped === 400) return new RequestError('invalid_json', 'request body is not valid JSON');
    if (wrapped === 413) return new RequestError('payload_too_large', 'request body too large');
    if (wrapped === 415) return new RequestError('unsupported_media_type', 'unsupported content type');
  }
  // Fastify: Nest re-creates its parser errors as a plain HttpException (message kept, code lost).
  if (error instanceof HttpException && raw !== undefined && isFastify(raw) && raw.body === undefined) {
    const message = error.message;
    if (FASTIFY_PARSER_MESSAGES.test(message)) {
      const wrapped = error.getStatus();
      if (wrapped === 413) return new RequestError('payload_too_large', 'request body too large');
      if (wrapped === 415) return new RequestError('unsupported_media_type', 'unsupported content type');
      return new RequestError('invalid_json', 'request body is not valid JSON');
    }
  }
  return error;
}

/**
 * Answers the library's typed errors (thrown by the guard or your handlers) and the platform's
 * body-parser errors as `{error, code}` JSON with `Cache-Control: no-store`; hands every other
 * exception to Nest's default handling (`BaseExceptionFilter`: HttpException bodies, 500s, logs).
 */
export class JwtSessionExceptionFilter extends BaseExceptionFilter {
  constructor(private readonly http: SessionHttp) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<PlatformRequest>();
    const mapped = fromNestPlatformError(exception, request);
    if (isAnsweredError(mapped)) {
      sendResponse(
        http.getResponse<PlatformResponse>(),
        this.http.errorResponse(mapped, nestHttpRequest(request)),
      );
      return;
    }
    super.catch(exception, host);
  }
}
Injectable()(JwtSessionExceptionFilter);
Inject(JWT_SESSION_HTTP)(JwtSessionExceptionFilter, undefined, 0);
Catch()(JwtSessionExceptionFilter);

/** The ready-made routes as a controller under `prefix`; one handler, routed by the core. */
function createRoutesController(prefix: string): new (...args: never[]) => unknown {
  class JwtSessionRoutesController {
    constructor(private readonly dispatch: RouteDispatcher) {}

    async handle(request: PlatformRequest, response: PlatformResponse): Promise<void> {
      const httpRequest = nestHttpRequest(request);
      const http = (this.dispatch as RouteDispatcher & { http: SessionHttp }).http;
      const path =
        (isFastify(request) ? request.url : (request as { originalUrl?: string }).originalUrl) ?? '/';
      const relative = path.split('?', 1)[0]!.slice(routePrefix.length);
      let reply: HttpResponse;
      try {
        reply = await this.dispatch(httpRequest, request.method ?? 'GET', relative);
      } catch (error) {
        reply = http.errorResponse(error, httpRequest);
      }
      sendResponse(response, reply);
    }
  }
  const routePrefix = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
  Inject(JWT_SESSION_ROUTES)(JwtSessionRoutesController, undefined, 0);
  Controller(routePrefix.slice(1))(JwtSessionRoutesController);
  const handle = Object.getOwnPropertyDescriptor(JwtSessionRoutesController.prototype, 'handle')!;
  Req()(JwtSessionRoutesController.prototype, 'handle', 0);
  Res()(JwtSessionRoutesController.prototype, 'handle', 1);
  // Named segments instead of a wildcard: Express 5 (path-to-regexp 8) and Fastify (find-my-way)
  // spell wildcards differently, and the routes are at most two segments deep; the core answers
  // 404 JSON for any path here that is not one of them.
  All(['', ':a', ':a/:b', ':a/:b/:c', ':a/:b/:c/:d'])(JwtSessionRoutesController.prototype, 'handle', handle);
  return JwtSessionRoutesController;
}

function routesDispatcher(
  http: SessionHttp,
  routes: SessionRoutesOptions,
): RouteDispatcher & { http: SessionHttp } {
  return Object.assign(createRouteDispatcher(createSessionRoutes(http, routes)), { http });
}

function moduleParts(
  options: { routes?: { prefix?: string } | false | undefined; filter?: boolean | undefined },
  httpProvider: Provider,
  routesProvider: Provider,
): Omit<DynamicModule, 'module'> {
  const mountRoutes = options.routes !== undefined && options.routes !== false;
  return {
    global: true,
    controllers: options.routes ? [createRoutesController(options.routes.prefix ?? 'auth')] : [],
    providers: [
      httpProvider,
      ...(mountRoutes ? [routesProvider] : []),
      JwtSessionGuard,
      JwtSessionExceptionFilter,
      ...(options.filter === false ? [] : [{ provide: APP_FILTER, useExisting: JwtSessionExceptionFilter }]),
    ],
    exports: [JWT_SESSION_HTTP, JwtSessionGuard, JwtSessionExceptionFilter],
  };
}

// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class with static factories.
export class JwtSessionsModule {
  static forRoot(options: JwtSessionsModuleOptions): DynamicModule {
    if (typeof options !== 'object' || options === null || options.sessions === undefined)
      throw new ConfigurationError('JwtSessionsModule.forRoot needs { sessions }');
    const { sessions, routes, filter: _filter, ...httpOptions } = options;
    const http = toSessionHttp(sessions, httpOptions);
    return {
      module: JwtSessionsModule,
      ...moduleParts(
        options,
        { provide: JWT_SESSION_HTTP, useValue: http },
        {
          provide: JWT_SESSION_ROUTES,
          useValue: routes === undefined ? undefined : routesDispatcher(http, routes),
        },
      ),
    };
  }

  static forRootAsync(options: JwtSessionsModuleAsyncOptions): DynamicModule {
    const OPTIONS = Symbol('jwt-sessions.nestjs.async-options');
    const parts = moduleParts(
      { routes: options.routes ?? {}, filter: options.filter },
      { provide: JWT_SESSION_HTTP, inject: [OPTIONS], useFactory: asyncHttp },
      { provide: JWT_SESSION_ROUTES, inject: [OPTIONS, JWT_SESSION_HTTP], useFactory: asyncRoutes },
    );
    const optionsProvider: Provider = {
      provide: OPTIONS,
      inject: options.inject ?? [],
      useFactory: async (...args: never[]) => {
        const resolved = await options.useFactory(...args);
        if (typeof resolved !== 'object' || resolved === null || resolved.sessions === undefined)
          throw new ConfigurationError(
            'JwtSessionsModule.forRootAsync: the factory must return { sessions }',
          );
        return resolved;
      },
    };
    return {
      module: JwtSessionsModule,
      imports: options.imports ?? [],
      ...parts,
      providers: [optionsProvider, ...(parts.providers ?? [])],
    };
  }
}
Module({})(JwtSessionsModule);

function asyncHttp({ sessions, routes: _routes, ...httpOptions }: JwtSessionsModuleOptions): SessionHttp {
  return toSessionHttp(sessions, httpOptions);
}

function asyncRoutes(resolved: JwtSessionsModuleOptions, http: SessionHttp) {
  if (resolved.routes === undefined)
    throw new ConfigurationError('JwtSessionsModule.forRootAsync: the factory returned no routes options');
  return routesDispatcher(http, resolved.routes);
}

/** Sends a response from the HTTP layer (e.g. `http.tokenResponse(...)`) through `@Res()`. */
export function sendNestResponse(response: unknown, reply: HttpResponse): void {
  sendResponse(response as PlatformResponse, reply);
}

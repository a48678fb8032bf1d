/**
 * Fastify 5 adapter.
 *
 * - `jwtSessions` — a plugin that skips encapsulation (so its decorators reach the parent): decorates
 *   `fastify.sessions` (the engine), `fastify.sessionHttp` (the HTTP layer) and the hook factories
 *   `fastify.requireAccess()`, `fastify.requireRefresh()`, `fastify.requireRefreshByAccess()`, and
 *   `fastify.sessionErrorHandler` (for `setErrorHandler`: the library's typed errors thrown by
 *   your handlers become the JSON error shape); `request.jwtSession` is set by those hooks (typed
 *   by declaration merging below).
 * - `jwtSessionRoutes` — the ready-made routes as an encapsulated plugin: register it with a
 *   `prefix` (e.g. `/auth`). It parses its own bodies (16 KiB JSON only) without touching the
 *   content-type parsers of the rest of the application.
 *
 * ```ts
 * await app.register(jwtSessions, { sessions });
 * await app.register(jwtSessionRoutes, { prefix: '/auth', authenticate });
 * app.get('/api/me', { onRequest: app.requireAccess() }, (req) => req.jwtSession!.claims);
 * ```
 */
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigurationError, RequestError } from '../errors.js';
import { checkAuthorizeOptions } from '../http/authorize.js';
import { readNodeStream } from '../http/body.js';
import { answerClientError, errorResponse, frameworkRequestError, isAnsweredError } from '../http/errors.js';
import { type HttpOptions, resolveHttpConfig } from '../http/options.js';
import { createSessionRoutes, type SessionRoutesOptions } from '../http/routes.js';
import { type SessionHttp, toSessionHttp } from '../http/session-http.js';
import type { AuthorizeOptions, JwtSession, RawBody } from '../http/types.js';
import type { Sessions } from '../session/engine.js';
import {
  applyFastifyPatch,
  BODY,
  type DeferredBody,
  fastifyHttpRequest,
  sendFastifyResponse,
} from './fastify-http.js';

export { applyFastifyPatch, fastifyHttpRequest, sendFastifyResponse };

/** An `onRequest` / `preHandler` hook that authorizes the request or answers with the error. */
export type JwtSessionHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export type JwtSessionErrorHandler = (
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown;

declare module 'fastify' {
  interface FastifyInstance {
    /** The session engine (login, refresh, revoke, list…). */
    sessions: Sessions;
    /** The HTTP layer (authorize, error mapping, token responses). */
    sessionHttp: SessionHttp;
    /** jwt_sessions `authorize_access_request!` (and `_by_access_header!`/`_cookie!` via `transport`). */
    requireAccess(options?: Omit<AuthorizeOptions, 'kind'>): JwtSessionHook;
    /** jwt_sessions `authorize_refresh_request!`. */
    requireRefresh(options?: Pick<AuthorizeOptions, 'transport'>): JwtSessionHook;
    /** jwt_sessions `authorize_refresh_by_access_request!`. */
    requireRefreshByAccess(options?: Pick<AuthorizeOptions, 'transport' | 'claims'>): JwtSessionHook;
    /** For `setErrorHandler`: answers the library's typed errors, passes anything else on. */
    sessionErrorHandler: JwtSessionErrorHandler;
  }
  interface FastifyRequest {
    /** Set by the jwt-sessions hooks; null on routes without one. */
    jwtSession: JwtSession | null;
  }
}

export interface JwtSessionsPluginOptions extends HttpOptions {
  /** The engine, or a ready HTTP layer (then the other options are ignored). */
  sessions: Sessions | SessionHttp;
}

export interface JwtSessionRoutesPluginOptions extends SessionRoutesOptions {
  /** Default: the `jwtSessions` plugin's HTTP layer (`fastify.sessionHttp`). */
  sessions?: Sessions | SessionHttp;
  /** HTTP options when `sessions` is an engine. */
  http?: HttpOptions;
}

/** Builds a hook: authorize, set `request.jwtSession`, patch the reply — or answer the error. */
export function createFastifyHook(http: SessionHttp, options: AuthorizeOptions = {}): JwtSessionHook {
  // Validate once, at route definition, not per request.
  checkAuthorizeOptions(options);
  return async function jwtSessionHook(request, reply) {
    const httpRequest = fastifyHttpRequest(request);
    try {
      const answer = http.authorizeEager(httpRequest, options);
      // Answered at once (stateless, or the store had the session at hand): no await.
      const { session, patch } = answer instanceof Promise ? await answer : answer;
      request.jwtSession = session;
      applyFastifyPatch(reply, patch);
    } catch (error) {
      return sendFastifyResponse(reply, http.errorResponse(error, httpRequest));
    }
    return undefined;
  };
}

/**
 * An error handler (`app.setErrorHandler(...)`) answering the library's typed errors thrown by
 * your handlers (e.g. `sessions.refreshByAccess`) with the JSON error shape. Anything else is
 * rethrown, which hands it to the parent (ultimately Fastify's default) error handler.
 */
export function createFastifyErrorHandler(http: SessionHttp): JwtSessionErrorHandler {
  return function jwtSessionErrorHandler(error, request, reply) {
    // Fastify's own refusals (a body its parser rejects, an unsupported content type) too.
    if (!isAnsweredError(frameworkRequestError(error) ?? error)) throw error;
    return sendFastifyResponse(reply, http.errorResponse(error, fastifyHttpRequest(request)));
  };
}

/** For the refusals below: no HTTP options matter to them (no token, no store). */
const REFUSAL_CONFIG = resolveHttpConfig({ onError: () => {} });

/**
 * Fastify's `frameworkErrors` option: requests the router refuses before any route or plugin
 * runs — a malformed URL (`/assets/%ZZ`, 400), a path parameter over `maxParamLength` (414) —
 * answered in the `{error, code}` shape with `no-store`, without echoing the path, and logged at
 * `info` (one line, no stack). `Fastify({ frameworkErrors: fastifyFrameworkErrors })`.
 */
export function fastifyFrameworkErrors(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const refusal = frameworkRequestError(error);
  const response = errorResponse(refusal ?? error, REFUSAL_CONFIG);
  // Fastify runs no hooks for these requests: this is their request log line.
  const line = {
    method: request.method,
    path: request.url.split('?', 1)[0],
    status: response.status,
    code: (response.body as { code: string }).code,
    reason: (error as { code?: unknown } | null)?.code,
    ip: request.ip,
  };
  if (refusal !== null) request.log.info(line, `${line.method} ${line.path} ${line.status} (${line.code})`);
  else request.log.error({ ...line, err: error }, 'unexpected router error');
  void sendFastifyResponse(reply, response);
}

/**
 * Fastify's `clientErrorHandler` option: a request Node's HTTP parser refuses (oversized headers
 * 431, a malformed request 400, a timeout 408) answered in the `{error, code}` shape with
 * `no-store`, and logged at `info` on the instance's logger (no request was parsed, so no request
 * log line exists). `Fastify({ clientErrorHandler: fastifyClientErrorHandler })`.
 */
export function fastifyClientErrorHandler(
  this: FastifyInstance | undefined,
  error: Error & { code?: string },
  socket: Duplex,
): void {
  const event = answerClientError(error, socket);
  if (event !== null) this?.log.info(event, `client error ${event.status} ${event.code}`);
}

async function jwtSessionsPlugin(fastify: FastifyInstance, options: JwtSessionsPluginOptions): Promise<void> {
  if (options === undefined || options.sessions === undefined) {
    throw new ConfigurationError('jwtSessions needs { sessions }');
  }
  const { sessions, ...httpOptions } = options;
  const http = toSessionHttp(sessions, httpOptions);
  fastify.decorate('sessions', http.sessions);
  fastify.decorate('sessionHttp', http);
  fastify.decorateRequest('jwtSession', null);
  fastify.decorate('requireAccess', (opts: Omit<AuthorizeOptions, 'kind'> = {}) =>
    createFastifyHook(http, { ...opts, kind: 'access' }),
  );
  fastify.decorate('requireRefresh', (opts: Pick<AuthorizeOptions, 'transport'> = {}) =>
    createFastifyHook(http, { ...opts, kind: 'refresh' }),
  );
  fastify.decorate('requireRefreshByAccess', (opts: Pick<AuthorizeOptions, 'transport' | 'claims'> = {}) =>
    createFastifyHook(http, { ...opts, kind: 'refresh_by_access' }),
  );
  fastify.decorate('sessionErrorHandler', createFastifyErrorHandler(http));
}

/**
 * The plugin: decorators and hook factories, visible to the registering context. What
 * fastify-plugin would do, by hand (so users need no extra package): Fastify reads these
 * well-known symbols to skip encapsulation, name the plugin and check its Fastify version.
 */
export const jwtSessions: FastifyPluginAsync<JwtSessionsPluginOptions> = Object.assign(jwtSessionsPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'jwt-sessions',
  [Symbol.for('plugin-meta')]: { name: 'jwt-sessions', fastify: '5.x' },
});

/**
 * The ready-made routes (login, refresh, logout, sessions, csrf) as an encapsulated plugin.
 * Register it with a `prefix`; unknown paths under the prefix get a JSON 404.
 */
export const jwtSessionRoutes: FastifyPluginAsync<JwtSessionRoutesPluginOptions> = async (
  fastify,
  options,
) => {
  const source = options.sessions ?? (fastify.hasDecorator('sessionHttp') ? fastify.sessionHttp : undefined);
  if (source === undefined) {
    throw new ConfigurationError(
      'jwtSessionRoutes needs { sessions } or the jwtSessions plugin registered first',
    );
  }
  const http = toSessionHttp(source, options.http);
  const routes = createSessionRoutes(http, options);
  const limit = http.config.maxBodyBytes;

  // These routes read their own bodies: JSON only, capped, with the library's error shape.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', async (_request: FastifyRequest, payload: NodeJS.ReadableStream) => {
    let result: RawBody | RequestError;
    try {
      result = { bytes: await readNodeStream(payload, limit) };
    } catch (error) {
      result =
        error instanceof RequestError
          ? error
          : new RequestError('bad_request', 'request body could not be read');
    }
    const body: DeferredBody = { [BODY]: true, result };
    return body;
  });

  fastify.setErrorHandler((error, request, reply) => {
    const httpRequest = fastifyHttpRequest(request);
    return sendFastifyResponse(reply, http.errorResponse(error, httpRequest));
  });
  fastify.setNotFoundHandler((request, reply) =>
    sendFastifyResponse(reply, routes.notFound(fastifyHttpRequest(request))),
  );

  for (const route of routes.routes) {
    fastify.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        const response = await route.handle(
          fastifyHttpRequest(request),
          request.params as Record<string, string>,
        );
        return sendFastifyResponse(reply, response);
      },
    });
  }
  for (const path of routes.paths.keys()) {
    fastify.options(path, async (request, reply) =>
      sendFastifyResponse(reply, routes.preflight(fastifyHttpRequest(request), path)),
    );
  }
};

/**
 * The reference server (SPEC §5): Fastify + its pino logger, built only on the library's public
 * API — the session engine, the Fastify plugin and its ready-made JSON routes.
 *
 *   POST /auth/login · POST /auth/refresh · POST /auth/logout · GET /auth/sessions ·
 *   DELETE /auth/sessions/:id · GET /auth/csrf · GET /auth/session   (the library's routes, prefix /auth)
 *   GET /api/me                                       (protected: the verified claims)
 *   GET /.well-known/jwks.json                        (public keys of asymmetric algorithms)
 *   GET / and /assets/*                               (the demo SPA)
 *
 * Anything else is a JSON 404; bodies over 16 KiB get 413, invalid JSON 400, all as
 * `{ error, code }`.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import {
  fastifyClientErrorHandler,
  fastifyFrameworkErrors,
  fastifyHttpRequest,
  jwtSessionRoutes,
  jwtSessions,
  sendFastifyResponse,
} from '../adapters/fastify.js';
import { errorResponse, frameworkRequestError } from '../http/errors.js';
import { type HttpOptions, resolveHttpConfig } from '../http/options.js';
import {
  ConfigurationError,
  createSessions,
  JwtSessionsError,
  RequestError,
  type Sessions,
  StoreConfigurationError,
} from '../index.js';
import { driverReason } from '../stores/errors.js';
import { AccountDirectory, namespaceOf } from './accounts.js';
import { configFromEnv, describeConfig, type ServerConfig, ServerConfigError } from './config.js';
import { serverKeys } from './keys.js';
import { loadSpa, SECURITY_HEADERS, type StaticFile } from './static.js';
import { type OpenedStore, openStore, probeStore } from './store-open.js';
import { describeStoreUrl } from './store-url.js';

export const BODY_LIMIT = 16 * 1024;

export interface RunningServer {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  app: FastifyInstance;
  sessions: Sessions;
  config: ServerConfig;
  /** Stops accepting connections, lets in-flight requests finish, closes the store. Idempotent. */
  close(): Promise<void>;
}

/** Why the server could not start, in one line for the operator (exit code 1). */
export class StartupError extends Error {
  override get name(): string {
    return 'StartupError';
  }
}

type JsonError = { error: string; code: string };

function errorBody(error: string, code: string): JsonError {
  return { error, code };
}

/** Where the server's log goes; tests pass a stream to read it. */
export interface StartOptions {
  logStream?: NodeJS.WritableStream;
}

/**
 * Store errors for the log, one line each: a message, never a stack. During an outage the client
 * reports every reconnect attempt and every request fails with the same few messages, so a message
 * already logged within the last minute is only counted; the count comes with its next line.
 */
export function storeErrorLog(write: (line: string) => void, quietMs = 60_000): (error: unknown) => void {
  const seen = new Map<string, { at: number; repeats: number }>();
  return (error) => {
    const message = error instanceof JwtSessionsError ? error.message : driverReason(error);
    const now = Date.now();
    const last = seen.get(message);
    if (last !== undefined && now - last.at < quietMs) {
      last.repeats++;
      return;
    }
    // Bounded: messages differ by little (addresses, counts), never without limit.
    if (seen.size >= 100) seen.clear();
    const repeats = last?.repeats ?? 0;
    write(repeats > 0 ? `${message} (repeated ${repeats} more times in the last minute)` : message);
    seen.set(message, { at: now, repeats: 0 });
  };
}

function resolve(overrides: Partial<ServerConfig>): ServerConfig {
  return { ...configFromEnv({}), ...overrides };
}

/**
 * Builds and starts the server. `config` defaults every field as an empty environment would
 * (memory store, HS256 with a random secret, port 3000 on 127.0.0.1); tests pass `{ port: 0 }`.
 */
export async function startServer(
  overrides: Partial<ServerConfig> = {},
  options: StartOptions = {},
): Promise<RunningServer> {
  const config = resolve(overrides);
  const keys = serverKeys(config);

  const app = Fastify({
    logger:
      config.logLevel === false
        ? false
        : { level: config.logLevel, ...(options.logStream !== undefined && { stream: options.logStream }) },
    // Fastify's two lines per request off: the onResponse hook below writes one.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false },
    // A request Node's HTTP parser refuses (oversized headers, control characters in a header, a
    // malformed request line) never reaches a route; nor does one the router refuses (a malformed
    // URL, an over-long path parameter). Both get the API's error shape and a log line.
    clientErrorHandler: fastifyClientErrorHandler,
    frameworkErrors: fastifyFrameworkErrors,
  });
  if (keys.warning) app.log.warn(keys.warning);

  const where = describeStoreUrl(config.store);
  const logStoreError = storeErrorLog((line) => app.log.warn(`session store ${where}: ${line}`));
  let opened: OpenedStore;
  try {
    opened = await openStore(config.store, { pruneIntervalMs: 60_000, onError: logStoreError });
    await probeStore(opened.store);
  } catch (error) {
    // The store's message names the cause (and for a configuration problem, the fix).
    const detail = error instanceof JwtSessionsError ? error.message : driverReason(error);
    const kind = error instanceof StoreConfigurationError ? ' (a configuration problem)' : '';
    throw new StartupError(`cannot use the store ${where}${kind}: ${detail}`);
  }

  let sessions: Sessions;
  try {
    sessions = createSessions({
      keys: keys.ring,
      store: opened.store,
      accessTtl: config.accessTtl,
      refreshTtl: config.refreshTtl,
      reuseGrace: config.reuseGrace,
      ...(config.idleTimeout !== undefined && { idleTimeout: config.idleTimeout }),
      ...(config.absoluteTimeout !== undefined && { absoluteTimeout: config.absoluteTimeout }),
      ...(config.slidingRenewAfter !== undefined && { slidingRenewAfter: config.slidingRenewAfter }),
      ...(config.maxSessions !== undefined && { maxSessionsPerNamespace: config.maxSessions }),
      onEvent: (event) => {
        if (event.type === 'reuse_detected') {
          app.log.warn({ session: event.sessionId }, 'refresh token reuse detected: session revoked');
        } else if (event.type === 'revoke' && event.scope === 'cap') {
          app.log.info(
            { session: event.sessionId, namespace: event.namespace },
            'session ended by MAX_SESSIONS: least recently used beyond the cap',
          );
        }
      },
      onError: (error) => app.log.warn({ err: error }, 'session store error'),
    });
  } catch (error) {
    await opened.close().catch(() => {});
    if (error instanceof ConfigurationError) throw new ServerConfigError(error.message);
    throw error;
  }

  const accounts = new AccountDirectory();
  const spa = loadSpa(config.spaDir);
  if (spa.problem) app.log.warn(`demo SPA unavailable: ${spa.problem}`);

  // Requests whose log line is not written yet: a shutdown closes the store only after them, so
  // the log reads in order (the HTTP server can finish closing before an onResponse hook has run).
  let unlogged = 0;
  let allLogged: (() => void) | null = null;
  const logged = () => {
    unlogged--;
    if (unlogged === 0) allLogged?.();
  };
  app.addHook('onRequest', async () => {
    unlogged++;
  });
  app.addHook('onRequestAbort', async (_request) => {
    logged();
  });

  // One log line per request, without the query string (never a place for tokens, but never logged).
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?', 1)[0];
    request.log.info(
      {
        method: request.method,
        path,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
      },
      `${request.method} ${path} ${reply.statusCode}`,
    );
    logged();
  });

  // While shutting down, every response ends its connection: a keep-alive client must not hold the
  // server open after its in-flight request is answered.
  let shuttingDown = false;
  // A callback hook, not an async one: no promise per response for a flag that is almost never set.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });

  // Store errors are warnings on one line (a bug keeps its stack, at level error).
  const httpOnError = (error: unknown) => {
    if (error instanceof JwtSessionsError) logStoreError(error);
    else app.log.error({ err: error }, 'unexpected error');
  };
  const dpop: HttpOptions['dpop'] = {
    mode: config.dpop,
    // One secret for the plugin and the error handler: their nonces must agree.
    nonce: config.dpopNonce && { secret: randomBytes(32) },
    ...(config.publicOrigin !== undefined && { origin: config.publicOrigin }),
  };
  const httpConfig = resolveHttpConfig({ onError: httpOnError, dpop });
  app.setErrorHandler((error, request, reply) => {
    const refusal = frameworkRequestError(error);
    // Fastify's body limit is the server's: name it.
    const answered =
      refusal?.code === 'payload_too_large'
        ? new RequestError('payload_too_large', `request body exceeds ${BODY_LIMIT} bytes`)
        : (refusal ?? error);
    return sendFastifyResponse(reply, errorResponse(answered, httpConfig, fastifyHttpRequest(request)));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).header('cache-control', 'no-store').send(errorBody('not found', 'not_found')),
  );

  await app.register(jwtSessions, {
    sessions,
    onError: httpOnError,
    dpop,
    accessCookie: { secure: config.cookieSecure, sameSite: 'Lax' },
    // The refresh cookie only travels to the auth routes, never with ordinary API calls.
    refreshCookie: { secure: config.cookieSecure, sameSite: 'Strict', path: '/auth' },
  });
  await app.register(jwtSessionRoutes, {
    prefix: '/auth',
    async authenticate({ login, password }) {
      const account = await accounts.authenticate(login, password);
      if (account === null) return null;
      return {
        payload: { sub: account.id, email: account.email, name: account.name },
        namespace: namespaceOf(account),
      };
    },
  });

  app.get('/api/me', { onRequest: app.requireAccess() }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return request.jwtSession!.claims;
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    reply.type('application/jwk-set+json; charset=utf-8');
    return JSON.stringify(sessions.jwks());
  });

  const sendFile = (file: StaticFile, request: { headers: Record<string, unknown> }, reply: FastifyReply) => {
    reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache', etag: file.etag });
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  };
  app.get('/', async (request, reply) => {
    if (spa.index === null) {
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .send(errorBody(`the demo SPA is not available: ${spa.problem}`, 'spa_unavailable'));
    }
    return sendFile(spa.index, request, reply);
  });
  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const file = spa.assets.get(request.params.file);
    if (file === undefined)
      return reply.code(404).header('cache-control', 'no-store').send(errorBody('not found', 'not_found'));
    return sendFile(file, request, reply);
  });

  app.addHook('onClose', async () => {
    if (unlogged > 0) {
      // Bounded: a request Fastify never reports as answered or aborted must not hold the shutdown.
      await new Promise<void>((resolve) => {
        allLogged = resolve;
        setTimeout(resolve, 2000).unref();
      });
    }
    await sessions.close().then(
      () => app.log.info(`store ${describeStoreUrl(config.store)} closed`),
      (error: unknown) => app.log.warn(`closing the store failed: ${driverReason(error)}`),
    );
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close().catch(() => {});
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new StartupError(`port ${config.port} on ${config.host} is already in use; set PORT`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new StartupError(`cannot listen on HOST ${config.host}`);
    if (code === 'EACCES') throw new StartupError(`no permission to listen on port ${config.port}`);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${shownHost === '0.0.0.0' || shownHost === '[::]' ? '127.0.0.1' : shownHost}:${port}`;
  app.log.info(`jwt-sessions reference server on ${url} — ${describeConfig(config)}`);

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    app,
    sessions,
    config,
    close() {
      shuttingDown = true;
      closing ??= app.close();
      return closing;
    },
  };
}

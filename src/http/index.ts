/**
 * `jwt-sessions/http`: the framework-neutral HTTP layer the Express, Fastify and Hono adapters
 * wrap. Use it directly to support another framework: build an `HttpRequest`, call
 * `http.authorize` or a route's `handle`, apply the `HttpResponse`/`ResponsePatch`.
 */
export { authorize, checkAuthorizeOptions } from './authorize.js';
export {
  type HeaderToken,
  isHttpToken,
  isTokenChars,
  parseAuthorization,
  parseTokenHeader,
} from './bearer.js';
export {
  checkContentLength,
  isJsonContentType,
  readJsonBody,
  readNodeStream,
  readWebStream,
} from './body.js';
export {
  type CookieAttributes,
  type CookieLookup,
  lookupCookie,
  parseCookieHeader,
  type SameSite,
  serializeCookie,
  serializeExpiredCookie,
  validateCookieConfig,
} from './cookies.js';
export {
  applyPatchHeaders,
  type Cors,
  type CorsOptions,
  createCors,
  LIST_HEADERS,
  mergeHeaderList,
} from './cors.js';
export { csrfForCookieRequest, isUnsafeMethod, needsCsrf } from './csrf.js';
export {
  type DpopConfig,
  type DpopHttpOptions,
  type DpopMode,
  type DpopNonceOptions,
  dpopChallenge,
  findDpopAccessToken,
  loginDpop,
  requestHtu,
  resolveDpopConfig,
} from './dpop.js';
export {
  answerClientError,
  type ClientErrorEvent,
  clientErrorListener,
  errorResponse,
  frameworkRequestError,
  isAnsweredError,
  jsonResponse,
  NO_STORE,
  refusedRequest,
} from './errors.js';
export { type FoundToken, findAccessToken, findRefreshToken, readTokenCookie } from './extract.js';
export {
  type CookieConfig,
  type CookieOptions,
  type HttpConfig,
  type HttpOptions,
  resolveHttpConfig,
} from './options.js';
export {
  checkOrigin,
  compileOriginMatcher,
  type OriginCheck,
  type OriginCheckOptions,
  type OriginMatcher,
} from './origin.js';
export {
  type AuthenticateInput,
  type AuthenticateResult,
  createSessionRoutes,
  type RouteDefinition,
  type RouteMethod,
  type SessionRoutes,
  type SessionRoutesOptions,
} from './routes.js';
export { createSessionHttp, isSessionHttp, type SessionHttp, toSessionHttp } from './session-http.js';
export { accessCookie, clearTokenCookies, tokenBody, tokenCookies, tokenResponse } from './tokens.js';
export type {
  Authorized,
  AuthorizeKind,
  AuthorizeOptions,
  HttpRequest,
  HttpResponse,
  JwtSession,
  RawBody,
  ResponsePatch,
  TokenTransport,
  Transport,
} from './types.js';

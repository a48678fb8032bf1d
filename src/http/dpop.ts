/**
 * DPoP (RFC 9449) in the HTTP layer: the `dpop` option, the `Authorization: DPoP` scheme, the
 * `DPoP` proof header and the request URL it must name (`htu`: the configured origin, else scheme
 * + Host, plus the path), stateless server nonces, and the `WWW-Authenticate: DPoP` challenge.
 * The engine does the binding rules (src/session/operations/dpop-binding.ts); this file only
 * turns a request into what the engine needs and a refusal into the answer RFC 9449 §7.1 asks for.
 *
 * Modes: `off` (default) reads no DPoP header and binds nothing — a bound session still needs
 * proofs, so its requests fail closed; `optional` binds a login that carries a proof; `required`
 * refuses a login without one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  ConfigurationError,
  DpopError,
  type JwtSessionsError,
  RequestError,
  TokenFormatError,
} from '../errors.js';
import type { DpopRequest } from '../session/operations/dpop-binding.js';
import {
  DEFAULT_DPOP_ALGORITHMS,
  type DpopAlgorithm,
  MAX_DPOP_CLOCK_SKEW_SECONDS,
  MAX_DPOP_MAX_AGE_SECONDS,
  normalizeHtu,
} from '../tokens/dpop.js';
import { isTokenChars } from './bearer.js';
import { type FoundToken, findAccessToken } from './extract.js';
import type { HttpConfig } from './options.js';
import type { HttpRequest, Transport } from './types.js';

export type DpopMode = 'off' | 'optional' | 'required';

export interface DpopNonceOptions {
  /**
   * HMAC key of the nonces (at least 32 bytes). Give every instance behind one origin the same
   * secret, or a nonce from one is refused by another. Default: random per process.
   */
  secret?: string | Uint8Array;
  /** Seconds a nonce stays current; the previous window's nonce is accepted too. Default 300. */
  windowSeconds?: number;
}

export interface DpopHttpOptions {
  /** Default `off`. */
  mode: DpopMode;
  /**
   * The public origin clients see (`https://app.example.com`), for `htu`. Set it behind a proxy
   * or TLS terminator; default: the request's own scheme and `Host`.
   */
  origin?: string;
  /** Server nonces (`DPoP-Nonce`, `use_dpop_nonce`). Default off. */
  nonce?: boolean | DpopNonceOptions;
  /** Seconds a proof is accepted after its `iat`. Default 300. */
  maxAgeSeconds?: number;
  /** Seconds of clock difference tolerated. Default 30. */
  clockSkew?: number;
  /** Default ES256, EdDSA, Ed25519, RS256, PS256. */
  allowedAlgorithms?: readonly DpopAlgorithm[];
}

export interface DpopNonces {
  /** The nonce to hand out now. */
  fresh(now: number): string;
  /** The nonces accepted now (current and previous window). */
  accepted(now: number): [string, string];
}

export interface DpopConfig {
  mode: 'optional' | 'required';
  origin: string | undefined;
  nonces: DpopNonces | null;
  maxAgeSeconds: number | undefined;
  clockSkew: number | undefined;
  allowedAlgorithms: readonly DpopAlgorithm[];
  /** `algs` of the challenge. */
  challengeAlgs: string;
}

const DEFAULT_NONCE_WINDOW_SECONDS = 300;
const MIN_SECRET_BYTES = 32;

function createNonces(options: DpopNonceOptions): DpopNonces {
  const secret =
    options.secret === undefined
      ? randomBytes(MIN_SECRET_BYTES)
      : typeof options.secret === 'string'
        ? Buffer.from(options.secret, 'utf8')
        : Buffer.from(options.secret);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfigurationError(`dpop.nonce.secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const window = options.windowSeconds ?? DEFAULT_NONCE_WINDOW_SECONDS;
  if (!Number.isSafeInteger(window) || window < 1 || window > 86_400) {
    throw new ConfigurationError('dpop.nonce.windowSeconds must be a whole number of seconds in 1..86400');
  }
  const windowMs = window * 1000;
  const forWindow = (index: number) =>
    createHmac('sha256', secret).update(`dpop-nonce.${index}`).digest('base64url');
  // One entry: the current window's nonce is computed once per window, not per request.
  let cached = { index: -1, current: '', previous: '' };
  const at = (now: number) => {
    const index = Math.floor(now / windowMs);
    if (index !== cached.index) {
      cached = { index, current: forWindow(index), previous: forWindow(index - 1) };
    }
    return cached;
  };
  return {
    fresh: (now) => at(now).current,
    accepted: (now) => {
      const { current, previous } = at(now);
      return [current, previous];
    },
  };
}

function checkSeconds(name: string, value: number | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new ConfigurationError(`dpop.${name} must be a number of seconds in 0..${max}`);
  }
  return value;
}

/** The resolved `dpop` option; null when off (no DPoP header is read). */
export function resolveDpopConfig(options: DpopHttpOptions | undefined): DpopConfig | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('dpop must be an object such as { mode: "optional" }');
  }
  const { mode } = options;
  if (mode !== 'off' && mode !== 'optional' && mode !== 'required') {
    throw new ConfigurationError("dpop.mode must be 'off', 'optional' or 'required'");
  }
  let origin: string | undefined;
  if (options.origin !== undefined) {
    const normalized = typeof options.origin === 'string' ? normalizeHtu(options.origin) : undefined;
    if (normalized === undefined || !/^https?:\/\/[^/]+\/$/.test(normalized)) {
      throw new ConfigurationError(
        'dpop.origin must be an origin such as https://app.example.com (scheme, host, optional port; no path)',
      );
    }
    origin = normalized.slice(0, -1);
  }
  const nonce = options.nonce ?? false;
  if (typeof nonce !== 'boolean' && (typeof nonce !== 'object' || nonce === null)) {
    throw new ConfigurationError('dpop.nonce must be a boolean or { secret, windowSeconds }');
  }
  const allowed = options.allowedAlgorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (!Array.isArray(allowed) || allowed.length === 0) {
    throw new ConfigurationError('dpop.allowedAlgorithms must be a non-empty list');
  }
  const config: DpopConfig = {
    mode: mode === 'required' ? 'required' : 'optional',
    origin,
    nonces: nonce === false ? null : createNonces(nonce === true ? {} : nonce),
    maxAgeSeconds: checkSeconds('maxAgeSeconds', options.maxAgeSeconds, MAX_DPOP_MAX_AGE_SECONDS),
    clockSkew: checkSeconds('clockSkew', options.clockSkew, MAX_DPOP_CLOCK_SKEW_SECONDS),
    allowedAlgorithms: allowed,
    challengeAlgs: allowed.filter((alg) => alg !== 'Ed25519').join(' '),
  };
  return mode === 'off' ? null : config;
}

/** The absolute URL a proof's `htu` must name: configured origin (else scheme + Host) and path. */
export function requestHtu(request: HttpRequest, dpop: DpopConfig): string {
  const url = request.url;
  let path: string;
  let scheme: string = request.protocol ?? 'http';
  let urlHost: string | undefined;
  if (url.startsWith('/')) {
    const query = url.search(/[?#]/);
    path = query === -1 ? url : url.slice(0, query);
  } else {
    // Fetch-API adapters hand the absolute URL.
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new RequestError('bad_request', 'request URL is malformed');
    }
    path = parsed.pathname;
    scheme = parsed.protocol.slice(0, -1);
    urlHost = parsed.host;
  }
  if (dpop.origin !== undefined) return dpop.origin + path;
  const host = request.header('host') ?? urlHost;
  if (host === undefined || host === '' || !/^[A-Za-z0-9.\-:[\]]+$/.test(host)) {
    throw new RequestError('bad_request', 'a Host header is required (or configure dpop.origin)');
  }
  return `${scheme}://${host}${path}`;
}

/** What the engine needs to check the request's proof; `via` says how the token came. */
export function dpopRequest(
  request: HttpRequest,
  config: HttpConfig,
  dpop: DpopConfig,
  via: DpopRequest['via'],
): DpopRequest {
  const input: DpopRequest = {
    proof: request.header('dpop'),
    method: request.method,
    url: requestHtu(request, dpop),
    allowedAlgorithms: dpop.allowedAlgorithms,
  };
  if (input.proof === '') input.proof = undefined;
  if (via !== undefined) input.via = via;
  if (dpop.nonces !== null && input.proof !== undefined) input.nonce = dpop.nonces.accepted(config.clock());
  if (dpop.maxAgeSeconds !== undefined) input.maxAgeSeconds = dpop.maxAgeSeconds;
  if (dpop.clockSkew !== undefined) input.clockSkew = dpop.clockSkew;
  return input;
}

/** The DPoP part of a request that presents no access token (login, refresh); undefined when off. */
export function sessionDpop(request: HttpRequest, config: HttpConfig): DpopRequest | undefined {
  return config.dpop === null ? undefined : dpopRequest(request, config, config.dpop, undefined);
}

/**
 * The DPoP part of a login: undefined when DPoP is off; in `required` mode a login without a proof
 * is refused before the credentials are even checked.
 */
export function loginDpop(request: HttpRequest, config: HttpConfig): DpopRequest | undefined {
  const input = sessionDpop(request, config);
  if (input !== undefined && input.proof === undefined && config.dpop!.mode === 'required') {
    throw new DpopError('dpop_proof_missing', 'presence', 'this server requires a DPoP proof to log in');
  }
  return input;
}

const DPOP_SCHEME = /^[ \t]*dpop[ \t]+/i;

/**
 * The access token with how it came (`Authorization: DPoP`, another header, or the cookie) and the
 * request's DPoP part; the token is looked up as `findAccessToken` does, plus the DPoP scheme.
 */
export function findDpopAccessToken(
  request: HttpRequest,
  config: HttpConfig,
  dpop: DpopConfig,
  transport: Transport,
): { found: FoundToken; dpop: DpopRequest } {
  if (transport !== 'cookie' && config.accessHeaderIsAuthorization) {
    const value = request.header('authorization');
    const scheme = value === undefined ? null : DPOP_SCHEME.exec(value);
    if (value !== undefined && scheme !== null) {
      if (value.length > config.maxHeaderBytes) {
        throw new TokenFormatError('token_too_large', 'authorization header is too large');
      }
      const token = value.slice(scheme[0].length).trimEnd();
      if (!isTokenChars(token)) {
        throw new TokenFormatError(
          'token_malformed',
          'authorization header must carry exactly one DPoP token',
        );
      }
      if (token.length > config.maxTokenBytes)
        throw new TokenFormatError('token_too_large', 'token is too large');
      return {
        found: { token, transport: 'header' },
        dpop: dpopRequest(request, config, dpop, 'dpop'),
      };
    }
  }
  const found = findAccessToken(request, config, transport);
  return {
    found,
    dpop: dpopRequest(request, config, dpop, found.transport === 'cookie' ? 'cookie' : 'bearer'),
  };
}

/** `DPoP-Nonce` for a response to a request that carried a proof (when nonces are on). */
export function nonceHeader(request: HttpRequest, config: HttpConfig): Record<string, string> | undefined {
  const nonces = config.dpop?.nonces;
  if (nonces == null || request.header('dpop') === undefined) return undefined;
  return { 'dpop-nonce': nonces.fresh(config.clock()) };
}

/**
 * The 401 headers of a DPoP refusal (RFC 9449 §7.1, §8): `WWW-Authenticate: DPoP` with
 * `use_dpop_nonce` and a fresh `DPoP-Nonce`, `invalid_token` for a bound token sent as Bearer, or
 * `invalid_dpop_proof`.
 */
export function dpopChallenge(error: JwtSessionsError, config: HttpConfig): Record<string, string> {
  const dpop = config.dpop;
  const algs =
    dpop === null ? DEFAULT_DPOP_ALGORITHMS.filter((a) => a !== 'Ed25519').join(' ') : dpop.challengeAlgs;
  const kind =
    error.code === 'dpop_nonce_required'
      ? 'use_dpop_nonce'
      : error.code === 'dpop_bound_token'
        ? 'invalid_token'
        : 'invalid_dpop_proof';
  const realm = config.realm === undefined ? '' : `realm="${config.realm}", `;
  const headers: Record<string, string> = {
    'www-authenticate': `DPoP ${realm}error="${kind}", algs="${algs}"`,
  };
  if (kind === 'use_dpop_nonce' && dpop !== null && dpop.nonces !== null) {
    headers['dpop-nonce'] = dpop.nonces.fresh(config.clock());
  }
  return headers;
}

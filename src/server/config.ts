/**
 * The reference server's configuration: every environment variable of SPEC §5, validated up front
 * so that a bad value stops the server with one clear line (exit code 1) instead of a stack trace
 * or a half-configured server.
 */
import { readFileSync } from 'node:fs';
import { MAX_SESSION_CAP } from '../session/config.js';
import { ALGORITHMS, type Algorithm, isAlgorithm } from '../tokens/index.js';
import { describeStoreUrl, parseStoreUrl, type StoreSpec } from './store-url.js';

/** A configuration problem the operator must fix; its message is printed as is. */
export class ServerConfigError extends Error {
  override get name(): string {
    return 'ServerConfigError';
  }
}

export interface ServerConfig {
  /** Interface to listen on. Default 127.0.0.1 (loopback). */
  host: string;
  /** Port; 0 picks a free one (tests). Default 3000. */
  port: number;
  store: StoreSpec;
  alg: Algorithm;
  /** HS*: the HMAC secret. Unset: a random one is generated at start (with a warning). */
  secret?: string;
  /** Non-HS algorithms: the private key (PEM). Unset: a key pair is generated at start. */
  privateKey?: string;
  /** Seconds. */
  accessTtl: number;
  refreshTtl: number;
  reuseGrace: number;
  idleTimeout?: number;
  absoluteTimeout?: number;
  /** Sliding expiration: share of the access lifetime after which a request gets a renewed token (unset: off). */
  slidingRenewAfter?: number;
  /** Live sessions per user; a login beyond it ends the user's least recently used session. */
  maxSessions?: number;
  /** Secure attribute of the token cookies. Default true (browsers accept it on http://localhost). */
  cookieSecure: boolean;
  /** pino level, or false for no request log (tests). Default `info`. */
  logLevel: string | false;
  /** Directory holding the built SPA (index.html, styles.css, *.js). Default: next to the server. */
  spaDir?: string;
  /** DPoP sender-constrained sessions (`DPOP`). Default `off`. */
  dpop: 'off' | 'optional' | 'required';
  /** The origin clients see (`PUBLIC_ORIGIN`), for DPoP proofs' `htu` behind proxies. */
  publicOrigin?: string;
  /** Server DPoP nonces (`DPOP_NONCE=on`). Default off. */
  dpopNonce: boolean;
}

/** The longest lifetime the engine accepts (ten years), in seconds. */
const MAX_SECONDS = 10 * 365 * 24 * 3600;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Record<string, string | undefined>;

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number;
function integer(env: Env, name: string, fallback: undefined, min: number, max: number): number | undefined;
function integer(
  env: Env,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ServerConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ServerConfigError(`${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function privateKeyFrom(raw: string): string {
  // PEM text, possibly with literal "\n" (as many secret managers and .env files write it)...
  if (raw.includes('-----BEGIN')) return raw.replaceAll('\\n', '\n');
  // ...or the path of a PEM file.
  let text: string;
  try {
    text = readFileSync(raw, 'utf8');
  } catch (error) {
    throw new ServerConfigError(
      `JWT_PRIVATE_KEY must be a PEM private key or the path of a PEM file; cannot read ${JSON.stringify(raw)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (!text.includes('-----BEGIN')) {
    throw new ServerConfigError(`JWT_PRIVATE_KEY file ${JSON.stringify(raw)} does not hold a PEM key`);
  }
  return text;
}

/** Reads and validates the configuration from environment variables (SPEC §5). */
export function configFromEnv(env: Env = process.env): ServerConfig {
  const alg = present(env, 'JWT_ALG') ?? 'HS256';
  if (!isAlgorithm(alg)) {
    throw new ServerConfigError(
      `JWT_ALG must be one of ${ALGORITHMS.join(', ')}; got ${JSON.stringify(alg)}`,
    );
  }
  const hmac = alg.startsWith('HS');
  const secret = env.JWT_SECRET === undefined || env.JWT_SECRET === '' ? undefined : env.JWT_SECRET;
  const privateKeyRaw = present(env, 'JWT_PRIVATE_KEY');
  if (!hmac && secret !== undefined) {
    throw new ServerConfigError(
      `JWT_SECRET is only for HS256/384/512; ${alg} takes JWT_PRIVATE_KEY (PEM) or a generated key`,
    );
  }
  if (hmac && privateKeyRaw !== undefined) {
    throw new ServerConfigError(
      `JWT_PRIVATE_KEY is not used by ${alg}; set JWT_SECRET (or pick an asymmetric JWT_ALG)`,
    );
  }

  let store: StoreSpec;
  try {
    store = parseStoreUrl(present(env, 'STORE_URL') ?? 'memory');
  } catch (error) {
    throw new ServerConfigError(`STORE_URL: ${(error as Error).message}`);
  }

  const logRaw = present(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logRaw)) {
    throw new ServerConfigError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(logRaw)}`,
    );
  }

  const secureRaw = (present(env, 'COOKIE_SECURE') ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(secureRaw)) {
    throw new ServerConfigError(`COOKIE_SECURE must be true or false; got ${JSON.stringify(secureRaw)}`);
  }

  const dpop = (present(env, 'DPOP') ?? 'off').toLowerCase();
  if (dpop !== 'off' && dpop !== 'optional' && dpop !== 'required') {
    throw new ServerConfigError(`DPOP must be off, optional or required; got ${JSON.stringify(dpop)}`);
  }
  const nonceRaw = (present(env, 'DPOP_NONCE') ?? 'off').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(nonceRaw)) {
    throw new ServerConfigError(`DPOP_NONCE must be on or off; got ${JSON.stringify(nonceRaw)}`);
  }
  const dpopNonce = nonceRaw === 'on' || nonceRaw === 'true' || nonceRaw === '1';
  if (dpopNonce && dpop === 'off') {
    throw new ServerConfigError('DPOP_NONCE=on needs DPOP=optional or DPOP=required');
  }
  const publicOrigin = present(env, 'PUBLIC_ORIGIN');
  if (publicOrigin !== undefined && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(publicOrigin)) {
    throw new ServerConfigError(
      `PUBLIC_ORIGIN must be an origin such as https://app.example.com (scheme, host, optional port; no path); got ${JSON.stringify(publicOrigin)}`,
    );
  }

  const config: ServerConfig = {
    host: present(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    store,
    alg,
    accessTtl: integer(env, 'ACCESS_TTL', 3600, 1, MAX_SECONDS),
    refreshTtl: integer(env, 'REFRESH_TTL', 604_800, 1, MAX_SECONDS),
    reuseGrace: integer(env, 'REUSE_GRACE', 10, 0, 3600),
    cookieSecure: secureRaw === 'true' || secureRaw === '1',
    logLevel: logRaw,
    dpop,
    dpopNonce,
  };
  if (publicOrigin !== undefined) config.publicOrigin = publicOrigin.replace(/\/$/, '');
  if (config.accessTtl > config.refreshTtl) {
    throw new ServerConfigError(
      `ACCESS_TTL (${config.accessTtl}) must not exceed REFRESH_TTL (${config.refreshTtl}): an access token would outlive its session`,
    );
  }
  const idle = integer(env, 'IDLE_TIMEOUT', undefined, 1, MAX_SECONDS);
  const absolute = integer(env, 'ABSOLUTE_TIMEOUT', undefined, 1, MAX_SECONDS);
  if (idle !== undefined) config.idleTimeout = idle;
  if (absolute !== undefined) config.absoluteTimeout = absolute;
  const maxSessions = integer(env, 'MAX_SESSIONS', undefined, 1, MAX_SESSION_CAP);
  if (maxSessions !== undefined) config.maxSessions = maxSessions;
  if (secret !== undefined) config.secret = secret;
  if (privateKeyRaw !== undefined) config.privateKey = privateKeyFrom(privateKeyRaw);
  const spaDir = present(env, 'SPA_DIR');
  if (spaDir !== undefined) config.spaDir = spaDir;
  return config;
}

/** A one-line summary for the start-up log (never a secret). */
export function describeConfig(config: ServerConfig): string {
  const parts = [
    `store ${describeStoreUrl(config.store)}`,
    `alg ${config.alg}`,
    `access ${config.accessTtl}s`,
    `refresh ${config.refreshTtl}s`,
    `reuse grace ${config.reuseGrace}s`,
  ];
  if (config.idleTimeout !== undefined) parts.push(`idle ${config.idleTimeout}s`);
  if (config.absoluteTimeout !== undefined) parts.push(`absolute ${config.absoluteTimeout}s`);
  if (config.maxSessions !== undefined) parts.push(`max ${config.maxSessions} sessions per user`);
  if (config.dpop !== 'off') parts.push(`DPoP ${config.dpop}${config.dpopNonce ? ' with nonces' : ''}`);
  if (config.publicOrigin !== undefined) parts.push(`public origin ${config.publicOrigin}`);
  return parts.join(', ');
}

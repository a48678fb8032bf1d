import { ConfigurationError } from '../errors.js';
import type { SessionsOptions, VerifyMode } from './types.js';

export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/** The engine's options, validated and in the units the operations use. */
export interface EngineConfig {
  accessTtl: number;
  refreshTtl: number;
  rotateRefresh: boolean;
  reuseGraceMs: number;
  idleTimeoutMs: number | null;
  absoluteTimeoutMs: number | null;
  verifyMode: VerifyMode;
  slidingRenewAfter: number | null;
  touchIntervalMs: number;
  maxTokenBytes: number;
  maxSessionsPerNamespace: number | null;
}

/** The largest session cap accepted: a login trims by reading the namespace, so keep it modest. */
export const MAX_SESSION_CAP = 10_000;

function wholeSeconds(name: string, value: unknown, fallback: number | null, min: number): number | null {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_TTL_SECONDS) {
    throw new ConfigurationError(
      `${name} must be a whole number of seconds from ${min} to ${MAX_TTL_SECONDS}`,
    );
  }
  return value;
}

export function resolveConfig(options: SessionsOptions): EngineConfig {
  const accessTtl = wholeSeconds('accessTtl', options.accessTtl, 3600, 1)!;
  const refreshTtl = wholeSeconds('refreshTtl', options.refreshTtl, 604_800, 1)!;
  const reuseGrace = wholeSeconds('reuseGrace', options.reuseGrace, 10, 0)!;
  const idleTimeout = wholeSeconds('idleTimeout', options.idleTimeout, null, 1);
  const absoluteTimeout = wholeSeconds('absoluteTimeout', options.absoluteTimeout, null, 1);
  const touchInterval = wholeSeconds('touchInterval', options.touchInterval, 60, 0)!;
  const sliding = options.slidingRenewAfter;
  if (sliding !== undefined && !(typeof sliding === 'number' && sliding > 0 && sliding < 1)) {
    throw new ConfigurationError('slidingRenewAfter must be a number between 0 and 1 (exclusive)');
  }
  const verifyMode = options.verifyMode ?? 'strict';
  if (verifyMode !== 'strict' && verifyMode !== 'stateless') {
    throw new ConfigurationError("verifyMode must be 'strict' or 'stateless'");
  }
  const cap = options.maxSessionsPerNamespace;
  if (
    cap !== undefined &&
    !(typeof cap === 'number' && Number.isSafeInteger(cap) && cap >= 1 && cap <= MAX_SESSION_CAP)
  ) {
    throw new ConfigurationError(
      `maxSessionsPerNamespace must be a whole number from 1 to ${MAX_SESSION_CAP}`,
    );
  }
  const idleTimeoutMs = idleTimeout === null ? null : idleTimeout * 1000;
  // Last-used writes are throttled, but often enough that the idle deadline stays accurate.
  const touchIntervalMs = Math.min(
    touchInterval * 1000,
    idleTimeoutMs === null ? Infinity : idleTimeoutMs / 4,
  );
  return {
    accessTtl,
    refreshTtl,
    rotateRefresh: options.rotateRefresh ?? true,
    reuseGraceMs: reuseGrace * 1000,
    idleTimeoutMs,
    absoluteTimeoutMs: absoluteTimeout === null ? null : absoluteTimeout * 1000,
    verifyMode,
    slidingRenewAfter: sliding ?? null,
    touchIntervalMs,
    maxTokenBytes: options.maxTokenBytes ?? 8192,
    maxSessionsPerNamespace: cap ?? null,
  };
}

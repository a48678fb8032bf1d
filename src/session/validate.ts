/** Argument checks shared by the operations: bad input is a typed error and changes nothing. */
import { InvalidPayloadError } from '../errors.js';
import type { DeviceInfo, Payload } from './types.js';

/** Claim names the library sets itself; a user payload carrying one is refused, never overwritten. */
export const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'ns', 'typ', 'cnf']);
/** Keys that could reach a prototype if someone merged claims carelessly downstream. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_NAMESPACE_LENGTH = 256;
export const MAX_SESSION_ID_LENGTH = 128;
const MAX_IP_LENGTH = 100;
const MAX_USER_AGENT_LENGTH = 512;

/** Device metadata as stored: both fields present, null when unknown. */
export interface StoredDevice {
  ip: string | null;
  ua: string | null;
}

export function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function checkPayload(name: string, value: unknown): Payload {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new InvalidPayloadError(`${name} must be a plain JSON object`);
  for (const key of Object.keys(value as object)) {
    if (RESERVED_CLAIMS.has(key))
      throw new InvalidPayloadError(`${name} must not set the reserved claim "${key}"`);
    if (FORBIDDEN_KEYS.has(key)) throw new InvalidPayloadError(`${name} must not contain the key "${key}"`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new InvalidPayloadError(`${name} must be JSON-serializable`);
  // A round trip through JSON is what the token will carry: keep exactly that.
  return JSON.parse(json) as Payload;
}

export function checkNamespace(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAMESPACE_LENGTH) {
    throw new InvalidPayloadError(
      `namespace must be a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
    );
  }
  return value;
}

/** A namespace an operation cannot do without (listing, namespace-wide revocation). */
export function requireNamespace(value: unknown): string {
  const namespace = checkNamespace(value);
  if (namespace === null) throw new InvalidPayloadError('namespace is required');
  return namespace;
}

export function checkSessionId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SESSION_ID_LENGTH) {
    throw new InvalidPayloadError('session id must be a non-empty string');
  }
  return value;
}

export function checkDevice(device: DeviceInfo | undefined): StoredDevice {
  if (device === undefined) return { ip: null, ua: null };
  if (!isPlainObject(device)) throw new InvalidPayloadError('device must be an object');
  const { ip, userAgent } = device;
  if (ip !== undefined && ip !== null && (typeof ip !== 'string' || ip.length > MAX_IP_LENGTH)) {
    throw new InvalidPayloadError(`device.ip must be a string of at most ${MAX_IP_LENGTH} characters`);
  }
  if (userAgent !== undefined && userAgent !== null && typeof userAgent !== 'string') {
    throw new InvalidPayloadError('device.userAgent must be a string');
  }
  return { ip: ip ?? null, ua: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null };
}

/** A per-session lifetime: may only shorten the configured one, which is what verification enforces. */
export function checkSessionTtl(name: string, value: unknown, configured: number): number {
  if (value === undefined) return configured;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > configured) {
    throw new InvalidPayloadError(`${name} must be a whole number of seconds from 1 to ${configured}`);
  }
  return value;
}

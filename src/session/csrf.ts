import { timingSafeEqual } from 'node:crypto';
import { ForbiddenError } from '../errors.js';
import { randomBytesPooled } from './ids.js';

/**
 * CSRF tokens are masked copies of a per-session secret (BREACH-safe, as Rails does):
 * token = base64url(pad ‖ (pad XOR secret)), with a fresh random pad each time, so the same
 * secret never appears twice on the wire.
 */
export const CSRF_SECRET_BYTES = 32;
const MASKED_LENGTH = Math.ceil((CSRF_SECRET_BYTES * 2 * 4) / 3); // unpadded base64url of 64 bytes
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function newCsrfSecret(): string {
  return randomBytesPooled(CSRF_SECRET_BYTES).toString('base64url');
}

export function maskCsrfSecret(secret: string): string {
  const raw = Buffer.from(secret, 'base64url');
  const pad = randomBytesPooled(CSRF_SECRET_BYTES);
  const out = Buffer.allocUnsafe(CSRF_SECRET_BYTES * 2);
  for (let i = 0; i < CSRF_SECRET_BYTES; i++) {
    out[i] = pad[i]!;
    out[CSRF_SECRET_BYTES + i] = pad[i]! ^ raw[i]!;
  }
  return out.toString('base64url');
}

/** Constant-time check of a masked token against the secret; false (never a throw) on any malformed input. */
export function csrfTokenMatches(secret: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length !== MASKED_LENGTH || !BASE64URL.test(token)) return false;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== CSRF_SECRET_BYTES * 2) return false;
  const raw = Buffer.from(secret, 'base64url');
  const unmasked = Buffer.allocUnsafe(CSRF_SECRET_BYTES);
  for (let i = 0; i < CSRF_SECRET_BYTES; i++) unmasked[i] = bytes[i]! ^ bytes[CSRF_SECRET_BYTES + i]!;
  return raw.length === unmasked.length && timingSafeEqual(raw, unmasked);
}

/** `csrf_invalid` unless the token matches the session's secret. */
export function requireCsrfToken(secret: string, token: unknown): void {
  if (!csrfTokenMatches(secret, token))
    throw new ForbiddenError('csrf_invalid', 'CSRF token missing or invalid');
}

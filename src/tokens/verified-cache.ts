/**
 * Verified access tokens, kept so that a token presented again skips what cannot have changed:
 * its format, header, signature and payload parse. Sound because a codec's key ring is immutable
 * (a key can never stop verifying under a codec that once accepted it) and those checks are pure
 * functions of the token text. What can change — time (`exp`, `nbf`, `iat` against `now`), the
 * per-call expectations and the expected `typ` — is checked again on every hit by the codec.
 *
 * - A hit is the same token byte for byte, nothing weaker: the map is keyed by the token's last
 *   32 characters (cheaper to hash than the whole text), and the entry's text must equal it.
 * - Only tokens that verified are kept (a failure is never cached), so an attacker can fill it
 *   only with tokens this server signed; bounded (oldest out first), so at worst it misses.
 * - Entries hold frozen results: every caller of the same token gets the same read-only claims.
 * - An expired entry is dropped when it is next looked up, or pushed out by newer ones.
 *
 * The cache itself is a `BoundedMap` (bounded-map.ts) held by the codec.
 */
/** Default number of verified access tokens a codec keeps. */
export const DEFAULT_VERIFIED_CACHE_SIZE = 1000;
/** Upper bound of the option (each entry holds one token text and its claims). */
export const MAX_VERIFIED_CACHE_SIZE = 1_000_000;

/** Freezes a parsed JSON value and everything in it (JSON values only: objects, arrays, primitives). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

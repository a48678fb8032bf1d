/**
 * The RedisStore's replay cache (DPoP proof `jti`s): one string key per entry,
 * `<prefix>p:{<tag>}:<key>`, whose value is the entry's expiresAt. `<tag>` is the bucket tag of the
 * key (keys.ts), so entries spread over the cluster like sessions do.
 *
 * One script, one round trip, atomic on the node owning the key: liveness is judged on the
 * caller's clock (`expiresAt > now`, as for sessions), and the TTL (expiresAt - now, relative)
 * only reclaims memory. Of racing calls with one key, the first to run wins; the others see it live.
 */
import type { KeyLayout } from './keys.js';

/** KEYS entry. ARGV expiresAt, now. Returns 1 when recorded, 0 when a live entry exists. */
export const MARK_PROOF = `
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[1]) - tonumber(ARGV[2]))
return 1
`;

export const MARK_PROOF_COMMAND = 'jwtsMarkProof';

/** The Redis key of a replay-cache entry. */
export function replayEntryKey(layout: KeyLayout, key: string): string {
  return `${layout.prefix}p:{${layout.bucketOf(key).tag}}:${key}`;
}

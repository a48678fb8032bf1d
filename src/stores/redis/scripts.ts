/**
 * The RedisStore's Lua scripts. Each runs atomically on the node owning its bucket's slot; every key
 * a script touches carries the bucket's hash tag (see keys.ts), so scripts may build session and
 * namespace-index key names from the prefixes they are given and stay single-slot.
 *
 * Session hash fields: v version, c createdAt, u lastUsedAt, e expiresAt, r accessRevoked ('1'/'0'),
 * d data, n namespace (absent for none). Index scores are the session's expiresAt, kept equal to `e`
 * by every write. Liveness is judged by `e` against the caller's `now` argument, never by Redis
 * TTLs alone; TTLs (relative: expiresAt - now) only reclaim memory.
 *
 * Numbers are compared with tonumber() (epoch milliseconds are exact in Lua doubles) but written
 * back only as the strings the caller sent, never formatted by Lua (which would print 1.7e+12).
 */

/** Shared helpers, prepended to the scripts that need them. */
const HELPERS = `
local function extend(key, ttl)
  local p = redis.call('PTTL', key)
  if p == -1 or (p >= 0 and p < ttl) then redis.call('PEXPIRE', key, ttl) end
end
local function prune(index, now, limit, sp, np, all)
  local ids = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, limit)
  local n = tonumber(now)
  for _, id in ipairs(ids) do
    local sk = sp .. id
    local f = redis.call('HMGET', sk, 'e', 'n')
    local e = tonumber(f[1])
    if e and e > n then
      redis.call('ZADD', index, f[1], id)
    else
      redis.call('DEL', sk)
      redis.call('ZREM', index, id)
      redis.call('ZREM', all, id)
      if f[2] then redis.call('ZREM', np .. f[2], id) end
    end
  end
end
`;

/** Inserts the session and indexes it (the body of create and createCapped). */
const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('JWTS_CLASH ' .. ARGV[1]) end
local ttl = tonumber(ARGV[9])
if KEYS[3] then
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'c', ARGV[3], 'u', ARGV[4], 'e', ARGV[5], 'r', ARGV[6], 'd', ARGV[7], 'n', ARGV[8])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'c', ARGV[3], 'u', ARGV[4], 'e', ARGV[5], 'r', ARGV[6], 'd', ARGV[7])
end
redis.call('PEXPIRE', KEYS[1], ttl)
prune(KEYS[2], ARGV[10], ARGV[13], ARGV[11], ARGV[12], KEYS[2])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
extend(KEYS[2], ttl)
if KEYS[3] then
  prune(KEYS[3], ARGV[10], ARGV[13], ARGV[11], ARGV[12], KEYS[2])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
  extend(KEYS[3], ttl)
end
`;

/**
 * create: KEYS session, bucket index[, namespace index]
 * ARGV id, v, c, u, e, r, d, namespace, ttl, now, sessionPrefix, namespacePrefix, pruneLimit
 */
export const CREATE = `${HELPERS}${INSERT}
return 1
`;

/**
 * create with the session cap, in one step: KEYS session, bucket index, namespace index
 * ARGV as create, then cap, channel. Ends the namespace's live sessions in this bucket beyond the
 * cap, least recently used first (lastUsedAt, then createdAt, then id, descending: the order of
 * sessionsBeyondCap), publishes `i:<id>` for each, and returns their ids.
 */
export const CREATE_CAPPED = `${HELPERS}${INSERT}
local now = tonumber(ARGV[10])
local live = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[10], '+inf')) do
  local f = redis.call('HMGET', ARGV[11] .. id, 'u', 'c', 'e')
  local e = tonumber(f[3])
  if e and e > now then live[#live + 1] = { id = id, u = tonumber(f[1]), c = tonumber(f[2]) } end
end
local cap = tonumber(ARGV[14])
local ended = {}
if #live > cap then
  table.sort(live, function(a, b)
    if a.u ~= b.u then return a.u > b.u end
    if a.c ~= b.c then return a.c > b.c end
    return a.id > b.id
  end)
  for i = cap + 1, #live do
    local id = live[i].id
    redis.call('DEL', ARGV[11] .. id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    if ARGV[15] ~= '' then redis.call('PUBLISH', ARGV[15], 'i:' .. id) end
    ended[#ended + 1] = id
  end
end
return ended
`;

/**
 * replace (compare-and-swap on v): KEYS session, bucket index
 * ARGV id, expectedVersion, now, v, c, u, e, r, d, ttl, namespacePrefix, channel
 * Returns 0 when refused, else { 1, the stored namespace (nil for none) }: the namespace is
 * immutable, so the caller learns the exact record now stored. Publishes `w:<v>:<id>`.
 */
export const REPLACE = `${HELPERS}
local f = redis.call('HMGET', KEYS[1], 'v', 'e', 'n')
local e = tonumber(f[2])
if not e or e <= tonumber(ARGV[3]) or tonumber(f[1]) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[4], 'c', ARGV[5], 'u', ARGV[6], 'e', ARGV[7], 'r', ARGV[8], 'd', ARGV[9])
local ttl = tonumber(ARGV[10])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
extend(KEYS[2], ttl)
if f[3] then
  local nk = ARGV[11] .. f[3]
  redis.call('ZADD', nk, ARGV[7], ARGV[1])
  extend(nk, ttl)
end
if ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[12], 'w:' .. ARGV[4] .. ':' .. ARGV[1]) end
return { 1, f[3] }
`;

/**
 * touch (no version bump, no resurrection): KEYS session, bucket index
 * ARGV id, lastUsedAt, expiresAt, now, ttl, namespacePrefix, channel
 * Returns 0 for a missing or expired session, else { 1, its version }. Publishes
 * `t:<v>:<lastUsedAt>:<expiresAt>:<id>`.
 */
export const TOUCH = `${HELPERS}
local f = redis.call('HMGET', KEYS[1], 'e', 'n', 'v')
local e = tonumber(f[1])
if not e or e <= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'e', ARGV[3])
local ttl = tonumber(ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
extend(KEYS[2], ttl)
if f[2] then
  local nk = ARGV[6] .. f[2]
  redis.call('ZADD', nk, ARGV[3], ARGV[1])
  extend(nk, ttl)
end
if ARGV[7] ~= '' then
  if f[3] then
    redis.call('PUBLISH', ARGV[7], 't:' .. f[3] .. ':' .. ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[1])
  else
    redis.call('PUBLISH', ARGV[7], 'i:' .. ARGV[1])
  end
end
return { 1, f[3] }
`;

/**
 * delete: KEYS session, bucket index
 * ARGV id, now, namespacePrefix, channel. Returns 1 when a live session ended.
 */
export const DELETE = `
local f = redis.call('HMGET', KEYS[1], 'e', 'n')
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if f[2] then redis.call('ZREM', ARGV[3] .. f[2], ARGV[1]) end
if existed == 0 then return 0 end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], 'i:' .. ARGV[1]) end
local e = tonumber(f[1])
if e and e > tonumber(ARGV[2]) then return 1 end
return 0
`;

/**
 * list a namespace in one bucket (read only): KEYS namespace index
 * ARGV now, sessionPrefix. Returns a flat array: id, v, c, u, e, r, d per live session.
 */
export const LIST_NAMESPACE = `
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
local out = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ARGV[2] .. id, 'v', 'c', 'u', 'e', 'r', 'd')
  local e = tonumber(f[4])
  if f[1] and e and e > now then
    out[#out + 1] = id
    for i = 1, 6 do out[#out + 1] = f[i] end
  end
end
return out
`;

/**
 * revoke a namespace's access tokens in one bucket: KEYS namespace index, bucket index
 * ARGV now, sessionPrefix, namespacePrefix, channel. Returns the ids marked; publishes
 * `w:<new version>:<id>` for each.
 */
export const REVOKE_NAMESPACE = `${HELPERS}
prune(KEYS[1], ARGV[1], -1, ARGV[2], ARGV[3], KEYS[2])
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
local out = {}
for _, id in ipairs(ids) do
  local sk = ARGV[2] .. id
  local e = tonumber(redis.call('HGET', sk, 'e'))
  if e and e > now then
    redis.call('HSET', sk, 'r', '1')
    local v = redis.call('HINCRBY', sk, 'v', 1)
    if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], 'w:' .. string.format('%d', v) .. ':' .. id) end
    out[#out + 1] = id
  elseif not e then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
  end
end
return out
`;

/**
 * delete a namespace in one bucket: KEYS namespace index, bucket index
 * ARGV now, sessionPrefix, channel. Returns the ids of the live sessions that ended.
 */
export const DELETE_NAMESPACE = `
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local sk = ARGV[2] .. id
  local e = tonumber(redis.call('HGET', sk, 'e'))
  if redis.call('DEL', sk) == 1 and e and e > now then
    if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], 'i:' .. id) end
    out[#out + 1] = id
  end
  redis.call('ZREM', KEYS[2], id)
end
redis.call('DEL', KEYS[1])
return out
`;

/**
 * delete up to `limit` sessions of one bucket (deleteAll runs it until the bucket is empty):
 * KEYS bucket index. ARGV now, sessionPrefix, namespacePrefix, channel, limit.
 * Returns { live sessions ended, sessions left in the bucket }.
 */
export const DELETE_BUCKET = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[5])
local ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
local live = 0
for _, id in ipairs(ids) do
  local sk = ARGV[2] .. id
  local f = redis.call('HMGET', sk, 'e', 'n')
  if redis.call('DEL', sk) == 1 then
    local e = tonumber(f[1])
    if e and e > now then live = live + 1 end
  end
  if f[2] then redis.call('ZREM', ARGV[3] .. f[2], id) end
end
if #ids > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #ids - 1)
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], 'a') end
end
return { live, redis.call('ZCARD', KEYS[1]) }
`;

export const SCRIPTS = {
  jwtsCreate: CREATE,
  jwtsCreateCapped: CREATE_CAPPED,
  jwtsReplace: REPLACE,
  jwtsTouch: TOUCH,
  jwtsDelete: DELETE,
  jwtsListNamespace: LIST_NAMESPACE,
  jwtsRevokeNamespace: REVOKE_NAMESPACE,
  jwtsDeleteNamespace: DELETE_NAMESPACE,
  jwtsDeleteBucket: DELETE_BUCKET,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

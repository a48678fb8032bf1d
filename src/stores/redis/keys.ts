/**
 * Key layout of the RedisStore (stable: changing it, the prefix or the bucket count orphans every
 * stored session).
 *
 *   <prefix>s:{<tag>}:<id>          hash, one per session: v c u e r d [n]   (TTL = session life)
 *   <prefix>a:{<tag>}               sorted set: every session id of the bucket, scored by expiresAt
 *   <prefix>n:{<tag>}:<namespace>   sorted set: the namespace's session ids in the bucket, by expiresAt
 *   <prefix>p:{<tag>}:<key>         string, one per DPoP replay-cache entry: its expiresAt (replay.ts)
 *   <prefix>inv                     pub/sub channel of cache invalidations (not a key)
 *
 * A session lives in bucket `fnv1a(id) mod buckets`; `<tag>` is the bucket's Redis Cluster hash tag.
 * Everything one session operation touches (its hash, its bucket's global index, its namespace's
 * index in that bucket) shares the tag, hence one slot: every single-session operation is one
 * atomic script on one node. A namespace (or the whole store) spans every bucket, so namespace
 * operations run one atomic script per bucket, all sent at once (one round trip per node).
 *
 * Bucket tags are chosen so that bucket i hashes into the i-th equal share of the 16384 cluster
 * slots: with the usual even slot split, buckets spread evenly over the masters.
 */

export const CLUSTER_SLOTS = 16384;
export const MAX_BUCKETS = 1024;

/** CRC16/XMODEM, the checksum Redis Cluster uses for key slots. */
export function crc16(input: string): number {
  const bytes = Buffer.from(input, 'utf8');
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

/** The cluster slot of a key, honouring `{hash tags}` as Redis does. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % CLUSTER_SLOTS;
  }
  return crc16(key) % CLUSTER_SLOTS;
}

/** 32-bit FNV-1a over the UTF-16 code units: cheap, stable, well spread for random ids. */
export function fnv1a(input: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    hash ^= input.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The hash tag of each bucket: bucket i's tag hashes into the i-th share of the slot space. */
export function bucketTags(buckets: number): string[] {
  const tags: string[] = [];
  for (let i = 0; i < buckets; i++) {
    const low = Math.floor((i * CLUSTER_SLOTS) / buckets);
    const high = Math.floor(((i + 1) * CLUSTER_SLOTS) / buckets);
    for (let j = 0; ; j++) {
      const tag = `${i.toString(36)}.${j.toString(36)}`;
      const slot = crc16(tag) % CLUSTER_SLOTS;
      if (slot >= low && slot < high) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

/** The key names of one bucket. */
export interface Bucket {
  readonly index: number;
  readonly tag: string;
  /** Global index of the bucket: `<prefix>a:{tag}`. */
  readonly all: string;
  /** Session key prefix: `<prefix>s:{tag}:` + id. */
  readonly sessionPrefix: string;
  /** Namespace index prefix: `<prefix>n:{tag}:` + namespace. */
  readonly namespacePrefix: string;
}

export class KeyLayout {
  readonly prefix: string;
  readonly buckets: readonly Bucket[];
  readonly channel: string;

  constructor(prefix: string, buckets: number) {
    this.prefix = prefix;
    this.channel = `${prefix}inv`;
    this.buckets = bucketTags(buckets).map((tag, index) => ({
      index,
      tag,
      all: `${prefix}a:{${tag}}`,
      sessionPrefix: `${prefix}s:{${tag}}:`,
      namespacePrefix: `${prefix}n:{${tag}}:`,
    }));
  }

  bucketOf(id: string): Bucket {
    const buckets = this.buckets;
    return buckets.length === 1 ? buckets[0]! : buckets[fnv1a(id) % buckets.length]!;
  }
}

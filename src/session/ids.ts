import { randomFillSync } from 'node:crypto';

/**
 * Random ids from the CSPRNG, 128 bits (16 bytes) each, base64url. Bytes are drawn from a pooled
 * buffer refilled in bulk: one syscall per 256 ids instead of one per id.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

export function randomBytesPooled(length: number): Buffer {
  if (length > POOL_BYTES) throw new RangeError('request larger than the random pool');
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  // Copy out so callers never share (or see reused) pool memory.
  const bytes = Buffer.from(pool.subarray(offset, offset + length));
  // Zero what was handed out: pool bytes are never used twice.
  pool.fill(0, offset, offset + length);
  offset += length;
  return bytes;
}

/** A 128-bit random id, 22 base64url characters. */
export function randomId(): string {
  return randomBytesPooled(16).toString('base64url');
}

/**
 * Strict, canonical base64url (RFC 4648 §5 without padding, as RFC 7515 requires).
 *
 * `Buffer.from(s, 'base64url')` is lenient: it skips characters outside the alphabet, accepts
 * padding and ignores non-zero unused bits, so several strings decode to the same bytes. A token
 * must have exactly one spelling, so every segment is checked here before it is decoded:
 * alphabet `[A-Za-z0-9_-]` only, no `=`, no whitespace, `length % 4 !== 1`, and the unused low bits
 * of the last character are zero.
 */
import { Buffer } from 'node:buffer';

/** The 6-bit value of each base64url character, or -1. */
const VALUE = new Int8Array(128).fill(-1);
{
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) VALUE[alphabet.charCodeAt(i)] = i;
}

/**
 * Whether `s.slice(start, end)` ends canonically, assuming its characters are already known to be
 * in the alphabet: the length is not 1 mod 4 and the last character carries no non-zero unused bits.
 */
export function hasCanonicalTail(s: string, start: number, end: number): boolean {
  const rem = (end - start) & 3;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const v = VALUE[s.charCodeAt(end - 1)]!;
  // 2 chars -> 1 byte: 4 unused bits; 3 chars -> 2 bytes: 2 unused bits.
  return (v & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/** Whether `s` is a canonical unpadded base64url string (the empty string is). */
export function isCanonicalBase64url(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || VALUE[c]! < 0) return false;
  }
  return hasCanonicalTail(s, 0, n);
}

/**
 * Decodes a canonical base64url string, or returns `undefined` when it is not canonical. Exactly
 * {@link isCanonicalBase64url} followed by a decode, but on native scans (this runs on every token).
 * A UTF-16 unit >= 0x80 makes the UTF-8 length exceed the string length: such strings are refused
 * here (Node's decoder would read some of them, e.g. U+0141, as alphabet characters).
 */
export function decodeBase64url(s: string): Buffer | undefined {
  return Buffer.byteLength(s, 'utf8') === s.length ? decodeAsciiBase64url(s) : undefined;
}

/**
 * {@link decodeBase64url} for a string already known to be ASCII (the codec checks a whole token
 * once instead of each segment):
 * - `+`, `/` and `=` are the other base64 spellings, which Node's decoder also accepts;
 * - Node's decoder skips every other character, and since `length % 4 !== 1`, n characters with one
 *   or more skipped always decode to fewer than floor(3n / 4) bytes;
 * - the last character carries no non-zero unused bits.
 */
export function decodeAsciiBase64url(s: string): Buffer | undefined {
  const n = s.length;
  if ((n & 3) === 1) return undefined;
  if (s.indexOf('+') !== -1 || s.indexOf('/') !== -1 || s.indexOf('=') !== -1) return undefined;
  const bytes = Buffer.from(s, 'base64url');
  if (bytes.length !== (n * 3) >>> 2 || !hasCanonicalTail(s, 0, n)) return undefined;
  return bytes;
}

/** Encodes bytes (or the UTF-8 of a string) as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  if (typeof input === 'string') return Buffer.from(input, 'utf8').toString('base64url');
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64url');
}

/** Length of the unpadded base64url encoding of `bytes` bytes. */
export function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

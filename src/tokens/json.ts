/**
 * Strict JSON for JOSE headers and claim sets: valid UTF-8, a JSON *object* at the top, no
 * duplicate member names at any depth, bounded nesting.
 *
 * `JSON.parse` keeps the last of duplicate names silently, which lets two parsers read one token
 * differently. Detecting duplicates without a second parser:
 *
 * - K = the number of own keys of every object in the parsed value (summed). `JSON.parse` makes
 *   one own property per *distinct* name of an object (even `__proto__`), so K <= W, the number of
 *   members written in the text, with equality exactly when no object repeats a name.
 * - Fast upper bound U >= W: every member's `:` is outside strings and immediately preceded by the
 *   closing `"` of its name or by JSON whitespace. Counting the colons so preceded (a few native
 *   `indexOf` calls) counts every member colon, plus perhaps some colons inside strings.
 *   If U === K then U >= W >= K = U, so W === K: no duplicates.
 * - Otherwise (a string value holds `":` or ` :`, or there really is a duplicate) an exact scan
 *   counts W (colons outside string literals) and compares it with K.
 */
import { Buffer, isUtf8 } from 'node:buffer';

/** Maximum nesting of objects/arrays in a header or payload. */
export const MAX_JSON_DEPTH = 32;

/** W: colons outside string literals in valid JSON text (exact, slower path). */
function countMemberColons(text: string): number {
  let members = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Jump to the closing quote: the next `"` not preceded by an odd run of backslashes.
      let j = text.indexOf('"', i + 1);
      while (j !== -1 && text.charCodeAt(j - 1) === 0x5c) {
        let k = j - 1;
        while (text.charCodeAt(k - 1) === 0x5c) k--;
        if (((j - k) & 1) === 0) break; // an even run of backslashes escapes only itself
        j = text.indexOf('"', j + 1);
      }
      if (j === -1) return -1;
      i = j + 1;
      continue;
    }
    if (c === 0x3a) members++;
    i++;
  }
  return members;
}

/** U: colons immediately preceded by `"` or JSON whitespace (an upper bound of W). */
function countLikelyMemberColons(text: string): number {
  let n = 0;
  let i = text.indexOf(':');
  while (i !== -1) {
    const p = text.charCodeAt(i - 1);
    if (p === 0x22 || p === 0x20 || p === 0x0a || p === 0x0d || p === 0x09) n++;
    i = text.indexOf(':', i + 1);
  }
  return n;
}

/** K: own keys of every object inside `value`, or -1 when nesting exceeds MAX_JSON_DEPTH. */
function countKeys(value: object, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return -1;
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) {
        const m = countKeys(v, depth + 1);
        if (m < 0) return -1;
        n += m;
      }
    }
    return n;
  }
  const keys = Object.keys(value);
  n = keys.length;
  for (let i = 0; i < keys.length; i++) {
    const v: unknown = (value as Record<string, unknown>)[keys[i]!];
    if (typeof v === 'object' && v !== null) {
      const m = countKeys(v, depth + 1);
      if (m < 0) return -1;
      n += m;
    }
  }
  return n;
}

/**
 * Parses JSON text that must be an object without duplicate names and with bounded depth.
 * Returns `undefined` on any violation (the caller chooses the error).
 */
export function parseJsonObjectText(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = countKeys(value, 1);
  if (keys < 0) return undefined;
  if (countLikelyMemberColons(text) !== keys && countMemberColons(text) !== keys) return undefined;
  return value as Record<string, unknown>;
}

/**
 * Decodes UTF-8 bytes strictly (`undefined` for ill-formed UTF-8) and parses them with
 * {@link parseJsonObjectText}.
 */
export function parseJsonObjectBytes(bytes: Buffer): Record<string, unknown> | undefined {
  const text = bytes.toString('utf8');
  // toString() replaces ill-formed sequences with U+FFFD; only then is the full check needed
  // (a genuine, well-formed U+FFFD in the input is still accepted).
  if (text.indexOf('\ufffd') !== -1 && !isUtf8(bytes)) return undefined;
  return parseJsonObjectText(text);
}

/** Decodes a canonical base64url segment and parses it (`undefined` on any violation). */
export function parseJsonObjectFromBase64url(segment: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) return undefined;
  return parseJsonObjectBytes(bytes);
}

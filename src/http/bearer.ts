/**
 * `Authorization` and token header parsing. Single left-to-right passes over the value, so the
 * cost is linear in the header length whatever it contains (100 KB of spaces included): character
 * tests for the scheme, and for the token one sticky character-class regex (`[…]*` with nothing
 * after it cannot backtrack), a native scan about twice as fast as a loop of `charCodeAt` over a
 * 300-character token, on every request.
 *
 * Accepted: `Bearer <token>` (scheme case-insensitive, one or more spaces/tabs, exactly one token
 * of JWT characters `A-Z a-z 0-9 - _ .`, nothing after it). Schemes listed as ignored (Basic and
 * Digest by default) read as if the header were absent. Anything else present is malformed.
 */

export type HeaderToken =
  /** No header, or an empty one. */
  | { kind: 'absent' }
  /** A scheme this application ignores (e.g. Basic): as if absent. */
  | { kind: 'ignored'; scheme: string }
  | { kind: 'token'; token: string }
  /** Present but unusable: never fall back to another transport. */
  | { kind: 'malformed'; reason: string };

const SP = 0x20;
const HTAB = 0x09;

/** A run of JWT compact serialisation characters (base64url plus `.`) from `lastIndex` on. */
const TOKEN_RUN = /[A-Za-z0-9_.-]*/y;

/** RFC 9110 `tchar`: what an auth scheme (and a header or cookie name) may contain. */
const TCHARS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHARS[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHARS[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHARS[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHARS[ch.charCodeAt(0)] = 1;

const isSpace = (code: number): boolean => code === SP || code === HTAB;

/** True when every character of `value[start, end)` is a JWT character and the range is not empty. */
export function isTokenChars(value: string, start = 0, end = value.length): boolean {
  if (end <= start) return false;
  TOKEN_RUN.lastIndex = start;
  TOKEN_RUN.test(value);
  return TOKEN_RUN.lastIndex >= end;
}

/** True for a non-empty RFC 9110 token (header names, cookie names, auth schemes). */
export function isHttpToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || TCHARS[code] !== 1) return false;
  }
  return true;
}

/** The [start, end) range of `value` without leading/trailing spaces and tabs. */
function trimRange(value: string): [number, number] {
  let start = 0;
  let end = value.length;
  while (start < end && isSpace(value.charCodeAt(start))) start++;
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--;
  return [start, end];
}

const BEARER = 'bearer';

/** `value[start, end)` is `bearer` in any case (tchars only: OR-ing 0x20 lower-cases just letters). */
function isBearer(value: string, start: number, end: number): boolean {
  if (end - start !== BEARER.length) return false;
  for (let k = 0; k < BEARER.length; k++) {
    if ((value.charCodeAt(start + k) | 0x20) !== BEARER.charCodeAt(k)) return false;
  }
  return true;
}

function parseCredentials(
  value: string,
  start: number,
  end: number,
  ignoredSchemes: ReadonlySet<string>,
): HeaderToken {
  let i = start;
  while (i < end && !isSpace(value.charCodeAt(i))) {
    const code = value.charCodeAt(i);
    if (code >= 128 || TCHARS[code] !== 1) {
      return { kind: 'malformed', reason: 'authorization header is not "Bearer <token>"' };
    }
    i++;
  }
  // Bearer is recognised in place; any other scheme is sliced and lower-cased to be looked up.
  if (!isBearer(value, start, i) || ignoredSchemes.has(BEARER)) {
    const scheme = value.slice(start, i);
    if (ignoredSchemes.has(scheme.toLowerCase())) return { kind: 'ignored', scheme };
    return { kind: 'malformed', reason: `unsupported authorization scheme` };
  }
  while (i < end && isSpace(value.charCodeAt(i))) i++;
  if (i === end) return { kind: 'malformed', reason: 'bearer token missing' };
  if (!isTokenChars(value, i, end)) {
    return { kind: 'malformed', reason: 'authorization header must carry exactly one bearer token' };
  }
  return { kind: 'token', token: value.slice(i, end) };
}

/**
 * Parses an `Authorization` header value. `ignoredSchemes` holds lower-case scheme names read as
 * absent (default in the HTTP layer: `basic`, `digest`).
 */
export function parseAuthorization(
  value: string | undefined,
  ignoredSchemes: ReadonlySet<string>,
): HeaderToken {
  if (value === undefined) return { kind: 'absent' };
  const [start, end] = trimRange(value);
  if (start === end) return { kind: 'absent' };
  return parseCredentials(value, start, end, ignoredSchemes);
}

const NO_IGNORED: ReadonlySet<string> = new Set();

/**
 * Parses a token header that takes a bare token or `Bearer <token>` (`X-Refresh-Token`, or a
 * custom access header). No scheme is ignored here: anything but those two forms is malformed.
 */
export function parseTokenHeader(value: string | undefined): HeaderToken {
  if (value === undefined) return { kind: 'absent' };
  const [start, end] = trimRange(value);
  if (start === end) return { kind: 'absent' };
  for (let i = start; i < end; i++) {
    if (isSpace(value.charCodeAt(i))) return parseCredentials(value, start, end, NO_IGNORED);
  }
  if (!isTokenChars(value, start, end)) return { kind: 'malformed', reason: 'token header is malformed' };
  return { kind: 'token', token: value.slice(start, end) };
}

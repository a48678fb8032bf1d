/**
 * Cookie header parsing and `Set-Cookie` serialisation (RFC 6265 / 6265bis).
 *
 * Parsing keeps every value of a name: a name sent twice is how cookie tossing shows (a sibling
 * subdomain or a longer path planting a second `jwt_access`), and the HTTP layer refuses such a
 * request as ambiguous rather than guessing which one the browser meant. Values are not
 * percent-decoded (tokens never need it). Names are case-sensitive, as browsers treat them.
 */
import { ConfigurationError } from '../errors.js';
import { isHttpToken } from './bearer.js';

export type SameSite = 'Strict' | 'Lax' | 'None';

/** Parses a `Cookie` header into name → values (in order). Linear; never throws. */
export function parseCookieHeader(header: string | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  if (header === undefined) return cookies;
  const length = header.length;
  let start = 0;
  while (start < length) {
    // One scan per pair for both `=` and `;` (an indexOf('=') past the pair's end would make
    // "a;a;a;…" quadratic).
    let eq = -1;
    let end = start;
    for (; end < length; end++) {
      const code = header.charCodeAt(end);
      if (code === 0x3b) break;
      if (code === 0x3d && eq === -1) eq = end;
    }
    if (eq !== -1) {
      const name = trim(header, start, eq);
      if (name.length > 0) {
        let value = trim(header, eq + 1, end);
        if (
          value.length >= 2 &&
          value.charCodeAt(0) === 0x22 &&
          value.charCodeAt(value.length - 1) === 0x22
        ) {
          value = value.slice(1, -1);
        }
        const values = cookies.get(name);
        if (values === undefined) cookies.set(name, [value]);
        else values.push(value);
      }
    }
    start = end + 1;
  }
  return cookies;
}

function trim(text: string, start: number, end: number): string {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

const isOws = (code: number): boolean => code === 0x20 || code === 0x09;

export type CookieLookup = { kind: 'absent' } | { kind: 'value'; value: string } | { kind: 'ambiguous' };

/**
 * One cookie by name. An empty value (what logout leaves behind) reads as absent; a name sent more
 * than once, even with the same value, is ambiguous.
 */
export function lookupCookie(cookies: Map<string, string[]>, name: string): CookieLookup {
  const values = cookies.get(name);
  if (values === undefined) return { kind: 'absent' };
  if (values.length > 1) return { kind: 'ambiguous' };
  const value = values[0]!;
  return value.length === 0 ? { kind: 'absent' } : { kind: 'value', value };
}

export interface CookieAttributes {
  path: string;
  domain?: string | undefined;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite;
  /** Seconds; 0 expires the cookie at once. Omitted: a session cookie. */
  maxAge?: number | undefined;
  /** Written together with Max-Age for old clients. */
  expires?: Date | undefined;
}

/** RFC 6265 cookie-octet: visible ASCII except DQUOTE, comma, semicolon and backslash. */
function isCookieValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x3b || c === 0x5c) return false;
  }
  return true;
}

/** Attribute values (path, domain): printable ASCII without `;`. */
function isAttributeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3b) return false;
  }
  return true;
}

/**
 * Checks a cookie's name against its attributes: `__Host-` needs Secure, `Path=/` and no Domain;
 * `__Secure-` needs Secure; SameSite=None needs Secure. Throws ConfigurationError, so a
 * misconfiguration shows at start-up instead of as a cookie browsers silently drop.
 */
export function validateCookieConfig(name: string, attributes: CookieAttributes): void {
  if (!isHttpToken(name)) throw new ConfigurationError(`cookie name "${name}" is not a valid token`);
  if (!attributes.path.startsWith('/') || !isAttributeValue(attributes.path)) {
    throw new ConfigurationError(`cookie "${name}": path must start with "/" and contain no ";" or controls`);
  }
  if (
    attributes.domain !== undefined &&
    (attributes.domain.length === 0 || !isAttributeValue(attributes.domain))
  ) {
    throw new ConfigurationError(`cookie "${name}": invalid domain`);
  }
  const lower = name.toLowerCase();
  if (lower.startsWith('__host-')) {
    if (!attributes.secure || attributes.path !== '/' || attributes.domain !== undefined) {
      throw new ConfigurationError(
        `cookie "${name}": the __Host- prefix needs Secure, Path=/ and no Domain (use __Secure- for a path-scoped cookie)`,
      );
    }
  } else if (lower.startsWith('__secure-') && !attributes.secure) {
    throw new ConfigurationError(`cookie "${name}": the __Secure- prefix needs Secure`);
  }
  if (attributes.sameSite === 'None' && !attributes.secure) {
    throw new ConfigurationError(`cookie "${name}": SameSite=None needs Secure`);
  }
}

/** Serialises one `Set-Cookie` value. The value must be cookie-octets (tokens always are). */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!isHttpToken(name)) throw new TypeError(`invalid cookie name "${name}"`);
  if (!isCookieValue(value)) throw new TypeError(`invalid value for cookie "${name}"`);
  let out = `${name}=${value}; Path=${attributes.path}`;
  if (attributes.domain !== undefined) out += `; Domain=${attributes.domain}`;
  if (attributes.maxAge !== undefined) out += `; Max-Age=${Math.max(0, Math.floor(attributes.maxAge))}`;
  if (attributes.expires !== undefined) out += `; Expires=${attributes.expires.toUTCString()}`;
  if (attributes.httpOnly) out += '; HttpOnly';
  if (attributes.secure) out += '; Secure';
  out += `; SameSite=${attributes.sameSite}`;
  return out;
}

/** A `Set-Cookie` value that removes the cookie: empty value, same attributes, expired. */
export function serializeExpiredCookie(name: string, attributes: CookieAttributes): string {
  return serializeCookie(name, '', { ...attributes, maxAge: 0, expires: new Date(0) });
}

/**
 * The `htu` comparison of RFC 9449 §4.3 item 9: the proof's `htu` and the request URL are compared
 * without query and fragment, after syntax-based normalisation (RFC 3986 §6.2.2) and scheme-based
 * normalisation (§6.2.3).
 *
 * The WHATWG `URL` parser does most of it (scheme and host lower-cased, the default port dropped, an
 * empty path made `/`, dot segments removed); on top of that, percent-encodings in the path get
 * upper-case hex digits and encoded unreserved characters are decoded (§6.2.2.1-2). The parser is
 * lenient in ways a signed value must not be (it strips tabs, newlines and surrounding spaces), so
 * anything outside printable ASCII is refused before it runs; so are user info and non-HTTP schemes.
 */

/** URLs longer than this are refused (a proof is capped anyway; this bounds the parse). */
export const MAX_HTU_LENGTH = 4096;

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** `%xx` escapes with upper-case hex; escapes of unreserved characters decoded. */
function normalizePercentEncoding(path: string): string {
  if (path.indexOf('%') === -1) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * `scheme://host[:port]/path` of an absolute http(s) URL, normalised, without query and fragment;
 * `undefined` when `value` is not such a URL.
 */
export function normalizeHtu(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_HTU_LENGTH) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '' || url.host === '') return undefined;
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname)}`;
}

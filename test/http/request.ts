/**
 * A framework-free `HttpRequest` for unit tests of the HTTP core: headers by lower-case name,
 * an optional body (raw bytes or what a framework's body parser produced).
 */
import type { HttpRequest, RawBody } from '../../src/http/types.js';

export interface FakeRequestInit {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  /** Raw bytes (a string is UTF-8 encoded), or `{ parsed }` as a framework body parser would hand over. */
  body?: string | Uint8Array | { parsed: unknown };
  ip?: string | null;
}

export function fakeRequest(init: FakeRequestInit = {}): HttpRequest {
  const headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const { body } = init;
  return {
    method: init.method ?? 'GET',
    url: init.url ?? '/',
    header: (name) => headers.get(name),
    ip: init.ip ?? null,
    async readBody(): Promise<RawBody> {
      if (body === undefined) return null;
      if (typeof body === 'string') return { bytes: new TextEncoder().encode(body) };
      if (body instanceof Uint8Array) return { bytes: body };
      return body;
    },
  };
}

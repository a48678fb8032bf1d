/**
 * Shared by the adapters that speak the Fetch API (Hono, Next.js): a Web `Request` as an
 * `HttpRequest`, an `HttpResponse` as a Web `Response`, and a `ResponsePatch` onto `Headers`.
 */
import { readWebStream } from '../http/body.js';
import { mergeHeaderList } from '../http/cors.js';
import type { HttpRequest, HttpResponse, RawBody, ResponsePatch } from '../http/types.js';

/**
 * A Web `Request` as an `HttpRequest`; `ip` is what the runtime reports (resolved lazily). `header`
 * may read the headers from elsewhere (Hono on Node reads Node's own request: faster).
 */
export function webHttpRequest(
  request: Request,
  ip: () => string | null | undefined,
  header: HttpRequest['header'] = (name) => request.headers.get(name) ?? undefined,
): HttpRequest {
  return {
    method: request.method,
    url: request.url,
    header,
    get ip() {
      try {
        return ip() ?? null;
      } catch {
        return null;
      }
    },
    readBody: (limit) => readWebRequestBody(request, limit),
  };
}

/** `HttpRequest.readBody` of a Web `Request`: its bytes, null when it has none or was read already. */
export async function readWebRequestBody(request: Request, limit: number): Promise<RawBody> {
  if (request.bodyUsed) return null;
  const bytes = await readWebStream(request.body, limit);
  return bytes === null || bytes.length === 0 ? null : { bytes };
}

/** Adds a patch's headers (merging list headers) and cookies to `headers`. */
export function applyWebPatch(headers: Headers, patch: ResponsePatch): void {
  for (const [name, value] of Object.entries(patch.headers)) {
    if (name === 'vary' || name === 'access-control-expose-headers') {
      headers.set(name, mergeHeaderList(headers.get(name) ?? undefined, value));
    } else {
      headers.set(name, value);
    }
  }
  for (const cookie of patch.cookies) headers.append('set-cookie', cookie);
}

/** An `HttpResponse` as a Web `Response`. */
export function toWebResponse(response: HttpResponse): Response {
  const headers = new Headers();
  applyWebPatch(headers, response);
  if (response.body === undefined) return new Response(null, { status: response.status, headers });
  headers.set('content-type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(response.body), { status: response.status, headers });
}

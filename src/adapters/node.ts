/**
 * Shared by the Express and Fastify adapters: Node's `IncomingMessage` → `HttpRequest`, and an
 * `HttpResponse` / `ResponsePatch` onto a `ServerResponse`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { patchIsEmpty } from '../http/authorize.js';
import { mergeHeaderList } from '../http/cors.js';
import type { HttpResponse, ResponsePatch } from '../http/types.js';

/**
 * Headers Node keeps only the first of when repeated. For these the raw headers are checked, so
 * two `Authorization` headers read as `a, b` (malformed) rather than silently as the first one.
 */
const FIRST_ONLY: ReadonlySet<string> = new Set([
  'authorization',
  'content-type',
  'content-length',
  'user-agent',
]);

/** A header of Node's parsed headers (lower-case name); a repeated first-only header reads as `a, b`. */
export function readNodeHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.join(', ');
  if (FIRST_ONLY.has(name)) {
    const raw = req.rawHeaders;
    let count = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i]!;
      if (key.length === name.length && key.toLowerCase() === name) count++;
    }
    if (count > 1) {
      const values: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const key = raw[i]!;
        if (key.length === name.length && key.toLowerCase() === name) values.push(raw[i + 1]!);
      }
      return values.join(', ');
    }
  }
  return value;
}

function appendCookies(res: ServerResponse, cookies: readonly string[]): void {
  if (cookies.length === 0) return;
  const existing = res.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...list, ...cookies]);
}

/** Adds a patch's headers (merging list headers) and cookies to a response not yet sent. */
export function applyNodePatch(res: ServerResponse, patch: ResponsePatch): void {
  if (patchIsEmpty(patch) || res.headersSent) return; // the usual empty patch first: no getter
  for (const [name, value] of Object.entries(patch.headers)) {
    if (name === 'vary' || name === 'access-control-expose-headers') {
      const existing = res.getHeader(name);
      res.setHeader(name, mergeHeaderList(existing === undefined ? undefined : String(existing), value));
    } else {
      res.setHeader(name, value);
    }
  }
  appendCookies(res, patch.cookies);
}

/** Sends a complete response (JSON body, or none). */
export function sendNodeResponse(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = response.status;
  applyNodePatch(res, response);
  if (response.body === undefined) {
    res.end();
    return;
  }
  const payload = JSON.stringify(response.body);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(payload);
}

/**
 * A Fastify request as an `HttpRequest`, a response or a patch onto a Fastify reply. Apart from the plugin (fastify.ts imports
 * fastify-plugin at run time), so that NestJS on Fastify can use it without that package.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestError } from '../errors.js';
import { patchIsEmpty } from '../http/authorize.js';
import { mergeHeaderList } from '../http/cors.js';
import type { HttpRequest, HttpResponse, RawBody, ResponsePatch } from '../http/types.js';
import { readNodeHeader } from './node.js';

export const BODY = Symbol('jwt-sessions.body');

export interface DeferredBody {
  [BODY]: true;
  result: RawBody | RequestError;
}

function isDeferredBody(value: unknown): value is DeferredBody {
  return typeof value === 'object' && value !== null && BODY in value;
}

/** A Fastify request as an `HttpRequest`: a class, so nothing per request is a closure. */
class FastifyHttpRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly #request: FastifyRequest;

  constructor(request: FastifyRequest) {
    this.#request = request;
    this.method = request.method;
    this.url = request.url;
  }

  header(name: string): string | undefined {
    return readNodeHeader(this.#request.raw, name);
  }

  // Lazy: only login/refresh record it, and Fastify's getter may run its proxy logic.
  get ip(): string {
    return this.#request.ip;
  }

  async readBody(): Promise<RawBody> {
    const body: unknown = this.#request.body;
    if (body === undefined || body === null) return null;
    if (isDeferredBody(body)) {
      if (body.result instanceof RequestError) throw body.result;
      return body.result;
    }
    return { parsed: body };
  }
}

/** A Fastify request as an `HttpRequest`. */
export function fastifyHttpRequest(request: FastifyRequest): HttpRequest {
  return new FastifyHttpRequest(request);
}

/** Adds a patch's headers (merging list headers) and cookies to a reply. */
export function applyFastifyPatch(reply: FastifyReply, patch: ResponsePatch): void {
  if (patchIsEmpty(patch)) return;
  for (const [name, value] of Object.entries(patch.headers)) {
    if (name === 'vary' || name === 'access-control-expose-headers') {
      const existing = reply.getHeader(name);
      reply.header(name, mergeHeaderList(existing === undefined ? undefined : String(existing), value));
    } else {
      reply.header(name, value);
    }
  }
  // Fastify appends every `set-cookie` value instead of replacing the previous one.
  for (const cookie of patch.cookies) reply.header('set-cookie', cookie);
}

export function sendFastifyResponse(reply: FastifyReply, response: HttpResponse): FastifyReply {
  reply.code(response.status);
  applyFastifyPatch(reply, response);
  if (response.body === undefined) return reply.send();
  reply.type('application/json; charset=utf-8');
  return reply.send(JSON.stringify(response.body));
}

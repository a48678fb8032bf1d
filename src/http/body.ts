/**
 * JSON bodies for the routes: `application/json` (or `+json`) only — the simple content types a
 * cross-site form can send (`text/plain`, form-encoded, multipart) get 415, which keeps login and
 * refresh out of reach of login-CSRF; a 16 KiB cap (413), checked on `Content-Length` before
 * reading and again while reading; strict UTF-8 and JSON (400 `invalid_json`); an object only.
 */
import { RequestError } from '../errors.js';
import { parseJsonObjectText } from '../tokens/json.js';
import type { HttpRequest, RawBody } from './types.js';

/** True for `application/json`, `application/*+json`, with no charset or a UTF-8 one. */
export function isJsonContentType(value: string): boolean {
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash === -1) return false;
  const top = type.slice(0, slash);
  const sub = type.slice(slash + 1);
  if (top !== 'application' || !(sub === 'json' || (sub.endsWith('+json') && sub.length > 5))) return false;
  if (semi === -1) return true;
  for (const param of value.slice(semi + 1).split(';')) {
    const eq = param.indexOf('=');
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return false;
  }
  return true;
}

function tooLarge(limit: number): RequestError {
  return new RequestError('payload_too_large', `request body exceeds ${limit} bytes`);
}

/** Refuses a declared `Content-Length` over the limit before a byte is read. */
export function checkContentLength(request: HttpRequest, limit: number): void {
  const declared = request.header('content-length');
  if (declared === undefined) return;
  const trimmed = declared.trim();
  if (!/^\d{1,16}$/.test(trimmed)) throw new RequestError('bad_request', 'invalid Content-Length');
  if (Number(trimmed) > limit) throw tooLarge(limit);
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new RequestError('invalid_json', 'request body is not valid UTF-8');
  }
  // Strict on the happy path: a repeated member name ({"password":"a","password":"b"}) would let two
  // readers of one body disagree, so it is refused like any other malformed body.
  const strict = parseJsonObjectText(text);
  if (strict !== undefined) return strict;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError('invalid_json', 'request body is not valid JSON');
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    throw new RequestError('invalid_json', 'request body repeats a member name or nests too deeply');
  }
  return value;
}

/**
 * Reads a route's JSON body. Resolves `{}` for a request without a body (the routes whose fields
 * are all optional accept that); an object otherwise.
 */
export async function readJsonBody(request: HttpRequest, limit: number): Promise<Record<string, unknown>> {
  const contentType = request.header('content-type');
  if (contentType !== undefined && contentType.trim() !== '' && !isJsonContentType(contentType)) {
    throw new RequestError('unsupported_media_type', 'content type must be application/json');
  }
  checkContentLength(request, limit);
  const raw: RawBody = request.readBody === undefined ? null : await request.readBody(limit);
  let value: unknown;
  if (raw === null) return {};
  if ('parsed' in raw) {
    value = raw.parsed;
    if (value === undefined) return {};
  } else {
    if (raw.bytes.length === 0) return {};
    if (raw.bytes.length > limit) throw tooLarge(limit);
    if (contentType === undefined || contentType.trim() === '') {
      throw new RequestError('unsupported_media_type', 'content type must be application/json');
    }
    value = parseJson(raw.bytes);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError('bad_request', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Node streams (IncomingMessage, Fastify's payload): reads at most `limit` bytes. */
export function readNodeStream(stream: NodeJS.ReadableStream, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const cleanup = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.removeListener('close', onClose);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // Stop buffering; the rest is discarded when the response ends the exchange.
      stream.pause();
      reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limit) {
        fail(tooLarge(limit));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (): void => fail(new RequestError('bad_request', 'request body could not be read'));
    const onClose = (): void => fail(new RequestError('bad_request', 'request body was interrupted'));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
    stream.resume();
  });
}

/** Web streams (Fetch `Request.body`): reads at most `limit` bytes. */
export async function readWebStream(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | null> {
  if (body === null) return null;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw new RequestError('bad_request', 'request body could not be read');
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

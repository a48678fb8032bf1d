/**
 * Shared pieces of the security suite: the engine keys, a store snapshot (to prove "no change"),
 * a raw HTTP/1.1 client (to send bytes fetch refuses to send: latin-1 header values, duplicate
 * Cookie headers, invalid UTF-8 bodies), an unhandled-rejection watch and small timing helpers.
 */
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import net from 'node:net';
import { expect } from 'vitest';
import { type ErrorCode, JwtSessionsError } from '../../src/errors.js';
import type { Store } from '../../src/stores/store.js';
import { type GeneratedKey, generateKey } from '../../src/tokens/index.js';

/** Every code a refused token may carry: unreadable, badly signed, wrong claims, or no token at all. */
export const TOKEN_REFUSED_CODES: readonly ErrorCode[] = [
  'token_malformed',
  'token_too_large',
  'signature_invalid',
  'alg_not_allowed',
  'kid_unknown',
  'token_type_mismatch',
  'claim_invalid',
  'token_expired',
  'token_not_yet_valid',
  'token_missing',
];

/** Every code the library may put in an error body. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'configuration_invalid',
  'payload_invalid',
  ...TOKEN_REFUSED_CODES,
  'session_not_found',
  'session_expired',
  'access_revoked',
  'refresh_reused',
  'refresh_by_access_not_allowed',
  'refresh_refused',
  'invalid_credentials',
  'dpop_proof_missing',
  'dpop_proof_invalid',
  'dpop_replayed',
  'dpop_key_mismatch',
  'dpop_nonce_required',
  'dpop_bound_token',
  'csrf_invalid',
  'origin_refused',
  'bad_request',
  'invalid_json',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  'store_unavailable',
];

/** Generous bound on one refused input: catches hangs and super-linear parsing, not speed. */
export const BOUND_MS = 2000;

let es256: GeneratedKey | undefined;
/** The ES256 key the security engines sign with (generated once per test file). */
export function engineKey(): GeneratedKey {
  es256 ??= generateKey('ES256');
  return es256;
}

/**
 * Everything a store holds for the given namespaces (ids, versions, flags, data, deadlines): equal
 * snapshots before and after an input prove it changed nothing. `size` adds a global count when the
 * store can tell it (MemoryStore).
 */
export async function snapshot(
  store: Store,
  namespaces: readonly string[],
  size?: () => number,
): Promise<string> {
  const now = Date.now();
  const parts: unknown[] = [];
  for (const ns of namespaces) parts.push(await store.listNamespace(ns, now));
  if (size !== undefined) parts.push(size());
  return JSON.stringify(parts);
}

/** Awaits a promise expected to reject; returns the reason and the elapsed time. */
export async function rejection(
  operation: () => Promise<unknown>,
  label = 'input',
): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  let error: unknown;
  let resolved = false;
  try {
    await operation();
    resolved = true;
  } catch (caught) {
    error = caught;
  }
  const ms = performance.now() - started;
  if (resolved) throw new Error(`${label}: accepted`);
  return { error, ms };
}

/** Asserts a typed library error that is the client's fault (4xx), optionally with one of `codes`. */
export function expectTyped(error: unknown, codes?: readonly ErrorCode[], label = ''): JwtSessionsError {
  expect(error, `${label}: untyped error ${String(error)}`).toBeInstanceOf(JwtSessionsError);
  const typed = error as JwtSessionsError;
  expect(typed.status, `${label}: ${typed.code}`).toBeGreaterThanOrEqual(400);
  expect(typed.status, `${label}: ${typed.code}`).toBeLessThan(500);
  if (codes !== undefined) expect(codes, `${label}: got ${typed.code}`).toContain(typed.code);
  return typed;
}

/** Collects unhandled promise rejections while a suite runs; `stop()` returns them. */
export function watchUnhandledRejections(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  return {
    stop() {
      process.off('unhandledRejection', listener);
      return seen;
    },
  };
}

export interface RawReply {
  status: number;
  headers: Map<string, string[]>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field.
  body: any;
  ms: number;
}

function decodeChunked(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/**
 * One HTTP/1.1 request on a fresh connection, written byte for byte: header values go out as
 * latin-1, a header may repeat (pass an array), the body is sent verbatim. Resolves the parsed reply.
 */
export async function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: [string, string][] = [],
  body?: string | Uint8Array,
): Promise<RawReply> {
  const { hostname, port } = new URL(baseUrl);
  const payload =
    body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close'];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (payload !== undefined) lines.push(`content-length: ${payload.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const started = performance.now();
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(payload === undefined ? head : Buffer.concat([head, payload]));
  await once(socket, 'close');
  const ms = performance.now() - started;
  const data = Buffer.concat(chunks);
  const split = data.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`no HTTP response (${data.length} bytes)`);
  const [statusLine, ...headerLines] = data.subarray(0, split).toString('latin1').split('\r\n');
  const replyHeaders = new Map<string, string[]>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    replyHeaders.set(name, [...(replyHeaders.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let rest: Buffer = data.subarray(split + 4);
  if (replyHeaders.get('transfer-encoding')?.[0]?.toLowerCase() === 'chunked') rest = decodeChunked(rest);
  const text = rest.toString('utf8');
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: Number(statusLine!.split(' ')[1]), headers: replyHeaders, text, body: parsed, ms };
}

/** The HTTP contract for a refused input: 4xx, JSON `{error, code}` with a known code, no stack. */
export function expectRefusedReply(reply: RawReply, label: string, codes?: readonly string[]): void {
  expect(reply.status, `${label}: ${reply.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(reply.status, `${label}: ${reply.text.slice(0, 300)}`).toBeLessThan(500);
  expect(reply.headers.get('content-type')?.[0], label).toMatch(/^application\/json/);
  expect(Object.keys(reply.body ?? {}).sort(), `${label}: ${reply.text.slice(0, 300)}`).toEqual([
    'code',
    'error',
  ]);
  expect(typeof reply.body.error, label).toBe('string');
  expect(ERROR_CODES, `${label}: code ${reply.body.code}`).toContain(reply.body.code);
  if (codes !== undefined) expect(codes, `${label}: got ${reply.body.code}`).toContain(reply.body.code);
  expect(reply.text, label).not.toMatch(/\bat .*\(|node_modules|\.ts:\d|\.js:\d|Error:/);
  expect(reply.ms, `${label}: took ${reply.ms} ms`).toBeLessThan(BOUND_MS);
}

/** A request Node's HTTP parser refused before the application saw it: 400, no stack, at once. */
export function expectParserRefusal(reply: RawReply, label: string): void {
  expect(reply.status, label).toBe(400);
  expect(reply.text, label).not.toMatch(/\bat .*\(|node_modules|\.ts:\d|\.js:\d/);
  expect(reply.ms, label).toBeLessThan(BOUND_MS);
}

/** True when `value` holds a control character other than tab: not a valid HTTP field value. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until true or `timeoutMs` passes (then throws). */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  label: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${label}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

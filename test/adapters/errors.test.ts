/**
 * Errors every adapter must answer in the contract's shape (SPEC §5 last paragraph, SECURITY.md
 * "HTTP" last rule): validation messages that name the field and the limit, and the framework's own
 * refusals (malformed URL, over-long path parameter, oversized headers, body parser), each as
 * `{error, code}` with `Cache-Control: no-store`, never echoing the request.
 */

import express from 'express';
import express4 from 'express4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpressOn, startFastify, startHono } from './apps.js';
import { createFixture, type RunningApp, type StartApp } from './harness.js';

const ADAPTERS: [string, StartApp][] = [
  ['express 5', startExpressOn(express)],
  ['express 4', startExpressOn(express4)],
  ['fastify', startFastify],
  ['hono', startHono],
];

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

async function send(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { ...init, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** The contract's error shape: the status, exactly `{error, code}`, no-store, nothing echoed. */
function expectContractError(reply: Reply, status: number, code: string, notEchoed?: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body, reply.text).toEqual({ error: expect.any(String), code });
  expect(reply.headers.get('cache-control')).toBe('no-store');
  if (notEchoed !== undefined) expect(reply.text).not.toContain(notEchoed);
}

const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };

for (const [adapter, start] of ADAPTERS) {
  describe(`${adapter}: errors`, () => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await start(createFixture());
    });
    afterAll(async () => {
      await app?.close();
    });

    it('login validation names the field and the limit', async () => {
      const cases: [unknown, RegExp][] = [
        [{ login: DEMO.login }, /^password is required$/],
        [{ password: DEMO.password }, /^login is required$/],
        [{ login: 1, password: DEMO.password }, /^login must be a string$/],
        [{ login: DEMO.login, password: ['x'] }, /^password must be a string$/],
        [{ login: '', password: DEMO.password }, /^login must not be empty$/],
        [{ login: 'a'.repeat(1025), password: DEMO.password }, /^login must be at most 1024 characters/],
        [{ login: DEMO.login, password: 'p'.repeat(8192) }, /^password must be at most 4096 characters/],
      ];
      for (const [json, message] of cases) {
        const reply = await send(`${app.url}/auth/login`, { method: 'POST', json });
        expectContractError(reply, 400, 'bad_request');
        expect((reply.body as { error: string }).error).toMatch(message);
      }
      // At the limits the login is only a wrong one.
      const atLimit = await send(`${app.url}/auth/login`, {
        method: 'POST',
        json: { login: 'a'.repeat(1024), password: 'p'.repeat(4096) },
      });
      expectContractError(atLimit, 401, 'invalid_credentials');
    });

    it('refresh validation names the field and the limit', async () => {
      const tooLong = await send(`${app.url}/auth/refresh`, {
        method: 'POST',
        json: { refresh_token: 'a'.repeat(8193) },
      });
      expectContractError(tooLong, 401, 'token_too_large');
      expect((tooLong.body as { error: string }).error).toBe('refresh_token is longer than 8192 bytes');
      const header = await send(`${app.url}/auth/refresh`, {
        method: 'POST',
        headers: { 'x-refresh-token': 'a'.repeat(9000) },
      });
      expectContractError(header, 401, 'token_too_large');
      expect((header.body as { error: string }).error).toMatch(
        /^x-refresh-token header is longer than \d+ bytes$/,
      );
    });
  });
}

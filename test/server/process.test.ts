/**
 * The server as an operator runs it: `node src/server/main.ts` in a child process, configured by the
 * environment. The log (pino JSON lines on stdout): a start line with URL and store, one line per
 * request (never the query string). SIGTERM: in-flight requests finish, the store is closed, exit 0.
 * Bad configuration: one line on stderr, exit 1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { call, DEMO, loginHeader } from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/server/main.ts');

interface LogLine {
  level: number;
  msg: string;
  method?: string;
  path?: string;
  status?: number;
}

interface Child {
  process: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves the first log line matching, waiting for it. */
  waitFor(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: LogLine[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) if (part.trim() !== '') lines.push(JSON.parse(part) as LogLine);
    for (const wake of waiters.splice(0)) wake();
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return {
    process: child,
    lines,
    stderr: () => stderr,
    exited,
    async waitFor(match, what) {
      for (;;) {
        const found = lines.find(match);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${what}: ${stderr}`);
        await Promise.race([new Promise<void>((wake) => waiters.push(wake)), exited]);
      }
    },
  };
}

async function startServerProcess(env: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = startChild({ PORT: '0', ...env });
  const start = await child.waitFor((line) => /reference server on /.test(line.msg), 'the start line');
  return { child, url: /on (http:\/\/\S+)/.exec(start.msg)![1]! };
}

const requestLines = (child: Child) => child.lines.filter((line) => line.method !== undefined);

describe('the server process', () => {
  it('logs a start line with the URL and the store, and a warning for the random secret', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jwt-sessions-proc-')), 'sessions.db');
    const { child, url } = await startServerProcess({ STORE_URL: `sqlite:${file}` });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const start = child.lines.find((line) => line.msg.includes('reference server on'))!;
    expect(start.msg).toContain(`store sqlite:${file}`);
    expect(start.msg).toContain('alg HS256');
    expect(child.lines.some((line) => line.level === 40 && line.msg.includes('JWT_SECRET is not set'))).toBe(
      true,
    );
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });

  it('one log line per request, with method, path and status, never the query string', async () => {
    const { child, url } = await startServerProcess({ JWT_SECRET: 'p'.repeat(40) });
    const session = await loginHeader({ url } as Parameters<typeof loginHeader>[0]);
    await call(url, 'GET', '/api/me', { token: session.access_token });
    await call(url, 'GET', `/api/me?access_token=${session.access_token}`);
    await call(url, 'GET', '/nope');
    await child.waitFor((line) => line.path === '/nope', 'the last request line');
    expect(requestLines(child).map((line) => `${line.method} ${line.path} ${line.status}`)).toEqual([
      'POST /auth/login 200',
      'GET /api/me 200',
      'GET /api/me 401',
      'GET /nope 404',
    ]);
    const log = child.lines.map((line) => JSON.stringify(line)).join('\n');
    expect(log).not.toContain(session.access_token);
    expect(log).not.toContain(session.access_token.split('.')[2]);
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });

  it('SIGTERM: the in-flight request finishes, new connections are refused, the store closes, exit 0', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jwt-sessions-proc-')), 'sessions.db');
    const { child, url } = await startServerProcess({ STORE_URL: `sqlite:${file}` });
    expect(existsSync(`${file}-wal`)).toBe(true);

    // A login whose body is only half sent when the signal arrives.
    const body = JSON.stringify(DEMO);
    const inflight = new Promise<{ status: number; text: string; connection?: string }>((done, fail) => {
      const req = request(
        `${url}/auth/login`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => done({ status: res.statusCode!, text, connection: res.headers.connection }));
        },
      );
      req.on('error', fail);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        child.process.kill('SIGTERM');
        child
          .waitFor((line) => line.msg.startsWith('SIGTERM'), 'the shutdown line')
          .then(async () => {
            await expect(fetch(`${url}/nope`)).rejects.toThrow();
            req.end(body.slice(10));
          }, fail);
      }, 200);
    });
    const answer = await inflight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toHaveProperty('access_token');
    // So that a keep-alive client does not hold the shutdown until its own idle timeout.
    expect(answer.connection).toBe('close');
    expect(await child.exited).toBe(0);

    const messages = child.lines.map((line) => line.msg);
    const order = [
      'SIGTERM: shutting down',
      'POST /auth/login 200',
      `store sqlite:${file} closed`,
      'stopped',
    ];
    const positions = order.map((text) => messages.findIndex((msg) => msg.startsWith(text)));
    expect(
      positions.every((p) => p >= 0),
      JSON.stringify(messages),
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // SQLite removes the write-ahead log only when the last connection closes cleanly.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('a bad variable: one line on stderr naming it, exit 1, nothing listening', async () => {
    for (const [env, text] of [
      [{ PORT: 'abc' }, 'PORT must be a whole number'],
      [{ JWT_ALG: 'none' }, 'JWT_ALG must be one of'],
      [{ STORE_URL: 'ftp://x' }, 'STORE_URL'],
      [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    ] as const) {
      const child = startChild(env);
      expect(await child.exited).toBe(1);
      const stderr = child.stderr().trim();
      expect(stderr).toContain(text);
      expect(stderr.split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^jwt-sessions server: /);
    }
  });

  it('an unreachable store or a taken port: a clear line and exit 1, within the connect timeout', async () => {
    const unreachable = startChild({ PORT: '0', STORE_URL: 'redis://127.0.0.1:1' });
    expect(await unreachable.exited).toBe(1);
    expect(unreachable.stderr()).toContain('cannot use the store redis://127.0.0.1:1');

    const { child, url } = await startServerProcess({});
    const port = new URL(url).port;
    const second = startChild({ PORT: port });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });
});

/**
 * The quickstarts in examples/ run exactly as a user would run them: `node --import tsx` on the
 * file, with `jwt-sessions` and `jwt-sessions/<adapter>` resolved by examples/tsconfig.json's
 * `paths` to src/ (a user's project resolves the same names from node_modules; inside this repo,
 * without that tsconfig, they resolve to dist/ through the package's own exports map). Each one is
 * driven over real HTTP: login → protected call → refresh → logout, in both transports. And
 * docs/quickstart.md and README.md must show each file verbatim, so the docs cannot drift from tested code.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = ['express', 'fastify', 'hono', 'koa'] as const;
const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
/** Starting tsx and compiling on a loaded 2-core machine: generous. */
const START_TIMEOUT_MS = 45_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function startExample(name: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), TSX_TSCONFIG_PATH: 'examples/tsconfig.json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${name} example did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Listening on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${port}`, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} example exited with ${code}:\n${output}`));
    });
  });
}

function setCookieValue(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no ${name} cookie`);
  return line.slice(name.length + 1, line.indexOf(';'));
}

describe.each(EXAMPLES)('examples/%s.ts', (name) => {
  let app: Started;

  beforeAll(async () => {
    app = await startExample(name, await freePort());
  }, START_TIMEOUT_MS + 5_000);
  afterAll(() => {
    app?.child.kill();
  });

  const post = (path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });

  it('header transport: login → protected call → refresh → logout', async () => {
    const wrong = await post('/auth/login', {}, { ...DEMO, password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'invalid_credentials' });

    const login = await post('/auth/login', {}, DEMO);
    expect(login.status).toBe(200);
    const tokens = await login.json();
    const me = await get('/api/me', { authorization: `Bearer ${tokens.access_token}` });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user_id: 'u_demo', session_id: tokens.session_id });
    expect((await get('/api/me')).status).toBe(401);

    const refresh = await post('/auth/refresh', { 'x-refresh-token': tokens.refresh_token });
    expect(refresh.status).toBe(200);
    const rotated = await refresh.json();
    expect(rotated.session_id).toBe(tokens.session_id);
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect((await get('/api/me', { authorization: `Bearer ${tokens.access_token}` })).status).toBe(401);
    const authorization = `Bearer ${rotated.access_token}`;
    expect((await get('/api/me', { authorization })).status).toBe(200);

    const list = await get('/auth/sessions', { authorization });
    expect((await list.json()).sessions).toContainEqual(
      expect.objectContaining({ id: tokens.session_id, current: true }),
    );

    const logout = await post('/auth/logout', { authorization });
    expect(await logout.json()).toEqual({ revoked: 1 });
    expect((await get('/api/me', { authorization })).status).toBe(401);
    expect((await post('/auth/refresh', { 'x-refresh-token': rotated.refresh_token })).status).toBe(401);
  });

  it('cookie transport: login → protected call → refresh with CSRF → logout clears the cookies', async () => {
    const login = await post('/auth/login', {}, { ...DEMO, transport: 'cookie' });
    expect(login.status).toBe(200);
    const { csrf } = await login.json();
    const cookie = `jwt_access=${setCookieValue(login, 'jwt_access')}; jwt_refresh=${setCookieValue(login, 'jwt_refresh')}`;
    expect((await get('/api/me', { cookie })).status).toBe(200);

    expect((await post('/auth/refresh', { cookie })).status).toBe(403);
    const refresh = await post('/auth/refresh', { cookie, 'x-csrf-token': csrf });
    expect(refresh.status).toBe(200);
    const next = await refresh.json();
    const rotatedCookie = `jwt_access=${setCookieValue(refresh, 'jwt_access')}; jwt_refresh=${setCookieValue(refresh, 'jwt_refresh')}`;
    expect((await get('/api/me', { cookie: rotatedCookie })).status).toBe(200);

    const logout = await post('/auth/logout', { cookie: rotatedCookie, 'x-csrf-token': next.csrf });
    expect(await logout.json()).toEqual({ revoked: 1 });
    expect(logout.headers.getSetCookie().every((c) => /^jwt_(access|refresh)=; .*Max-Age=0/.test(c))).toBe(
      true,
    );
    expect((await get('/api/me', { cookie: rotatedCookie })).status).toBe(401);
  });

  it('logs nothing unexpected while serving', () => {
    expect(app.output().trim()).toBe(`Listening on ${app.url}`);
  });
});

describe.each(['docs/quickstart.md', 'README.md'])('%s', (path) => {
  const doc = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  it.each(EXAMPLES)('shows examples/%s.ts verbatim', (name) => {
    const source = readFileSync(new URL(`../../examples/${name}.ts`, import.meta.url), 'utf8');
    expect(doc).toContain(`\`\`\`ts\n${source}\`\`\``);
  });
});

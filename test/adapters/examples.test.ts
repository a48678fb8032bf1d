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
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieTransportFlow, freePort, headerTransportFlow } from './quickstart-flow.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = ['express', 'fastify', 'hono', 'koa'] as const;
/** Starting tsx and compiling on a loaded 2-core machine: generous. */
const START_TIMEOUT_MS = 45_000;

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

describe.each(EXAMPLES)('examples/%s.ts', (name) => {
  let app: Started;

  beforeAll(async () => {
    app = await startExample(name, await freePort());
  }, START_TIMEOUT_MS + 5_000);
  afterAll(() => {
    app?.child.kill();
  });

  it('header transport: login → protected call → refresh → logout', () => headerTransportFlow(app.url));

  it('cookie transport: login → protected call → refresh with CSRF → logout clears the cookies', () =>
    cookieTransportFlow(app.url));

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

describe('README.md shows the multi-file quickstarts verbatim', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it.each([
    ['next/lib/auth.ts', 'ts'],
    ['next/app/auth/[...route]/route.ts', 'ts'],
    ['next/app/api/me/route.ts', 'ts'],
    ['next/proxy.ts', 'ts'],
    ['nestjs/src/auth.ts', 'ts'],
    ['nestjs/src/app.module.ts', 'ts'],
    ['nestjs/src/main.ts', 'ts'],
    ['nestjs/tsconfig.json', 'json'],
  ])('examples/%s', (path, lang) => {
    const source = readFileSync(new URL(`../../examples/${path}`, import.meta.url), 'utf8');
    expect(readme).toContain(`\`${path}\`:\n\n\`\`\`${lang}\n${source}\`\`\``);
  });
});

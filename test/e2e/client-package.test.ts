/**
 * `jwt-sessions/client` as an application gets it: the package packed by npm (its package.json,
 * `exports` and compiled output; compiled here into a temp directory so that the repository's
 * dist/ is never touched by a test), installed into an app's node_modules, imported by subpath,
 * bundled by esbuild for the browser (size budgets: core <= 4.5 KB (4 KB before DPoP: its
 * proofs, key store and nonce handling cost about 1 KB), axios add-on <= 1 KB, minified
 * + gzip), type-checked with `moduleResolution: bundler`, and run in Chromium against the
 * reference server.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { describeWithService, serviceAvailable } from '../support/services.js';
import { CountingProxy } from './proxy.js';
import { CHROMIUM, DEMO, launchBrowser } from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

const chromiumAvailable = await serviceAvailable('Chromium (browser tests)', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);
});

let app: string;

/** Packs the package (compiled into a temp copy) and installs it into a fresh app directory. */
beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), 'jwt-sessions-pack-'));
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(ROOT, 'README.md'), join(pkg, 'README.md'));
  await run(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      join(pkg, 'dist'),
    ],
    { cwd: ROOT },
  );
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: pkg });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  app = join(work, 'app');
  const installed = join(app, 'node_modules', 'jwt-sessions');
  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', join(work, tarball), '-C', installed, '--strip-components=1']);
}, 180_000);

async function bundle(source: string, minify: boolean): Promise<Uint8Array> {
  const result = await build({
    stdin: { contents: source, resolveDir: app, loader: 'ts' },
    bundle: true,
    minify,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    external: ['axios'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

it('the packed subpaths bundle for the browser within the size budgets', async () => {
  const core = await bundle("export { createSessionClient } from 'jwt-sessions/client';", true);
  const axios = await bundle("export { attachSessionClient } from 'jwt-sessions/client/axios';", true);
  expect(gzipSync(core, { level: 9 }).length).toBeLessThanOrEqual(4608);
  expect(gzipSync(axios, { level: 9 }).length).toBeLessThanOrEqual(1024);
  // Nothing of Node or of the server side came along.
  const text = new TextDecoder().decode(core);
  expect(text).not.toMatch(/node:|require\(/);
});

it('the packed subpaths are typed (moduleResolution bundler)', async () => {
  writeFileSync(
    join(app, 'main.ts'),
    [
      "import { createSessionClient, type SessionState } from 'jwt-sessions/client';",
      "import { attachSessionClient } from 'jwt-sessions/client/axios';",
      "const client = createSessionClient({ baseUrl: '/auth', transport: 'cookie' });",
      'const state: SessionState = client.state;',
      'export const used = [state, attachSessionClient];',
      '// @ts-expect-error: the transport is checked',
      "createSessionClient({ baseUrl: '/auth', transport: 'bearer' });",
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'esnext',
        moduleResolution: 'bundler',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        skipLibCheck: false,
      },
      files: ['main.ts'],
    }),
  );
  // axios' types come from this repository's node_modules (the app would have axios installed).
  cpSync(realpathSync(join(ROOT, 'node_modules/axios')), join(app, 'node_modules/axios'), {
    recursive: true,
  });
  await expect(
    run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app }),
  ).resolves.toBeDefined();
}, 60_000);

describeWithService(chromiumAvailable)('in Chromium', () => {
  let srv: RunningServer;
  let proxy: CountingProxy;
  afterAll(async () => {
    await proxy?.stop();
    await srv?.close();
  });

  it('a bundle importing jwt-sessions/client signs in and calls the API', async () => {
    const script = new TextDecoder().decode(
      await bundle(
        [
          "import { createSessionClient } from 'jwt-sessions/client';",
          'Object.assign(window, { signIn: async (login: string, password: string) => {',
          "  const client = createSessionClient({ baseUrl: '/auth', transport: 'cookie' });",
          '  await client.ready;',
          '  await client.login({ login, password });',
          "  const response = await client.fetch('/api/me');",
          '  return { status: client.state.status, api: response.status, email: (await response.json()).email };',
          '} });',
        ].join('\n'),
        false,
      ),
    );
    srv = await startServer({ port: 0, logLevel: false, spaDir: import.meta.dirname });
    proxy = new CountingProxy(new URL(srv.url), script);
    await proxy.start();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${proxy.url}/client.html`);
      await page.waitForFunction(() => 'signIn' in window);
      const result = await page.evaluate(
        ([login, password]) =>
          (window as unknown as { signIn(l: string, p: string): Promise<unknown> }).signIn(login!, password!),
        [DEMO.email, DEMO.password],
      );
      expect(result).toEqual({ status: 'signed-in', api: 200, email: DEMO.email });
    } finally {
      await browser.close();
    }
  });
});

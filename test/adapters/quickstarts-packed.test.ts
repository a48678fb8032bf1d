/**
 * The Koa, Next.js and NestJS quickstarts as a user runs them: the package packed (`npm pack`),
 * installed into a fresh project with the framework, the quickstart files copied in, run the way
 * the README says (Koa with tsx; Next.js with `next build` + `next start`; NestJS compiled by tsc as
 * CommonJS and run with node), then driven over real HTTP in both transports.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cookieTransportFlow, freePort, headerTransportFlow } from './quickstart-flow.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);
/** Runs a command; a failure carries its output. */
async function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  try {
    return await execFileAsync(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${stdout}\n${stderr}`);
  }
}
/** Building, packing, installing and `next build` on a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 60_000;

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  exports: Record<string, Record<string, unknown> | string>;
};
/**
 * A CommonJS Nest app `require()`s the package: that needs the `require` export conditions (the
 * CommonJS build). Until the package has them the NestJS case cannot run; say so loudly.
 */
const commonJsReady = ['.', './nestjs'].every(
  (entry) => typeof manifest.exports[entry] === 'object' && 'require' in (manifest.exports[entry] as object),
);
if (!commonJsReady)
  console.warn(
    '*** NestJS CommonJS quickstart SKIPPED: package.json exports have no `require` condition yet ***',
  );
/** The framework versions this repository tests with. */
const pinned = (...names: string[]) => names.map((name) => `${name}@${manifest.devDependencies[name]}`);

let work: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'jwt-sessions-quickstarts-'));
  await run('npm', ['run', 'build'], { cwd: ROOT });
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {
    cwd: ROOT,
  });
  tarball = join(work, stdout.trim().split('\n').at(-1)!);
}, SETUP_TIMEOUT_MS);
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** A fresh project: package.json, then `npm install` of the tarball and `packages`. */
async function freshProject(name: string, type: 'module' | 'commonjs', packages: string[]): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  // A CommonJS project says nothing (as `nest new` and `create-next-app` generate it).
  const manifest = type === 'module' ? { name, private: true, type } : { name, private: true };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...packages], {
    cwd: dir,
  });
  return dir;
}

/** Runs a server command until it prints its address; resolves with its URL. */
function serve(command: string[], cwd: string, port: number, ready: RegExp) {
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command.join(' ')} did not start:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(' ')} exited with ${code}:\n${output}`));
    });
  });
  return { child, started };
}

describe('Koa quickstart from the packed tarball', () => {
  let server: ReturnType<typeof serve> | undefined;
  let url: string;
  beforeAll(async () => {
    const dir = await freshProject('koa-app', 'module', [...pinned('koa', '@koa/router', 'tsx')]);
    cpSync(join(ROOT, 'examples', 'koa.ts'), join(dir, 'koa.ts'));
    const port = await freePort();
    server = serve([join(dir, 'node_modules', '.bin', 'tsx'), 'koa.ts'], dir, port, /Listening on/);
    url = await server.started;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => server?.child.kill());

  it('header transport', () => headerTransportFlow(url));
  it('cookie transport', () => cookieTransportFlow(url));
});

describe('Next.js quickstart from the packed tarball (next build + next start)', () => {
  let server: ReturnType<typeof serve> | undefined;
  let url: string;
  beforeAll(async () => {
    const dir = await freshProject('next-app', 'commonjs', [
      ...pinned('next', 'react', 'react-dom', 'typescript', '@types/node'),
      '@types/react@19.3.3',
    ]);
    cpSync(join(ROOT, 'examples', 'next'), dir, { recursive: true });
    await run(join(dir, 'node_modules', '.bin', 'next'), ['build'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    });
    const port = await freePort();
    server = serve(
      [join(dir, 'node_modules', '.bin', 'next'), 'start', '-p', String(port), '-H', '127.0.0.1'],
      dir,
      port,
      /Ready/,
    );
    url = await server.started;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => server?.child.kill());

  it('header transport', () => headerTransportFlow(url));
  it('cookie transport', () => cookieTransportFlow(url));
});

describe.skipIf(!commonJsReady)(
  'NestJS quickstart from the packed tarball (CommonJS, compiled by tsc)',
  () => {
    let server: ReturnType<typeof serve> | undefined;
    let url: string;
    beforeAll(async () => {
      const dir = await freshProject('nest-app', 'commonjs', [
        ...pinned('@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs'),
        ...pinned('typescript', '@types/node'),
      ]);
      cpSync(join(ROOT, 'examples', 'nestjs'), dir, { recursive: true });
      await run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: dir });
      const port = await freePort();
      server = serve([process.execPath, 'dist/main.js'], dir, port, /Listening on/);
      url = await server.started;
    }, SETUP_TIMEOUT_MS);
    afterAll(() => server?.child.kill());

    it('header transport', () => headerTransportFlow(url));
    it('cookie transport', () => cookieTransportFlow(url));
  },
);

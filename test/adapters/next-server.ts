/**
 * A real Next.js server for the adapter tests: the fixture app (test/fixtures/next-app) built once
 * with `next build` — cached in its `.next/` keyed by a hash of the fixture and the Next version,
 * with a lock so parallel test files build it once — then served by Next's own production server
 * (`next({ dev: false })`) on a Node HTTP server in the test process, so its route files can reach
 * the handlers the test registers (see app/fixture.js).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listen } from './apps.js';
import { MAX_HEADER_SIZE, type RunningApp } from './harness.js';

export const NEXT_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/next-app/', import.meta.url));
const require = createRequire(import.meta.url);
const NEXT_BIN = require.resolve('next/dist/bin/next');
const HASH_FILE = join(NEXT_FIXTURE_DIR, '.next', 'FIXTURE_HASH');
const LOCK_DIR = join(NEXT_FIXTURE_DIR, '.next-lock');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 10 * 60_000;
/** `next build` on a loaded 2-core machine. */
export const NEXT_BUILD_TIMEOUT_MS = 10 * 60_000;

function fixtureHash(): string {
  const hash = createHash('sha256');
  hash.update((require('next/package.json') as { version: string }).version);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.next') || name === 'next-env.d.ts') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(`${path.slice(NEXT_FIXTURE_DIR.length)}\0`).update(readFileSync(path));
    }
  };
  walk(NEXT_FIXTURE_DIR);
  return hash.digest('hex');
}

function currentBuild(): string | null {
  try {
    return readFileSync(HASH_FILE, 'utf8');
  } catch {
    return null;
  }
}

function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NEXT_BIN, 'build', NEXT_FIXTURE_DIR], {
      cwd: NEXT_FIXTURE_DIR,
      env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`next build exited with ${code}:\n${output}`)),
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Builds the fixture unless the cached build matches it. */
export async function ensureNextBuild(): Promise<void> {
  const wanted = fixtureHash();
  const deadline = Date.now() + NEXT_BUILD_TIMEOUT_MS;
  while (currentBuild() !== wanted) {
    try {
      mkdirSync(LOCK_DIR);
    } catch {
      // Another test file is building: wait for it (or take over a stale lock).
      if (Date.now() - statSync(LOCK_DIR, { throwIfNoEntry: false })!.mtimeMs > STALE_LOCK_MS)
        rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for the Next.js fixture build');
      await sleep(500);
      continue;
    }
    try {
      if (currentBuild() !== wanted) {
        await runBuild();
        writeFileSync(HASH_FILE, wanted);
      }
    } finally {
      rmSync(LOCK_DIR, { recursive: true, force: true });
    }
  }
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
interface NextServer {
  prepare(): Promise<void>;
  getRequestHandler(): RequestHandler;
  close(): Promise<void>;
}

/** Starts Next's production server for the built fixture on 127.0.0.1, port 0. */
export async function startNextServer(): Promise<RunningApp> {
  const createNext = require('next') as (options: Record<string, unknown>) => NextServer;
  const app = createNext({ dev: false, dir: NEXT_FIXTURE_DIR, quiet: true, hostname: '127.0.0.1' });
  await app.prepare();
  const handle = app.getRequestHandler();
  // Node keeps only the first of two Authorization headers unless told to join them; Next builds its
  // Request from Node's parsed headers. A custom server can join them (see the README's Next.js
  // section: with plain `next start`, the first one wins).
  const server = createServer({ maxHeaderSize: MAX_HEADER_SIZE, joinDuplicateHeaders: true }, (req, res) =>
    handle(req, res),
  );
  const running = await listen(server);
  return {
    url: running.url,
    async close() {
      await running.close();
      await app.close();
    },
  };
}

/**
 * The package as a consumer gets it. `npm pack` (its `prepack` builds) makes the tarball once; it
 * is installed by npm into fresh projects outside this repository, next to only what a user would
 * install themselves (linked from this repository's node_modules, so no registry is needed):
 *
 * - an ESM project gets the packages the quickstarts import, and nothing else (the install lines of
 *   docs/quickstart.md name exactly those: test/package/docs.test.ts), so a missing runtime
 *   dependency crashes here as it would for a user. Each quickstart of examples/ runs with tsx as
 *   the docs say and is driven over HTTP; `tsc` (strict, `module: NodeNext`) type-checks them.
 * - a CommonJS project gets every optional peer: `.cjs` and `.mjs` files `require()` and `import()`
 *   every subpath of the `exports` map (same export names); `tsc` type-checks every subpath from a
 *   CommonJS and from an ESM file under NodeNext, and under `bundler` resolution, against the right
 *   declarations; a typed CommonJS app (tsc, then tsx) serves a protected Express route from a
 *   SQLite store; one process loads both builds and shares their error classes; the bin runs.
 *
 * Subpaths come from package.json's `exports`, examples from examples/: new ones are covered as
 * they are added.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, importedPackages, manifest, ROOT, readExample, typesOf } from './support.js';

const SUBPATHS = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json');
const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
/** Packing builds (three tsc runs), each type check is a tsc run: generous, for a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 400_000;
const STEP_TIMEOUT_MS = 300_000;

const specifierOf = (subpath: string) =>
  subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`;

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    return await promisify(execFile)(command, args, {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

const node = (args: string[], cwd: string, env?: NodeJS.ProcessEnv) => run(process.execPath, args, cwd, env);

/** A consumer project: the tarball installed by npm, then `links` from this repository's node_modules. */
async function consumer(dir: string, type: 'module' | 'commonjs', tarball: string, links: string[]) {
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  for (const name of links) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
}

/** Strict consumer settings; `skipLibCheck` off so the shipped declarations are checked too. */
const CONSUMER_OPTIONS = {
  strict: true,
  target: 'ES2022',
  noEmit: true,
  skipLibCheck: false,
  types: ['node'],
  // The consumers link their frameworks from this repository's node_modules, where express 5's
  // content-disposition@2 is hoisted: its own types would shadow the @types package that
  // @types/koa is written against. A user's Koa project has Koa's own copy; point tsc at the same.
  paths: { 'content-disposition': [join(ROOT, 'node_modules/@types/content-disposition')] },
};

/** One namespace import of every subpath, so `tsc` resolves each one's types. */
const importEverySubpath = () =>
  SUBPATHS.map((subpath, i) => `import * as subpath${i} from '${specifierOf(subpath)}';\n`).join('') +
  `export const subpaths = [${SUBPATHS.map((_, i) => `subpath${i}`).join(', ')}];\n`;

/** Each subpath's export names, loaded by `import()` (ESM) or `require()` (CommonJS). */
const listExports = (load: 'import' | 'require') => `
const names = {};
for (const specifier of ${JSON.stringify(SUBPATHS.map(specifierOf))}) {
  names[specifier] = Object.keys(${load === 'import' ? 'await import(specifier)' : 'require(specifier)'}).filter((name) => name !== 'default' && name !== '__esModule').sort();
}
console.log(JSON.stringify(names));
`;

/** A typed CommonJS app: a protected Express route on a SQLite store, checked from inside. */
const COMMONJS_APP = `import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSessions, isJwtSessionsError, TokenFormatError } from 'jwt-sessions';
import { expressSessions } from 'jwt-sessions/express';
import { SqliteStore } from 'jwt-sessions/stores/sqlite';

async function main(): Promise<void> {
  const store = new SqliteStore({ filename: process.argv[2]! });
  await store.migrate();
  const sessions = createSessions({ keys: { signing: { alg: 'HS256', key: 'k'.repeat(43) } }, store });
  const auth = expressSessions(sessions);
  const app = express();
  app.get('/me', auth.requireAccess(), (req, res) => {
    res.json({ user_id: req.jwtSession!.claims.user_id, session_id: req.jwtSession!.sessionId });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}/me\`;
  const pair = await sessions.login({ payload: { user_id: 'u_cjs' }, namespace: 'u_cjs' });
  const me = await fetch(url, { headers: { authorization: \`Bearer \${pair.access}\` } });
  const refused = await fetch(url, { headers: { authorization: 'Bearer not-a-token' } });
  const rejection: unknown = await sessions.verifyAccess('not-a-token').catch((error: unknown) => error);
  console.log(
    JSON.stringify({
      resolved: require.resolve('jwt-sessions'),
      sessionId: pair.sessionId,
      me: { status: me.status, body: await me.json() },
      refused: { status: refused.status, body: await refused.json() },
      typedError: rejection instanceof TokenFormatError && isJwtSessionsError(rejection),
    }),
  );
  server.close();
  await store.close();
}

void main();
`;

/** Both builds in one process: the ESM engine's errors, answered by the CommonJS HTTP layer. */
const MIXED_BUILDS = `import { createRequire } from 'node:module';
import * as esm from 'jwt-sessions';
const cjs = createRequire(import.meta.url)('jwt-sessions');
const { createSessionHttp } = createRequire(import.meta.url)('jwt-sessions/http');
const sessions = esm.createSessions({ keys: { signing: { alg: 'HS256', key: 'k'.repeat(43) } }, store: new esm.MemoryStore() });
const error = await sessions.verifyAccess('not-a-token').catch((rejection) => rejection);
const response = createSessionHttp(sessions, { onError: () => {} }).errorResponse(error);
console.log(JSON.stringify({
  twoCopies: cjs.TokenFormatError !== esm.TokenFormatError,
  instanceOfOtherCopy: error instanceof cjs.TokenFormatError && error instanceof cjs.UnauthorizedError,
  notOfOtherClasses: !(error instanceof cjs.SessionError),
  response: { status: response.status, code: response.body.code },
}));
`;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a quickstart as the docs say (`PORT=… npx tsx file.ts`) until it reports listening. */
async function startQuickstart(project: string, file: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(project, 'node_modules/tsx/dist/cli.mjs'), file], {
    cwd: project,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Listening on http://127.0.0.1:${port}`)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
  });
  await listening;
  return { child, url: `http://127.0.0.1:${port}` };
}

interface Packed {
  filename: string;
  files: { path: string }[];
}

const TOOLS = ['tsx', 'typescript', '@types/node'];
const BIN = Object.keys(manifest.bin)[0]!;

let work: string;
let packed: Packed;
/** ESM (`"type": "module"`), with only the packages the quickstarts import. */
let quickstarts: string;
/** CommonJS (`"type": "commonjs"`, so `.mts` files are ESM), with every optional peer. */
let everything: string;

const installedIn = (project: string) => join(project, 'node_modules', manifest.name);
const binIn = (project: string) => join(project, 'node_modules/.bin', BIN);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'jwt-sessions-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  packed = (JSON.parse(stdout.slice(stdout.indexOf('['))) as Packed[])[0]!;
  const tarball = join(work, packed.filename);

  const frameworks = [...new Set(EXAMPLES.flatMap((file) => importedPackages(readExample(file))))];
  quickstarts = join(work, 'quickstarts');
  await consumer(quickstarts, 'module', tarball, [...frameworks, ...typesOf(frameworks), ...TOOLS]);
  for (const file of EXAMPLES) writeFileSync(join(quickstarts, file), readExample(file));
  writeTsconfig(quickstarts, 'tsconfig.json', { module: 'NodeNext' }, ['*.ts']);

  const peers = Object.keys(manifest.peerDependencies);
  everything = join(work, 'everything');
  await consumer(everything, 'commonjs', tarball, [...peers, ...typesOf(peers), ...TOOLS]);
  writeFileSync(join(everything, 'subpaths.cts'), importEverySubpath());
  writeFileSync(join(everything, 'subpaths.mts'), importEverySubpath());
  writeFileSync(join(everything, 'app.ts'), COMMONJS_APP);
  writeFileSync(join(everything, 'list-exports.cjs'), listExports('require'));
  writeFileSync(join(everything, 'list-exports.mjs'), listExports('import'));
  writeFileSync(join(everything, 'mixed-builds.mjs'), MIXED_BUILDS);
  writeTsconfig(everything, 'tsconfig.cjs.json', { module: 'NodeNext' }, ['subpaths.cts', 'app.ts']);
  writeTsconfig(everything, 'tsconfig.esm.json', { module: 'NodeNext' }, ['subpaths.mts']);
  writeTsconfig(everything, 'tsconfig.bundler.json', { module: 'Preserve', moduleResolution: 'Bundler' }, [
    'subpaths.mts',
  ]);
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function writeTsconfig(project: string, name: string, module: Record<string, string>, include: string[]) {
  writeFileSync(
    join(project, name),
    JSON.stringify({ compilerOptions: { ...CONSUMER_OPTIONS, ...module }, include }),
  );
}

/** Type-checks a project and answers which of this package's declarations it read. */
async function typeCheck(project: string, tsconfig: string): Promise<{ esm: boolean; cjs: boolean }> {
  const { stdout } = await node(
    [join(project, 'node_modules/typescript/bin/tsc'), '-p', tsconfig, '--listFiles'],
    project,
  );
  const files = stdout.split('\n');
  return {
    esm: files.includes(join(installedIn(project), 'dist/index.d.ts')),
    cjs: files.includes(join(installedIn(project), 'dist/cjs/index.d.ts')),
  };
}

describe('the tarball', () => {
  it('ships every file its exports map and bin name, with an import and a require condition each typed', () => {
    const shipped = new Set(packed.files.map((file) => file.path));
    for (const subpath of SUBPATHS) {
      const entry = manifest.exports[subpath] as Record<string, unknown>;
      for (const target of [entry.import, entry.require]) {
        expect(target, `${subpath}: { import: { types, default }, require: { types, default } }`).toEqual({
          types: expect.stringMatching(/\.d\.ts$/),
          default: expect.stringMatching(/\.js$/),
        });
        for (const path of Object.values(target as Record<string, string>)) {
          expect(shipped, `${subpath} → ${path}`).toContain(posix.normalize(path));
        }
      }
    }
    for (const path of Object.values(manifest.bin)) expect(shipped).toContain(posix.normalize(path));
  });

  it('ships no source map that points at a file it does not ship', () => {
    const shipped = new Set(packed.files.map((file) => file.path));
    const dangling: string[] = [];
    for (const map of [...shipped].filter((path) => path.endsWith('.map'))) {
      const { sources, sourcesContent } = JSON.parse(
        readFileSync(join(installedIn(everything), map), 'utf8'),
      ) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      sources.forEach((source, i) => {
        const inlined = typeof sourcesContent?.[i] === 'string';
        if (!inlined && !shipped.has(posix.join(posix.dirname(map), source)))
          dangling.push(`${map} → ${source}`);
      });
    }
    expect(dangling).toEqual([]);
  });

  it('installs with no dependency beyond the optional peers a user picks', () => {
    const installed = JSON.parse(readFileSync(join(installedIn(quickstarts), 'package.json'), 'utf8'));
    expect(installed.dependencies ?? {}).toEqual({});
    expect(Object.values(installed.peerDependenciesMeta)).toEqual(
      Object.keys(installed.peerDependencies).map(() => ({ optional: true })),
    );
  });

  it(
    'runs its bin: version and keygen with no peer, a SQLite migrate with better-sqlite3',
    async () => {
      expect((await run(binIn(quickstarts), ['--version'], quickstarts)).stdout.trim()).toBe(
        manifest.version,
      );
      const key = JSON.parse(
        (await run(binIn(quickstarts), ['keygen', '--alg', 'HS256', '--json'], quickstarts)).stdout,
      );
      expect(key).toMatchObject({ alg: 'HS256', secret: expect.stringMatching(/^[\w-]{43}$/) });
      const migrated = await run(binIn(everything), ['migrate'], everything, {
        STORE_URL: `sqlite:${join(work, 'bin.db')}`,
      });
      expect(migrated.stdout).toContain('up to date');
    },
    STEP_TIMEOUT_MS,
  );
});

describe('an ESM consumer', () => {
  it(
    'type-checks the quickstarts (strict, module NodeNext) against the ESM declarations',
    async () => {
      expect(await typeCheck(quickstarts, 'tsconfig.json')).toEqual({ esm: true, cjs: false });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'type-checks every subpath under NodeNext and under bundler resolution',
    async () => {
      expect(await typeCheck(everything, 'tsconfig.esm.json')).toEqual({ esm: true, cjs: false });
      expect(await typeCheck(everything, 'tsconfig.bundler.json')).toEqual({ esm: true, cjs: false });
    },
    STEP_TIMEOUT_MS,
  );

  describe.each(EXAMPLES)('runs the %s quickstart with tsx', (file) => {
    let app: { child: ChildProcess; url: string };
    beforeAll(async () => {
      app = await startQuickstart(quickstarts, file);
    }, STEP_TIMEOUT_MS);
    afterAll(() => {
      app?.child.kill();
    });

    it('logs in, calls the protected route, refreshes and logs out over HTTP', async () => {
      const call = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, init);
      const login = await call('/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(DEMO),
      });
      expect(login.status).toBe(200);
      const first = await login.json();
      const me = await call('/api/me', { headers: { authorization: `Bearer ${first.access_token}` } });
      expect(await me.json()).toEqual({ user_id: 'u_demo', session_id: first.session_id });

      const refreshed = await call('/auth/refresh', {
        method: 'POST',
        headers: { 'x-refresh-token': first.refresh_token },
      });
      expect(refreshed.status).toBe(200);
      const second = await refreshed.json();
      const authorization = `Bearer ${second.access_token}`;
      expect((await call('/auth/logout', { method: 'POST', headers: { authorization } })).status).toBe(200);
      expect((await call('/api/me', { headers: { authorization } })).status).toBe(401);
    });
  });
});

describe('a CommonJS consumer', () => {
  it(
    'require()s every subpath, each exporting what its ESM build exports',
    async () => {
      const listed = async (script: string) =>
        JSON.parse((await node([script], everything)).stdout) as Record<string, string[]>;
      const required = await listed('list-exports.cjs');
      expect(Object.keys(required)).toEqual(SUBPATHS.map(specifierOf));
      for (const names of Object.values(required)) expect(names.length).toBeGreaterThan(0);
      expect(required).toEqual(await listed('list-exports.mjs'));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'loaded next to the ESM build, shares its error classes: the dual-package hazard, handled',
    async () => {
      expect(JSON.parse((await node(['mixed-builds.mjs'], everything)).stdout)).toEqual({
        twoCopies: true,
        instanceOfOtherCopy: true,
        notOfOtherClasses: true,
        response: { status: 401, code: 'token_malformed' },
      });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'type-checks every subpath and a typed app (strict, module NodeNext) against the CommonJS declarations',
    async () => {
      expect(await typeCheck(everything, 'tsconfig.cjs.json')).toEqual({ esm: false, cjs: true });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the typed app with tsx on the CommonJS build: typed errors, a protected route, the bin sees its session',
    async () => {
      const database = join(work, 'app.db');
      const app = await node(['node_modules/tsx/dist/cli.mjs', 'app.ts', database], everything);
      const result = JSON.parse(app.stdout);
      expect(result.resolved).toBe(join(installedIn(everything), 'dist/cjs/index.js'));
      expect(result.me).toEqual({ status: 200, body: { user_id: 'u_cjs', session_id: result.sessionId } });
      expect(result.refused).toMatchObject({ status: 401, body: { code: 'token_malformed' } });
      expect(result.typedError).toBe(true);

      const listed = await run(binIn(everything), ['sessions', 'list', 'u_cjs', '--json'], everything, {
        STORE_URL: `sqlite:${database}`,
      });
      expect(JSON.parse(listed.stdout).sessions).toEqual([expect.objectContaining({ id: result.sessionId })]);
    },
    STEP_TIMEOUT_MS,
  );
});

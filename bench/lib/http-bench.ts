/**
 * Helpers for HTTP benchmarks: a server under test in its own process (so the load generator does
 * not share its event loop), a check that a case really authenticates, an autocannon run, and
 * rounds summarised as harness `Measurement`s (so `pairedRatio()` and the tables work on them).
 *
 * Server side: a script calls `serveForParent(start)`; `start()` listens and returns the URL, the
 * request headers the client must send, a `stats()` snapshot and `close()`. Parent side:
 * `forkServer(script, arg)` forks that script (a `.ts` one through tsx) and resolves once it
 * listens; `cpuMicros()` reads its CPU time; `stop()` asks it to clean up (close stores, delete
 * its data) and resolves its final stats.
 * `transpileTree()` turns the TypeScript a server needs into plain ESM JavaScript first, so that
 * servers start fast and run what users run (no loader hooks, no tsx helper calls).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import autocannon from 'autocannon';
import type { Measurement } from './harness.js';

async function typeScriptFiles(path: string): Promise<string[]> {
  if (path.endsWith('.ts')) return path.endsWith('.d.ts') ? [] : [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => typeScriptFiles(join(path, e.name))),
  );
  return nested.flat();
}

/**
 * Transpiles (types stripped, no type check, like tsc's emit) the `.ts` files of `paths` (files or
 * directories under `root`) to `<outDir>/<same relative path>.js`, ESM, and returns `outDir`.
 * Put `outDir` inside the project (e.g. under node_modules/.cache) so that bare imports still
 * resolve to the project's node_modules; relative `.js` imports resolve within the tree.
 */
export async function transpileTree(root: string, paths: string[], outDir: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const files = (await Promise.all(paths.map((p) => typeScriptFiles(join(root, p))))).flat();
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  // node_modules/package.json ends Node's search for a package scope: declare this tree ESM.
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const compilerOptions = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    verbatimModuleSyntax: true,
  };
  for (const file of files) {
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      compilerOptions,
      fileName: file,
    });
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  return outDir;
}

export interface StartedServer {
  url: string;
  /** Headers every benchmark request carries (credentials). */
  headers: Record<string, string>;
  /** Anything worth reporting, read when the parent stops the server (e.g. cache hit counts). */
  stats?: () => unknown;
  close(): Promise<void>;
}

type ToParent =
  | { type: 'ready'; url: string; headers: Record<string, string> }
  | { type: 'cpu'; micros: number }
  | { type: 'stopped'; stats: unknown }
  | { type: 'error'; message: string };
type ToChild = { type: 'stop' } | { type: 'cpu' };

function send(message: ToParent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) throw new Error('serveForParent: not started by forkServer (no IPC channel)');
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** The server side: start, report to the parent, and on `stop` clean up and exit. */
export async function serveForParent(start: () => Promise<StartedServer>): Promise<void> {
  let server: StartedServer;
  try {
    server = await start();
  } catch (error) {
    await send({ type: 'error', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
  process.on('message', (message: ToChild) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      void send({ type: 'cpu', micros: user + system });
      return;
    }
    if (message?.type !== 'stop') return;
    const stats = server.stats?.();
    server.close().then(
      async () => {
        await send({ type: 'stopped', stats: stats ?? null });
        process.exit(0);
      },
      async (error: unknown) => {
        await send({ type: 'error', message: `close failed: ${(error as Error).message}` });
        process.exit(1);
      },
    );
  });
  // The parent died without stopping us: do not linger as an orphan holding a port.
  process.on('disconnect', () => process.exit(1));
  await send({ type: 'ready', url: server.url, headers: server.headers });
}

export interface ServerHandle {
  url: string;
  headers: Record<string, string>;
  /**
   * CPU time the server process has used so far (user + system, all threads), µs. Its difference
   * over a load run is the server's cost of that run, which, unlike requests/s, hardly depends on
   * how much of the machine other processes take meanwhile.
   */
  cpuMicros(): Promise<number>;
  /** Stops the server (it cleans up first); resolves its final `stats()`. */
  stop(): Promise<unknown>;
  /** Kills it without cleanup (after a failure). */
  kill(): void;
}

function nextMessage(child: ChildProcess, timeoutMs: number, what: string): Promise<ToParent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`server did not ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: ToParent) => done(undefined, message);
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`server exited (${signal ?? `code ${code}`}) before it could ${what}`));
    function done(error?: Error, message?: ToParent) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else if (message!.type === 'error') reject(new Error(`server failed: ${message!.message}`));
      else resolve(message!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Forks `script` with `arg` as JSON in argv[2] (a `.ts` script through tsx, JavaScript as is),
 * with `nodeArgs` for Node (V8 flags included); resolves when it listens.
 */
export async function forkServer(
  script: string,
  arg: unknown,
  {
    readyTimeoutMs = 45_000,
    stopTimeoutMs = 10_000,
    nodeArgs = [],
  }: { readyTimeoutMs?: number; stopTimeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<ServerHandle> {
  const child = fork(script, [JSON.stringify(arg)], {
    execArgv: [...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), ...nodeArgs],
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let ready: ToParent;
  try {
    ready = await nextMessage(child, readyTimeoutMs, 'start');
  } catch (error) {
    kill();
    throw error;
  }
  if (ready.type !== 'ready') {
    kill();
    throw new Error(`unexpected first message from the server: ${ready.type}`);
  }
  return {
    url: ready.url,
    headers: ready.headers,
    kill,
    async cpuMicros() {
      const reply = nextMessage(child, stopTimeoutMs, 'report its CPU time');
      child.send({ type: 'cpu' } satisfies ToChild);
      const message = await reply;
      if (message.type !== 'cpu') throw new Error(`unexpected message from the server: ${message.type}`);
      return message.micros;
    },
    async stop() {
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      try {
        const reply = nextMessage(child, stopTimeoutMs, 'stop');
        child.send({ type: 'stop' } satisfies ToChild);
        const stopped = await reply;
        await exited;
        return stopped.type === 'stopped' ? stopped.stats : null;
      } finally {
        kill();
      }
    },
  };
}

/**
 * Proves a guarded route is not benchmarking an error path: without credentials it must answer
 * `statusWithout` (401 for a guarded route), with them 200 and exactly `expectedBody`.
 */
export async function probeAuth(
  url: string,
  headers: Record<string, string>,
  expectedBody: unknown,
  statusWithout: number,
): Promise<void> {
  const bare = await fetch(url);
  await bare.arrayBuffer();
  if (bare.status !== statusWithout) {
    throw new Error(`GET ${url} without credentials: ${bare.status}, expected ${statusWithout}`);
  }
  const authed = await fetch(url, { headers });
  const text = await authed.text();
  if (authed.status !== 200) throw new Error(`GET ${url} with credentials: ${authed.status} ${text}`);
  if (text !== JSON.stringify(expectedBody)) {
    throw new Error(`GET ${url} with credentials answered ${text}, expected ${JSON.stringify(expectedBody)}`);
  }
}

export interface LoadOptions {
  headers: Record<string, string>;
  connections: number;
  pipelining: number;
  durationSec: number;
}

export interface LoadResult {
  /** Completed requests per second over the run. */
  rps: number;
  requests: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  /** Connection errors + timeouts. */
  errors: number;
  non2xx: number;
}

/** One autocannon run (GET) against `url`. */
export async function load(url: string, o: LoadOptions): Promise<LoadResult> {
  const r = await autocannon({
    url,
    method: 'GET',
    headers: o.headers,
    connections: o.connections,
    pipelining: o.pipelining,
    duration: o.durationSec,
    // autocannon stops at a sample tick: 100 ms ticks make short runs last what they should.
    sampleInt: 100,
  });
  return {
    rps: r.requests.total / r.duration,
    requests: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A distribution-free confidence interval for the median (the sign test's): with n samples, the
 * k-th smallest and k-th largest, k the largest rank with P(Binomial(n, 1/2) < k) <= (1 - level) / 2.
 * Whole when n is too small for the level (n < 6 at 95 %).
 */
export function medianInterval(values: readonly number[], level = 0.95): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const tail = (1 - level) / 2;
  let k = 0; // ends as the lower bound's rank: P(X <= k - 1) <= tail < P(X <= k), X ~ Binomial(n, 1/2)
  let atMostK = 0.5 ** n; // P(X <= k)
  let term = atMostK; // P(X = k)
  while (atMostK <= tail && k < n >> 1) {
    term = (term * (n - k)) / (k + 1);
    k++;
    atMostK += term;
  }
  const dropped = Math.max(k - 1, 0); // samples left out at each end
  return [sorted[dropped]!, sorted[n - 1 - dropped]!];
}

/** Per-round requests/s as a harness `Measurement` (median, min/max, spread). */
export function toMeasurement(label: string, perRound: number[], requests: number): Measurement {
  const m = median(perRound);
  const min = Math.min(...perRound);
  const max = Math.max(...perRound);
  return {
    label,
    opsPerSec: m,
    min,
    max,
    spreadPct: m > 0 ? ((max - min) / m) * 100 : 0,
    perRound,
    ops: requests,
  };
}

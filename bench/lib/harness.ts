/**
 * A small benchmark harness shared by every benchmark in `bench/`.
 *
 * Adding a benchmark: create `bench/<name>.bench.ts` whose default export is
 * `defineBenchmark({ name, description, run })`, where `run(ctx)` measures with `compare()` /
 * `measure()` below and returns a `BenchResult` (tables, optional pass/fail checks, notes, raw data).
 * `npm run bench` runs every `bench/*.bench.ts`; `npm run bench -- tokens` runs the ones whose file
 * name or `name` matches an argument; `--quick` (or BENCH_QUICK=1) shortens every round for smoke
 * runs. Each result is printed and written to `bench/results/<name>.json` and `.md`.
 *
 * Method: each case gets a warm-up (which also calibrates a batch size of about 1 ms), then several
 * timed rounds. `compare()` interleaves the cases round by round (rotating the order), so that drift
 * on a busy machine (frequency scaling, other processes, GC) hits every case alike and ratios
 * between cases measured in the same call are meaningful. Reported: the median ops/s over rounds,
 * min/max, and the spread ((max - min) / median); `pairedRatio()` compares two cases round by round.
 * `compareTimed()` does the same for slow or destructive operations (untimed set-up per round, time
 * per call, optionally on the process CPU clock). `environment()` records the machine and the run
 * (CPU, cores, RAM, Node, load before/after, date, commit, quick/full) with every result.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MeasureOptions {
  /** Timed rounds per case (default 7; 3 in quick mode). */
  rounds?: number;
  /** Duration of one round in ms (default 400; 100 in quick mode). */
  roundMs?: number;
  /** Warm-up per case in ms before the first round (default 300; 100 in quick mode). */
  warmupMs?: number;
}

export type BenchCase =
  | { label: string; fn: () => unknown; async?: false }
  | { label: string; fn: () => Promise<unknown>; async: true };

export interface Measurement {
  label: string;
  /** Median over rounds. */
  opsPerSec: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent. */
  spreadPct: number;
  /** ops/s of every round, in order. */
  perRound: number[];
  /** Total operations executed in timed rounds. */
  ops: number;
}

export interface Table {
  title?: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface BenchResult {
  /** File stem for the results (`bench/results/<name>.json|md`). */
  name: string;
  title: string;
  description?: string;
  tables: Table[];
  /** Pass/fail assertions the benchmark makes about its numbers (e.g. required ratios). */
  checks?: Check[];
  notes?: string[];
  /** Raw measurements and anything else worth keeping in the JSON. */
  data?: unknown;
}

export interface BenchContext {
  quick: boolean;
  /** Defaults for measure()/compare() derived from quick mode; benchmarks may override. */
  options: Required<MeasureOptions>;
  log: (message: string) => void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Identity helper that gives a benchmark module its type. */
export function defineBenchmark(benchmark: Benchmark): Benchmark {
  return benchmark;
}

export function defaultOptions(quick: boolean): Required<MeasureOptions> {
  return quick ? { rounds: 3, roundMs: 100, warmupMs: 100 } : { rounds: 7, roundMs: 400, warmupMs: 300 };
}

/** Results land here; keeps the optimiser from discarding the measured calls. */
let sink: unknown;
export function blackhole(): unknown {
  return sink;
}

interface Runner {
  label: string;
  batch: number;
  perRound: number[];
  ops: number;
  /** Runs for about `ms`, returns [ops, elapsed ms]. */
  run(ms: number): Promise<[number, number]>;
}

function makeRunner(c: BenchCase): Runner {
  const runner: Runner = {
    label: c.label,
    batch: 1,
    perRound: [],
    ops: 0,
    async run(ms) {
      const batch = runner.batch;
      let ops = 0;
      const start = performance.now();
      let now = start;
      if (c.async) {
        const fn = c.fn;
        do {
          for (let i = 0; i < batch; i++) sink = await fn();
          ops += batch;
          now = performance.now();
        } while (now - start < ms);
      } else {
        const fn = c.fn;
        do {
          for (let i = 0; i < batch; i++) sink = fn();
          ops += batch;
          now = performance.now();
        } while (now - start < ms);
      }
      return [ops, now - start];
    },
  };
  return runner;
}

async function warmUp(r: Runner, ms: number): Promise<void> {
  // Grow the batch until one batch takes about 1 ms, then run out the warm-up.
  const start = performance.now();
  for (;;) {
    const [ops, elapsed] = await r.run(0);
    if (elapsed < 1 && r.batch < 1 << 20) r.batch *= 2;
    else r.batch = Math.max(1, Math.round(ops / Math.max(elapsed, 1e-3)));
    if (performance.now() - start >= ms) break;
  }
}

function summarise(r: Runner): Measurement {
  const sorted = [...r.perRound].sort((a, b) => a - b);
  const median = medianOf(sorted);
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  return {
    label: r.label,
    opsPerSec: median,
    min,
    max,
    spreadPct: median > 0 ? ((max - min) / median) * 100 : 0,
    perRound: r.perRound,
    ops: r.ops,
  };
}

/**
 * Measures several cases interleaved round by round; returns measurements keyed by label (in the
 * order given).
 */
export async function compare(
  cases: BenchCase[],
  options: MeasureOptions = {},
): Promise<Record<string, Measurement>> {
  const o = { ...defaultOptions(false), ...options };
  const runners = cases.map(makeRunner);
  for (const r of runners) await warmUp(r, o.warmupMs);
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < runners.length; i++) {
      const r = runners[(i + round) % runners.length]!;
      const [ops, elapsed] = await r.run(o.roundMs);
      r.perRound.push((ops / elapsed) * 1000);
      r.ops += ops;
    }
  }
  const out: Record<string, Measurement> = {};
  for (const r of runners) out[r.label] = summarise(r);
  return out;
}

/** An operation timed per call (slow or destructive operations: namespace revokes, bulk work). */
export interface TimedCase {
  label: string;
  /** The operation; `i` counts calls within a round (0..batch-1), e.g. to pick a prepared target. */
  op: (i: number) => unknown;
  /**
   * Untimed set-up before each round for `batch` calls (e.g. create `batch` namespaces for a
   * destructive op to consume). Runs before calibration too.
   */
  prepare?: (batch: number) => unknown;
}

export interface TimingOptions {
  /** Timed rounds per case (default 7; 3 in quick mode via `ctx.options.rounds`). */
  rounds?: number;
  /** A round repeats the op until it lasts at least this long (ms, default 20), up to `maxBatch` calls. */
  minRoundMs?: number;
  /** Upper bound on calls per round (default 1000). */
  maxBatch?: number;
  /**
   * `wall` (default): elapsed time. `cpu`: this process's CPU time (user + system, all threads), for
   * work that stays in the process: unaffected by other processes competing for a shared machine.
   */
  clock?: 'wall' | 'cpu';
}

/** A `Measurement` of a timed case (ops/s per round, so `pairedRatio()` works) plus times per call. */
export interface TimedMeasurement extends Measurement {
  /** Median over rounds of the mean time per call, ms. */
  msPerOp: number;
  minMs: number;
  maxMs: number;
  /** Calls per round. */
  batch: number;
}

/**
 * Times operations that are too slow or too destructive for `compare()`: each round runs `prepare`
 * (untimed), then `batch` sequential awaited calls; the batch is calibrated once so a round lasts
 * about `minRoundMs`. Cases are interleaved round by round (rotating the order) like `compare()`.
 */
export async function compareTimed(
  cases: TimedCase[],
  options: TimingOptions = {},
): Promise<Record<string, TimedMeasurement>> {
  const rounds = options.rounds ?? 7;
  const minRoundMs = options.minRoundMs ?? 20;
  const maxBatch = options.maxBatch ?? 1000;
  const state = cases.map((c) => ({ c, batch: 1, perRoundMs: [] as number[] }));
  const cpu = options.clock === 'cpu';
  const runRound = async (s: (typeof state)[number]): Promise<number> => {
    await s.c.prepare?.(s.batch);
    const wallStart = performance.now();
    const cpuStart = cpu ? process.cpuUsage() : undefined;
    for (let i = 0; i < s.batch; i++) sink = await s.c.op(i);
    if (cpuStart === undefined) return (performance.now() - wallStart) / s.batch;
    const used = process.cpuUsage(cpuStart);
    return (used.user + used.system) / 1000 / s.batch;
  };
  for (const s of state) {
    // Warm up and size the batch from the FASTEST of three estimates: one estimate inflated by a
    // stall (GC, a busy machine) would leave a case with rounds of a single call, which then measure
    // scheduler noise rather than the operation.
    let fastest = Number.POSITIVE_INFINITY;
    for (let pass = 0; pass < 3; pass++) {
      fastest = Math.min(fastest, await runRound(s));
      s.batch = Math.min(maxBatch, Math.max(1, Math.ceil(minRoundMs / Math.max(fastest, 1e-3))));
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < state.length; i++) {
      const s = state[(i + round) % state.length]!;
      s.perRoundMs.push(await runRound(s));
    }
  }
  const out: Record<string, TimedMeasurement> = {};
  for (const s of state) {
    const perRound = s.perRoundMs.map((ms) => 1000 / ms);
    const m = summarise({ label: s.c.label, batch: s.batch, perRound, ops: s.batch * rounds, run: noRun });
    const sortedMs = [...s.perRoundMs].sort((a, b) => a - b);
    out[s.c.label] = {
      ...m,
      msPerOp: medianOf(sortedMs),
      minMs: sortedMs[0]!,
      maxMs: sortedMs.at(-1)!,
      batch: s.batch,
    };
  }
  return out;
}

/** Times one operation (see `compareTimed`). */
export async function timeOp(c: TimedCase, options: TimingOptions = {}): Promise<TimedMeasurement> {
  return (await compareTimed([c], options))[c.label]!;
}

const noRun = async (): Promise<[number, number]> => [0, 0];

function medianOf(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 0.01234 -> "12.3 µs", 1.5 -> "1.50 ms", 1234 -> "1.23 s". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : ms < 0.1 ? 1 : 0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** 1536 -> "1.5 KiB", 3.2e9 -> "2.98 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 || Math.abs(value) >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** Measures one case. */
export async function measure(c: BenchCase, options: MeasureOptions = {}): Promise<Measurement> {
  return (await compare([c], options))[c.label]!;
}

/**
 * Ratio a/b as the median of per-round ratios. With `compare()`, round i of every case ran
 * back to back, so pairing rounds cancels most machine-wide drift; more robust on a busy machine
 * than the ratio of the medians. Falls back to the ratio of medians when round counts differ.
 */
export function pairedRatio(a: Measurement, b: Measurement): number {
  if (a.perRound.length !== b.perRound.length || a.perRound.length === 0) return a.opsPerSec / b.opsPerSec;
  const ratios = a.perRound.map((x, i) => x / b.perRound[i]!).sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  return ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

/** 1234567 -> "1.23M", 12345 -> "12.3k". */
export function formatOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

export function formatRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

function cell(v: string | number): string {
  return typeof v === 'number' ? formatOps(v) : v;
}

/** A Markdown table (also readable as plain text in a terminal). */
export function renderTable(t: Table): string {
  const rows = [t.columns, ...t.rows.map((r) => r.map(cell))];
  const widths = t.columns.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) =>
    `| ${r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]!) : String(v).padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const out = [line(rows[0]!), sep, ...rows.slice(1).map(line)];
  return (t.title ? `**${t.title}**\n\n` : '') + out.join('\n');
}

export interface Environment {
  date: string;
  node: string;
  v8: string;
  platform: string;
  cpu: string;
  cores: number;
  /** 1/5/15-minute load averages when the benchmark ended. */
  loadavg: number[];
  quick: boolean;
  /** Load averages when the benchmark started (the runner records it). */
  loadavgStart?: number[];
  totalMemGiB?: number;
  /** Commit of the measured tree, `-dirty` when it had uncommitted changes; absent outside git. */
  commit?: string;
  /** Wall time of the benchmark, seconds. */
  durationSec?: number;
}

/** 1/5/15-minute load averages, rounded to 2 decimals. */
export function loadAverages(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

let commitCache: string | null | undefined;
/** The short commit of the tree (`-dirty` with uncommitted changes), or null outside git. */
export function gitCommit(): string | null {
  if (commitCache !== undefined) return commitCache;
  const cwd = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
    }).trim();
    commitCache = dirty ? `${head}-dirty` : head;
  } catch {
    commitCache = null;
  }
  return commitCache;
}

/** The machine and run conditions, recorded with every result. `extra` adds runner-known fields. */
export function environment(quick: boolean, extra: Partial<Environment> = {}): Environment {
  const cpus = os.cpus();
  const commit = gitCommit();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    loadavg: loadAverages(),
    quick,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    ...(commit !== null && { commit }),
    ...extra,
  };
}

/** One line describing the machine and the run (used by the result files and the report). */
export function describeEnvironment(env: Environment): string {
  const load = env.loadavgStart
    ? `load ${env.loadavgStart.join(' ')} → ${env.loadavg.join(' ')}`
    : `load ${env.loadavg.join(' ')}`;
  return [
    `Node ${env.node} (V8 ${env.v8})`,
    env.platform,
    `${env.cpu} × ${env.cores}${env.totalMemGiB ? `, ${env.totalMemGiB} GiB RAM` : ''}`,
    load,
    env.date,
    ...(env.commit ? [`commit ${env.commit}`] : []),
    ...(env.durationSec !== undefined ? [`${env.durationSec.toFixed(0)} s`] : []),
  ].join(', ');
}

export function renderResult(result: BenchResult, env: Environment): string {
  const parts = [`# ${result.title}`, ''];
  if (result.description) parts.push(result.description, '');
  parts.push(
    `${describeEnvironment(env)}${env.quick ? ' — QUICK MODE (short rounds; numbers are rough)' : ' — full run'}`,
    '',
  );
  for (const t of result.tables) parts.push(renderTable(t), '');
  if (result.checks?.length) {
    parts.push('**Checks**', '');
    for (const c of result.checks) parts.push(`- ${c.pass ? 'PASS' : 'FAIL'} — ${c.name}: ${c.detail}`);
    parts.push('');
  }
  if (result.notes?.length) {
    parts.push('**Notes**', '');
    for (const n of result.notes) parts.push(`- ${n}`);
    parts.push('');
  }
  return parts.join('\n');
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md`; returns their paths. */
export async function writeResults(
  result: BenchResult,
  env: Environment,
  dir = RESULTS_DIR,
): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, `${result.name}.json`);
  const md = join(dir, `${result.name}.md`);
  await writeFile(json, `${JSON.stringify({ environment: env, ...result }, null, 2)}\n`);
  await writeFile(md, renderResult(result, env));
  return { json, md };
}

/**
 * The benchmark report, generated from every bench/results/<name>.json on disk (`npm run bench:report`;
 * `npm run bench` runs it at the end):
 * - docs/performance.md: every table, check and note, with the machine, date and mode of each run;
 * - bench/results/chart.svg: throughput ratios per peer (token verify vs the node:crypto floor, jose,
 *   fast-jwt, jsonwebtoken per algorithm; HTTP cases vs the same framework without auth);
 * - bench/results/scaling.svg: the scaling curves (bench/scaling.bench.ts);
 * - the README region between `<!-- bench:begin -->` and `<!-- bench:end -->`: a short summary.
 * Missing or unreadable result files are listed, never fatal: the report renders what exists.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BenchResult,
  describeEnvironment,
  type Environment,
  formatBytes,
  formatMs,
  formatRatio,
  type Measurement,
  pairedRatio,
  RESULTS_DIR,
  renderTable,
} from './lib/harness.js';
import { lineCharts, PALETTE, type Panel, type RatioGroup, ratioBarChart } from './lib/svg.js';
import type { ScalingData } from './scaling.bench.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Report order; any other result follows alphabetically. */
const KNOWN = ['tokens', 'engine', 'redis', 'sql', 'http', 'soak', 'scaling'];
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

export type StoredResult = BenchResult & { environment: Environment };

export interface ReportPaths {
  resultsDir: string;
  docs: string;
  readme: string;
  chart: string;
  scalingChart: string;
}

export function defaultPaths(): ReportPaths {
  return {
    resultsDir: RESULTS_DIR,
    docs: join(ROOT, 'docs', 'performance.md'),
    readme: join(ROOT, 'README.md'),
    chart: join(RESULTS_DIR, 'chart.svg'),
    scalingChart: join(RESULTS_DIR, 'scaling.svg'),
  };
}

function isResult(value: unknown): value is StoredResult {
  const r = value as Partial<StoredResult> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    typeof r.title === 'string' &&
    Array.isArray(r.tables) &&
    typeof r.environment === 'object' &&
    r.environment !== null &&
    typeof r.environment.date === 'string'
  );
}

/** Every readable result in `dir`, in report order, and the files that could not be read. */
export async function loadResults(
  dir: string,
): Promise<{ results: StoredResult[]; unreadable: { file: string; reason: string }[] }> {
  // `<name>-runs.json`: a benchmark's own history of past runs (http-runs.json), not a result.
  const files = existsSync(dir)
    ? (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.endsWith('-runs.json')).sort()
    : [];
  const results: StoredResult[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  for (const file of files) {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(dir, file), 'utf8'));
      if (isResult(parsed)) results.push(parsed);
      else unreadable.push({ file, reason: 'not a benchmark result (no name/title/tables/environment)' });
    } catch (error) {
      unreadable.push({ file, reason: (error as Error).message });
    }
  }
  const rank = (name: string) => (KNOWN.includes(name) ? KNOWN.indexOf(name) : KNOWN.length);
  results.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  return { results, unreadable };
}

/** Benchmarks expected to have results: the known ones and every bench/*.bench.ts. */
async function expectedNames(): Promise<string[]> {
  const benchDir = join(ROOT, 'bench');
  const stems = (await readdir(benchDir)).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -9));
  return [...new Set([...KNOWN, ...stems])];
}

// ---- chart data -------------------------------------------------------------------------------

const PEERS = ['node:crypto floor', 'jose', 'fast-jwt', 'jsonwebtoken'] as const;

/** jwt-sessions verify ops/s ÷ each peer's, per algorithm (paired per round when rounds are kept). */
export function tokenRatios(tokens: StoredResult | undefined): RatioGroup[] {
  if (!tokens) return [];
  const verify = (tokens.data as { verify?: Record<string, Record<string, Measurement>> } | undefined)
    ?.verify;
  const groups: RatioGroup[] = [];
  if (verify) {
    for (const [alg, byLabel] of Object.entries(verify)) {
      const ours = byLabel[`${alg} verify jwt-sessions`];
      if (!ours) continue;
      const bars = PEERS.flatMap((peer) => {
        const m = byLabel[`${alg} verify ${peer === 'node:crypto floor' ? 'floor' : peer}`];
        return m ? [{ label: `vs ${peer}`, ratio: pairedRatio(ours, m) }] : [];
      });
      groups.push({ title: `Token verify, ${alg}: jwt-sessions ÷ peer`, bars });
    }
    return groups;
  }
  // Older files without raw data: ratios of the medians in the verify table.
  const table = tokens.tables.find((t) => t.title?.startsWith('verify'));
  if (!table) return [];
  const opsCol = table.columns.indexOf('ops/s');
  const byAlg = new Map<string, Map<string, number>>();
  for (const row of table.rows) {
    const ops = row[opsCol];
    if (typeof ops !== 'number') continue;
    const alg = String(row[0]);
    if (!byAlg.has(alg)) byAlg.set(alg, new Map());
    byAlg.get(alg)!.set(String(row[1]), ops);
  }
  for (const [alg, ops] of byAlg) {
    const ours = ops.get('jwt-sessions');
    if (ours === undefined) continue;
    const bars = PEERS.flatMap((peer) => {
      const o = ops.get(peer);
      return o ? [{ label: `vs ${peer}`, ratio: ours / o }] : [];
    });
    groups.push({ title: `Token verify, ${alg}: jwt-sessions ÷ peer`, bars });
  }
  return groups;
}

/** HTTP rows as a fraction of the same framework's no-auth ceiling (the "vs ceiling" column). */
export function httpRatios(http: StoredResult | undefined): RatioGroup[] {
  if (!http) return [];
  const groups = new Map<string, RatioGroup>();
  for (const table of http.tables) {
    const ratioCol = table.columns.findIndex((c) => /vs ceiling/i.test(c));
    if (ratioCol === -1) continue;
    const firstNumeric = table.columns.findIndex((c) => /req\/s|ops\/s/i.test(c));
    const labelCols = Math.max(1, firstNumeric === -1 ? 2 : firstNumeric);
    for (const row of table.rows) {
      const ratio = Number.parseFloat(String(row[ratioCol]));
      const label = row.slice(1, labelCols).join(' · ');
      if (!Number.isFinite(ratio) || /ceiling|no auth/i.test(label)) continue;
      const framework = String(row[0]);
      if (!groups.has(framework)) {
        groups.set(framework, { title: `HTTP ${framework}: req/s ÷ ${framework} without auth`, bars: [] });
      }
      const peer = !/jwt-sessions/i.test(label);
      groups.get(framework)!.bars.push({ label, ratio, color: peer ? '#9ca3af' : PALETTE[0]! });
    }
  }
  return [...groups.values()];
}

function scalingPanels(data: ScalingData): Panel[] {
  const storeColor: Record<string, string> = { MemoryStore: PALETTE[0]!, RedisStore: PALETTE[1]! };
  const opDash: Record<string, string | undefined> = {
    list: undefined,
    'revoke access': '6 3',
    revoke: '2 3',
  };
  const ops = ['list', 'revoke access', 'revoke'] as const;
  const sizePanel: Panel = {
    title: '(a) time per call vs namespace size',
    xLabel: 'sessions in the namespace (log)',
    yLabel: 'time per call (log)',
    x: { log: true, format: (v) => compactCount(v) },
    y: { log: true, format: formatMs },
    series: Object.entries(data.byNamespaceSize).flatMap(([store, byOp]) =>
      ops.map((op) => ({
        label: `${store} ${op}`,
        color: storeColor[store] ?? PALETTE[2]!,
        dash: opDash[op],
        points: data.namespaceSizes.flatMap((x, i) => {
          const y = byOp[op][i];
          return typeof y === 'number' && y > 0 ? [{ x, y }] : [];
        }),
      })),
    ),
  };
  const kinds = [
    { store: 'MemoryStore', kind: 'sessions', label: 'MemoryStore, other sessions', color: PALETTE[0]! },
    { store: 'RedisStore', kind: 'sessions', label: 'RedisStore, other sessions', color: PALETTE[1]! },
    { store: 'RedisStore', kind: 'keys', label: 'RedisStore, unrelated keys', color: PALETTE[2]! },
  ];
  // One line per store and kind: the worst of the three operations' ratios at each size.
  const unrelatedSeries = kinds.map((k) => ({
    label: k.label,
    color: k.color,
    points: data.unrelated
      .filter((u) => u.store === k.store && u.kind === k.kind)
      .sort((a, b) => a.unrelated - b.unrelated)
      .map((u) => ({ x: u.unrelated, y: Math.max(...ops.map((op) => u.ratio[op])) })),
  }));
  const scanNote = data.scan
    ? [`One SCAN MATCH pass over ${compactCount(data.scan.keys)} keys: ${formatMs(data.scan.ms)} per call.`]
    : [];
  const unrelatedPanel: Panel = {
    title: '(b) 10-session namespace vs unrelated data',
    xLabel: 'unrelated sessions or keys in the store (log)',
    yLabel: 'time ÷ empty store (worst of 3 ops)',
    x: { log: true, format: (v) => compactCount(v) },
    y: { log: false, format: (v) => `${Number(v.toFixed(2))}x`, min: 0 },
    series: unrelatedSeries.filter((s) => s.points.length > 0),
    references: [
      { y: 1, label: '1x: unaffected' },
      { y: 2, label: 'check limit' },
    ],
    footnotes: scanNote,
  };
  const memoryPanel: Panel = {
    title: '(c) memory per live session',
    xLabel: 'live sessions in the store (log)',
    yLabel: 'bytes per session',
    x: { log: true, format: (v) => compactCount(v) },
    y: { log: false, format: (v) => formatBytes(v), min: 0 },
    series: ['MemoryStore', 'RedisStore'].map((store) => ({
      label: `${store} (${store === 'MemoryStore' ? 'V8 heap' : 'used_memory'})`,
      color: storeColor[store]!,
      points: data.memory
        .filter((m) => m.store === store)
        .map((m) => ({ x: m.sessions, y: m.bytesPerSession })),
    })),
    references: [{ y: data.dataBytes, label: `engine data ${data.dataBytes} B` }],
  };
  return [sizePanel, unrelatedPanel, memoryPanel];
}

function compactCount(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toFixed(1))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toFixed(1))}k`;
  return String(n);
}

// ---- markdown ---------------------------------------------------------------------------------

function modeOf(env: Environment): string {
  return env.quick ? 'quick' : 'full';
}

function machineOf(env: Environment): string {
  return `${env.cpu} × ${env.cores}, ${env.platform}, Node ${env.node}`;
}

function checksLine(r: StoredResult): string {
  const checks = r.checks ?? [];
  if (checks.length === 0) return 'no checks';
  const failed = checks.filter((c) => !c.pass);
  return failed.length === 0
    ? `${checks.length}/${checks.length} pass`
    : `${checks.length - failed.length}/${checks.length} pass`;
}

/**
 * The HTTP bench's share-of-limit column per framework, and the peer leads of the last full runs
 * (its history table: one column per run).
 */
export function httpLimitHeadlines(http: StoredResult | undefined): string[] {
  if (!http) return [];
  const lines: string[] = [];
  const main = http.tables.find((t) => t.columns.includes('share of limit'));
  if (main) {
    const shareCol = main.columns.indexOf('share of limit');
    const byFramework = new Map<string, string[]>();
    for (const row of main.rows) {
      const label = String(row[1]);
      if (!/jwt-sessions/.test(label) || !/^[\d.]+x$/.test(String(row[shareCol]))) continue;
      const framework = String(row[0]);
      if (!byFramework.has(framework)) byFramework.set(framework, []);
      byFramework.get(framework)!.push(`${label.replace('jwt-sessions ', '')} ${row[shareCol]}`);
    }
    for (const [framework, shares] of byFramework) {
      lines.push(
        `HTTP ${framework}, share of the limit (no-auth ceiling + one HS256 floor, per CPU-second): ${shares.join(', ')}.`,
      );
    }
  }
  const history = http.tables.find((t) => t.columns[0] === 'comparison');
  if (history && history.columns.length > 1) {
    for (const row of history.rows) {
      lines.push(
        `Peer lead per CPU-second, ${row[0]}: ${row.slice(1).join(' · ')} (${history.columns.slice(1).join(' · ')}).`,
      );
    }
  }
  return lines;
}

/** The handful of headline numbers, from whichever results exist. */
function headlines(byName: Map<string, StoredResult>): string[] {
  const lines: string[] = [];
  const tokens = tokenRatios(byName.get('tokens'));
  for (const group of tokens.filter((g) => /HS256|ES256/.test(g.title))) {
    const alg = /, (\w+):/.exec(group.title)?.[1] ?? '';
    lines.push(
      `Token verify ${alg}: ${group.bars.map((b) => `${formatRatio(b.ratio)} ${b.label.replace('vs ', '')}`).join(', ')} (jwt-sessions ops/s ÷ theirs).`,
    );
  }
  for (const group of httpRatios(byName.get('http'))) {
    const ours = group.bars.filter((b) => b.color === PALETTE[0]);
    const peers = group.bars.filter((b) => b.color !== PALETTE[0]);
    const list = (bars: RatioGroup['bars']) =>
      bars.map((b) => `${b.label} ${formatRatio(b.ratio)}`).join(', ');
    if (ours.length) {
      lines.push(
        `${group.title.split(':')[0]} req/s ÷ no auth: ${list(ours).replace(/jwt-sessions /g, '')}${peers.length ? `; peers: ${list(peers)}` : ''}.`,
      );
    }
  }
  lines.push(...httpLimitHeadlines(byName.get('http')));
  const scaling = byName.get('scaling')?.data as ScalingData | undefined;
  if (scaling?.unrelated) {
    const range = (store: string, kind: string) => {
      const points = scaling.unrelated.filter((u) => u.store === store && u.kind === kind);
      const largest = points.sort((a, b) => b.unrelated - a.unrelated)[0];
      if (!largest) return null;
      const ratios = Object.values(largest.ratio);
      return `${store} with ${compactCount(largest.unrelated)} ${kind === 'keys' ? 'unrelated keys' : 'other sessions'} ${formatRatio(Math.min(...ratios))}–${formatRatio(Math.max(...ratios))}`;
    };
    const parts = [
      range('RedisStore', 'keys'),
      range('RedisStore', 'sessions'),
      range('MemoryStore', 'sessions'),
    ].filter((p): p is string => p !== null);
    if (parts.length) {
      lines.push(
        `List / revoke a 10-session namespace in a full store ÷ in an empty one: ${parts.join('; ')}${scaling.scan ? `. A SCAN-based store (jwt_sessions) pays a keyspace pass per call: ${formatMs(scaling.scan.ms)} over ${compactCount(scaling.scan.keys)} keys` : ''}.`,
      );
    }
  }
  if (scaling?.memory?.length) {
    const largest = (store: string) =>
      scaling.memory.filter((m) => m.store === store).sort((a, b) => b.sessions - a.sessions)[0];
    const parts = ['MemoryStore', 'RedisStore'].flatMap((store) => {
      const m = largest(store);
      return m ? [`${store} ${Math.round(m.bytesPerSession)} B (at ${compactCount(m.sessions)})`] : [];
    });
    lines.push(
      `Memory per live session: ${parts.join(', ')}, of which ${scaling.dataBytes} B is the session's own state.`,
    );
  }
  return lines;
}

function runsTable(results: StoredResult[]): string {
  return renderTable({
    columns: ['benchmark', 'date (UTC)', 'mode', 'machine', 'load (start → end)', 'commit', 'time', 'checks'],
    rows: results.map((r) => [
      `[${r.name}](#${anchor(r.title)})`,
      r.environment.date.replace('T', ' ').slice(0, 16),
      modeOf(r.environment),
      machineOf(r.environment),
      r.environment.loadavgStart
        ? `${r.environment.loadavgStart[0]} → ${r.environment.loadavg[0]}`
        : String(r.environment.loadavg[0]),
      r.environment.commit ?? '',
      r.environment.durationSec !== undefined ? `${Math.round(r.environment.durationSec)} s` : '',
      checksLine(r),
    ]),
  });
}

/** GitHub's heading anchor. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

function resultSection(r: StoredResult, resultsLink: string): string {
  const parts = [`## ${r.title}`, ''];
  if (r.description) parts.push(r.description, '');
  parts.push(
    `_${modeOf(r.environment) === 'quick' ? '**Quick run** (short rounds, small sizes: rough numbers)' : 'Full run'}: ${describeEnvironment(r.environment)}. Raw: [${r.name}.json](${resultsLink}/${r.name}.json)._`,
    '',
  );
  for (const t of r.tables) parts.push(renderTable(t), '');
  if (r.checks?.length) {
    parts.push('**Checks**', '');
    for (const c of r.checks) parts.push(`- ${c.pass ? 'PASS' : '**FAIL**'} — ${c.name}: ${c.detail}`);
    parts.push('');
  }
  if (r.notes?.length) {
    parts.push('**Notes**', '');
    for (const n of r.notes) parts.push(`- ${n}`);
    parts.push('');
  }
  return parts.join('\n');
}

function performanceDoc(
  results: StoredResult[],
  missing: string[],
  unreadable: { file: string; reason: string }[],
  charts: { chart: boolean; scaling: boolean },
  paths: ReportPaths,
  profile: string | null,
): string {
  const docsDir = dirname(paths.docs);
  const resultsLink = relative(docsDir, paths.resultsDir);
  const byName = new Map(results.map((r) => [r.name, r]));
  const parts = [
    '# Performance',
    '',
    '<!-- Generated by bench/report.ts from bench/results/*.json (`npm run bench:report`). Do not edit: rerun. -->',
    '',
    'Every number below was measured by `npm run bench` (bench/*.bench.ts) on the machine named with it.',
    'Each benchmark measures its baselines in the same run, interleaved round by round with the cases they',
    'compare to, so ratios share machine conditions; read the ratios rather than the absolute numbers, which',
    'depend on the machine and on what else ran on it (the load average is recorded with each run).',
    '',
  ];
  const lines = headlines(byName);
  if (lines.length) parts.push('## Summary', '', ...lines.map((l) => `- ${l}`), '');
  if (charts.chart) parts.push(`![Throughput ratios per peer](${relative(docsDir, paths.chart)})`, '');
  if (charts.scaling) parts.push(`![Scaling curves](${relative(docsDir, paths.scalingChart)})`, '');
  parts.push('## Runs', '');
  if (results.length) parts.push(runsTable(results), '');
  if (missing.length) {
    parts.push(
      `No results yet for: ${missing.map((m) => `\`${m}\``).join(', ')} (run \`npm run bench -- ${missing.join(' ')}\`).`,
      '',
    );
  }
  for (const u of unreadable) parts.push(`Unreadable result file \`${u.file}\`: ${u.reason}.`, '');
  parts.push(
    '## Method',
    '',
    '- `npm run bench` runs every benchmark (`npm run bench -- <names>` a subset, `--quick` for short rounds and small sizes), writes `bench/results/<name>.json` and `.md`, then regenerates this page, the charts and the README summary (`npm run bench:report` does only that).',
    '- Throughput: each case is warmed up, then timed over several rounds; cases compared with each other are interleaved round by round (rotating the order). Reported: the median over rounds and the spread ((max − min) / median). Ratios are medians of per-round ratios.',
    '- Slow or destructive operations (namespace revokes) are timed per call: untimed set-up, then enough calls for a round to last a few ms; in-process work can be timed on the process CPU clock, immune to other processes on a shared machine.',
    '- "Quick" results come from short smoke runs and are marked as such; the full run is the reference.',
    '',
  );
  if (profile !== null) parts.push('## Where the time goes', '', profile.trim(), '');
  for (const r of results) parts.push(resultSection(r, resultsLink));
  return `${parts.join('\n').trimEnd()}\n`;
}

function readmeSummary(
  results: StoredResult[],
  missing: string[],
  charts: { chart: boolean; scaling: boolean },
): string {
  const byName = new Map(results.map((r) => [r.name, r]));
  const lines = [
    BEGIN,
    '<!-- Generated by `npm run bench:report` from bench/results/*.json: edits here are overwritten. -->',
    '',
  ];
  if (results.length === 0) {
    lines.push('No benchmark results yet: run `npm run bench`.', '', END);
    return lines.join('\n');
  }
  const envs = results.map((r) => r.environment);
  const machines = [...new Set(envs.map(machineOf))];
  const dates = envs.map((e) => e.date.slice(0, 10)).sort();
  const quick = results.filter((r) => r.environment.quick).map((r) => r.name);
  lines.push(
    `Latest results (${dates[0] === dates.at(-1) ? dates[0] : `${dates[0]} to ${dates.at(-1)}`}; ${machines.join('; ')}${quick.length ? `; quick runs, rough: ${quick.join(', ')}` : ''}):`,
    '',
    ...headlines(byName).map((l) => `- ${l}`),
  );
  const failed = results.flatMap((r) =>
    (r.checks ?? []).filter((c) => !c.pass).map((c) => `${r.name}: ${c.name}`),
  );
  const total = results.reduce((n, r) => n + (r.checks?.length ?? 0), 0);
  lines.push(
    `- Checks: ${total - failed.length}/${total} pass${failed.length ? ` (failing in ${[...new Set(failed.map((f) => f.split(':')[0]))].join(', ')}: see docs/performance.md)` : ''}.`,
  );
  if (missing.length) lines.push(`- Not run yet: ${missing.join(', ')}.`);
  lines.push('');
  if (charts.chart) lines.push('![Throughput ratios per peer](bench/results/chart.svg)', '');
  else if (charts.scaling) lines.push('![Scaling curves](bench/results/scaling.svg)', '');
  lines.push(
    'Every table, the machines and the method: [docs/performance.md](docs/performance.md); raw results: [bench/results/](bench/results/).',
    END,
  );
  return lines.join('\n');
}

/** Replaces the README's bench region; adds the markers at the end of "## Benchmarks" if absent. */
export function spliceReadme(readme: string, region: string): string | null {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin !== -1 && end > begin) return readme.slice(0, begin) + region + readme.slice(end + END.length);
  const heading = /^## Benchmarks[ \t]*$/m.exec(readme);
  if (!heading) return null;
  const next = /^## /m.exec(readme.slice(heading.index + heading[0].length));
  const at = next ? heading.index + heading[0].length + next.index : readme.length;
  const before = readme.slice(0, at).trimEnd();
  const after = readme.slice(at);
  return `${before}\n\n${region}\n${after ? `\n${after}` : ''}`;
}

export async function generateReport(
  paths: ReportPaths = defaultPaths(),
): Promise<{ written: string[]; missing: string[]; warnings: string[] }> {
  const { results, unreadable } = await loadResults(paths.resultsDir);
  const names = new Set(results.map((r) => r.name));
  const missing = (await expectedNames()).filter((n) => !names.has(n));
  const byName = new Map(results.map((r) => [r.name, r]));
  const written: string[] = [];
  const warnings = unreadable.map((u) => `${u.file}: ${u.reason}`);

  const groups = [...tokenRatios(byName.get('tokens')), ...httpRatios(byName.get('http'))];
  const charts = { chart: groups.length > 0, scaling: false };
  await mkdir(paths.resultsDir, { recursive: true });
  if (charts.chart) {
    const sources = ['tokens', 'http'].filter((n) => byName.has(n));
    await writeFile(
      paths.chart,
      ratioBarChart({
        title: 'jwt-sessions throughput ratios',
        caption: `Log scale. Tokens: right of 1x = jwt-sessions faster. HTTP: 1x = as fast as no auth; grey = other libraries.\nFrom ${sources.map((n) => `${n} (${byName.get(n)!.environment.date.slice(0, 10)}, ${modeOf(byName.get(n)!.environment)})`).join(', ')}.`,
        groups,
      }),
    );
    written.push(paths.chart);
  }
  const scaling = byName.get('scaling')?.data as ScalingData | undefined;
  if (scaling?.byNamespaceSize) {
    charts.scaling = true;
    const env = byName.get('scaling')!.environment;
    await writeFile(
      paths.scalingChart,
      lineCharts(
        `Scaling of namespace operations and memory (${env.date.slice(0, 10)}, ${modeOf(env)} run, ${env.cpu} × ${env.cores})`,
        scalingPanels(scaling),
      ),
    );
    written.push(paths.scalingChart);
  }

  await mkdir(dirname(paths.docs), { recursive: true });
  // Written by hand from --cpu-prof profiles (bench/results/profile.md): included as is.
  const profilePath = join(paths.resultsDir, 'profile.md');
  const profile = existsSync(profilePath) ? await readFile(profilePath, 'utf8') : null;
  await writeFile(paths.docs, performanceDoc(results, missing, unreadable, charts, paths, profile));
  written.push(paths.docs);

  if (existsSync(paths.readme)) {
    // Read right before writing: only the marked region changes, whatever else was edited meanwhile.
    const spliced = spliceReadme(
      await readFile(paths.readme, 'utf8'),
      readmeSummary(results, missing, charts),
    );
    if (spliced === null) warnings.push(`${paths.readme}: no "## Benchmarks" section; summary not written`);
    else {
      await writeFile(paths.readme, spliced);
      written.push(paths.readme);
    }
  }
  return { written, missing, warnings };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await generateReport();
  for (const file of report.written) console.log(`written: ${relative(process.cwd(), file)}`);
  if (report.missing.length) console.log(`no results yet for: ${report.missing.join(', ')}`);
  for (const w of report.warnings) console.warn(`warning: ${w}`);
}

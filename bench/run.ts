/**
 * Runs the benchmarks: `npm run bench` (all `bench/*.bench.ts`), `npm run bench -- tokens scaling`
 * (those whose file stem or `name` contains an argument), `--quick` (or BENCH_QUICK=1) for short
 * rounds and small sizes, `--list` to list them. See lib/harness.ts for how to add one.
 *
 * Each benchmark's result is printed and written to bench/results/<name>.json and .md with the
 * machine and run conditions; a benchmark that throws is reported and the others still run. At the
 * end the report (bench/report.ts: docs/performance.md, the charts, the README summary) is
 * regenerated from every result on disk, unless `--no-report`. Exits non-zero when a benchmark threw
 * or one of its checks failed, unless `--no-fail`.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type Benchmark,
  defaultOptions,
  environment,
  loadAverages,
  renderResult,
  writeResults,
} from './lib/harness.js';
import { generateReport } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const noFail = args.includes('--no-fail');
const filters = args.filter((a) => !a.startsWith('--'));

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const stemOf = (file: string) => file.slice(0, -'.bench.ts'.length);
const stemMatches = (file: string) => filters.length === 0 || filters.some((f) => stemOf(file).includes(f));
// Import only what may be selected: a benchmark being written elsewhere must not break this run.
// A filter that matches no file stem may still match a benchmark's `name`, so then load them all.
const allStemsMatch = filters.every((f) => files.some((file) => stemOf(file).includes(f)));
const candidates = args.includes('--list') || !allStemsMatch ? files : files.filter(stemMatches);

const selected: { file: string; bench: Benchmark }[] = [];
let failed = 0;
for (const file of candidates) {
  let bench: Benchmark | undefined;
  try {
    bench = ((await import(pathToFileURL(join(here, file)).href)) as { default?: Benchmark }).default;
  } catch (error) {
    console.error(`${file}: failed to load: ${(error as Error).stack ?? String(error)}`);
    if (stemMatches(file)) failed++;
    continue;
  }
  if (!bench || typeof bench.run !== 'function') {
    console.error(`${file}: no default export from defineBenchmark(); skipped`);
    continue;
  }
  if (filters.length === 0 || filters.some((f) => stemOf(file).includes(f) || bench.name.includes(f))) {
    selected.push({ file, bench });
  }
}

if (args.includes('--list')) {
  for (const { file, bench } of selected) console.log(`${stemOf(file).padEnd(10)} ${bench.description}`);
  process.exit(0);
}
if (selected.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')} (have: ${files.map(stemOf).join(', ')})`);
  process.exit(2);
}

for (const { file, bench } of selected) {
  console.log(`\n▶ ${bench.name} (${file}): ${bench.description}${quick ? ' [quick]' : ''}`);
  const loadavgStart = loadAverages();
  const started = performance.now();
  try {
    const result = await bench.run({
      quick,
      options: defaultOptions(quick),
      log: (m) => console.log(`  ${m}`),
    });
    const env = environment(quick, { loadavgStart, durationSec: (performance.now() - started) / 1000 });
    console.log(`\n${renderResult(result, env)}`);
    const paths = await writeResults(result, env);
    console.log(`  written: ${paths.md}, ${paths.json} (${env.durationSec!.toFixed(1)} s)`);
    failed += result.checks?.filter((c) => !c.pass).length ?? 0;
  } catch (error) {
    // Keep the previous result file (if any): the report shows its date.
    console.error(`\n✗ ${bench.name} failed: ${(error as Error).stack ?? String(error)}`);
    failed++;
  }
}

if (!args.includes('--no-report')) {
  try {
    const report = await generateReport();
    console.log(`\nreport: ${report.written.join(', ')}`);
    if (report.missing.length) console.log(`  no results yet for: ${report.missing.join(', ')}`);
    for (const w of report.warnings) console.warn(`  warning: ${w}`);
  } catch (error) {
    console.error(`\nreport failed: ${(error as Error).stack ?? String(error)}`);
    failed++;
  }
}
if (failed > 0 && !noFail) console.error(`\n${failed} failure(s) (failed checks or benchmarks)`);
// Exit explicitly: a client a benchmark forgot to close (or a driver's lingering timer) must not
// keep the runner alive after the results are written.
process.exit(failed > 0 && !noFail ? 1 : 0);

/**
 * Runs the benchmarks: `npm run bench` (all `bench/*.bench.ts`), `npm run bench -- tokens` (those
 * whose file stem or `name` matches an argument), `--quick` for short rounds. See lib/harness.ts for
 * how to add one. Exits non-zero when a benchmark's checks fail, unless `--no-fail`.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Benchmark, defaultOptions, environment, renderResult, writeResults } from './lib/harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const noFail = args.includes('--no-fail');
const filters = args.filter((a) => !a.startsWith('--'));

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const selected: { file: string; bench: Benchmark }[] = [];
for (const file of files) {
  const stem = file.slice(0, -'.bench.ts'.length);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default?: Benchmark };
  const bench = mod.default;
  if (!bench || typeof bench.run !== 'function') {
    console.error(`${file}: no default export from defineBenchmark(); skipped`);
    continue;
  }
  if (filters.length === 0 || filters.some((f) => stem.includes(f) || bench.name.includes(f))) {
    selected.push({ file, bench });
  }
}
if (selected.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')} (have: ${files.join(', ')})`);
  process.exit(2);
}

let failed = 0;
for (const { file, bench } of selected) {
  console.log(`\n▶ ${bench.name} (${file}): ${bench.description}`);
  const started = performance.now();
  const result = await bench.run({
    quick,
    options: defaultOptions(quick),
    log: (m) => console.log(`  ${m}`),
  });
  const env = environment(quick);
  console.log(`\n${renderResult(result, env)}`);
  const paths = await writeResults(result, env);
  console.log(
    `  written: ${paths.md}, ${paths.json} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  failed += result.checks?.filter((c) => !c.pass).length ?? 0;
}
if (failed > 0 && !noFail) {
  console.error(`\n${failed} check(s) failed`);
  process.exitCode = 1;
}

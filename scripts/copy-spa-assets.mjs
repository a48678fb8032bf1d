// Build step for the demo SPA: its scripts (built on the public browser client, src/client)
// bundled into one ES module by esbuild, next to its static files.
//   node scripts/copy-spa-assets.mjs [outDir]      (default dist/server/spa)
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const out = process.argv[2] ?? 'dist/server/spa';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/server/spa/app.ts'],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'styles.css']) copyFileSync(`src/server/spa/${file}`, join(out, file));

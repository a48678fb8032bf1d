// `npm run build` (and `prepack`): the ESM build in dist/, the same modules as CommonJS in dist/cjs/
// (for require(); its package.json makes Node and TypeScript read them as CommonJS), and the SPA.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compile = (project) => execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });

// A clean slate, so no module of a deleted source file lingers into the tarball.
rmSync('dist', { recursive: true, force: true });
compile('tsconfig.build.json');
compile('tsconfig.cjs.json');
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);

// The demo SPA: type-checked with the DOM library, then bundled (with the browser client) by esbuild.
compile('tsconfig.spa.json');
execFileSync(process.execPath, ['scripts/copy-spa-assets.mjs'], { stdio: 'inherit' });

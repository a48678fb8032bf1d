/**
 * The demo SPA's files, read once at start and served from memory: `/` is index.html and
 * `/assets/<file>` the stylesheet and the compiled scripts. Only a fixed set of file types is
 * served, never a path with a directory in it, and every page gets a strict Content Security Policy
 * (scripts and styles from this origin only, no inline code, no framing).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
});

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

export interface SpaFiles {
  dir: string;
  index: StaticFile | null;
  /** By file name (no directories): app.js, styles.css, ... */
  assets: ReadonlyMap<string, StaticFile>;
  /** Set when the SPA is missing or its scripts are not built. */
  problem?: string;
}

/** Where the built SPA lives by default: `spa/` next to this module (dist/server/spa after a build). */
export function defaultSpaDir(): string {
  return fileURLToPath(new URL('./spa/', import.meta.url));
}

function file(path: string, type: string): StaticFile {
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

export function loadSpa(dir = defaultSpaDir()): SpaFiles {
  const assets = new Map<string, StaticFile>();
  if (!existsSync(dir))
    return { dir, index: null, assets, problem: `the SPA directory ${dir} does not exist` };
  for (const name of readdirSync(dir)) {
    const dot = name.lastIndexOf('.');
    const ext = dot === -1 ? '' : name.slice(dot);
    const type = TYPES[name.endsWith('.js.map') ? '.map' : ext];
    if (type === undefined || name === 'index.html' || name.endsWith('.ts')) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    assets.set(name, file(path, type));
  }
  const indexPath = join(dir, 'index.html');
  const index = existsSync(indexPath) ? file(indexPath, TYPES['.html']!) : null;
  const spa: SpaFiles = { dir, index, assets };
  if (index === null) spa.problem = `no index.html in ${dir}`;
  else if (!assets.has('app.js')) spa.problem = `the SPA scripts are not built in ${dir} (run npm run build)`;
  return spa;
}

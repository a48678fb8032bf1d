/** What the package tests know of the package: its manifest, its quickstarts and what they import. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
};

/** The quickstarts: examples/*.ts. */
export const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((file) => file.endsWith('.ts'));

export function readExample(file: string): string {
  return readFileSync(join(ROOT, 'examples', file), 'utf8');
}

/** `express` of 'express', `@hono/node-server` of '@hono/node-server/x'. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The packages a file imports by bare name, other than this one. */
export function importedPackages(source: string): string[] {
  const names = [...source.matchAll(/^import [^;]*? from '([^']+)';$/gm)].map((match) => match[1]!);
  return [...new Set(names.filter((name) => !name.startsWith('node:')).map(packageOf))].filter(
    (name) => name !== manifest.name,
  );
}

/** The DefinitelyTyped package of each name, where one exists (this repository has the ones it needs). */
export const typesOf = (names: string[]) =>
  names
    .map((name) => `@types/${name.replace(/^@(.*)\//, '$1__')}`)
    .filter((types) => existsSync(join(ROOT, 'node_modules', types)));

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm ci` refuses a lockfile that lacks a package some platform would install, so a lockfile
 * written on one machine must still list every platform's optional binaries (biome, esbuild,
 * rollup…). `npm install --package-lock-only` writes such a lockfile; a plain `npm install` on a
 * machine whose registry mirror lacks them does not. This test fails on an incomplete lockfile.
 */
interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

/** Where npm would find `name` when required from the package installed at `from`. */
function resolves(from: string, name: string): boolean {
  let dir = from;
  for (;;) {
    if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up === -1 ? '' : dir.slice(0, up);
  }
}

describe('package-lock.json', () => {
  it('is a v3 lockfile whose root matches package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    const root = lock.packages[''] as LockEntry & { devDependencies?: Record<string, string> };
    expect(root.dependencies ?? {}).toEqual(manifest.dependencies ?? {});
    expect(root.devDependencies ?? {}).toEqual(manifest.devDependencies ?? {});
  });

  it("lists every platform's optional packages, so `npm ci` works on any machine", () => {
    const missing: string[] = [];
    let optionalSeen = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        optionalSeen++;
        if (!resolves(path, name)) missing.push(`${name} (wanted by ${path || 'the root'})`);
      }
    }
    expect(optionalSeen).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('resolves every non-optional dependency of every locked package', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.dependencies ?? {})) {
        if (!resolves(path, name)) missing.push(`${name} (wanted by ${path || 'the root'})`);
      }
    }
    expect(missing).toEqual([]);
  });
});

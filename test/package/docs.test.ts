/**
 * The install instructions tell the truth: docs/quickstart.md installs, before each quickstart, the
 * packed tarball of this version, exactly the packages that quickstart imports, and tsx (plus the
 * type packages of those imports) — what test/package/tarball.test.ts gives the quickstarts. The
 * README says how to make and install the tarball.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, importedPackages, manifest, ROOT, readExample, typesOf } from './support.js';

const TARBALL = `${manifest.name}-${manifest.version}.tgz`;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The `npm install …` line of the last shell block before `position`. */
function installLineBefore(doc: string, position: number): string {
  const block = doc.lastIndexOf('```sh\n', position);
  const lines = doc.slice(block, doc.indexOf('```\n', block + 6)).split('\n');
  return lines.find((line) => line.startsWith('npm install ')) ?? '';
}

describe('docs/quickstart.md', () => {
  const doc = read('docs/quickstart.md');

  it.each(EXAMPLES)('installs the tarball, what %s imports, and tsx', (file) => {
    const source = readExample(file);
    const position = doc.indexOf(`\`\`\`ts\n${source}\`\`\``);
    expect(position, `${file} verbatim`).toBeGreaterThan(0);
    const [runtime, dev] = installLineBefore(doc, position).split(' && ');
    const imports = importedPackages(source);
    expect(new Set(runtime?.split(' ').slice(2))).toEqual(new Set([`/path/to/${TARBALL}`, ...imports]));
    expect(new Set(dev?.split(' ').slice(3))).toEqual(new Set(['tsx', ...typesOf(imports)]));
  });

  it(`says how to make ${TARBALL}`, () => {
    expect(doc).toContain(`\`npm ci && npm pack\``);
    expect(doc).toContain(`\`${TARBALL}\``);
  });
});

describe('README.md', () => {
  it(`says how to make and install ${TARBALL}, and to run the quickstarts with tsx`, () => {
    const readme = read('README.md');
    expect(readme).toContain('npm ci && npm pack');
    expect(readme).toContain(`npm install /path/to/${TARBALL}`);
    expect(readme).toContain('`PORT=3000 npx tsx <file>`');
  });
});

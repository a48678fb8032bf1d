/**
 * Runs the CLI two ways: in-process through `run(argv, io)` with a captured Io (and a clock the test
 * controls), and as the real executable in a child process (exit codes, stdout/stderr, stdin).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { run } from '../../src/cli/cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Seconds since the epoch; default the real clock. */
  now?: number;
  stdin?: string;
}

export async function cli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    now: () => options.now ?? Date.now() / 1000,
    env: options.env ?? {},
    stdin: async () => options.stdin ?? '',
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `cli` with --json: the parsed output (throws with stderr when the command failed). */
export async function cliJson<T = Record<string, unknown>>(
  args: string[],
  options: RunOptions = {},
): Promise<T> {
  const result = await cli([...args, '--json'], options);
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.err}`);
  return JSON.parse(result.out) as T;
}

/** The real executable: `node --import tsx src/cli/main.ts ...args`. */
export function cliProcess(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  return new Promise<CliResult>((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, out, err }));
    child.stdin.end(options.stdin ?? '');
  });
}

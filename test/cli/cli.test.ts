/**
 * The `jwt-sessions` command itself: help for every command, the version, usage errors (exit 2), and
 * the real executable in a child process (exit codes, stdout vs stderr, standard input).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSessions } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { cli, cliProcess } from './support.js';

const COMMANDS = ['keygen', 'inspect', 'sessions', 'migrate'];
const VERSION = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
).version;

describe('help and usage', () => {
  it('--help lists every command with the exit codes, on stdout, exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const result = await cli([flag]);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^Usage: jwt-sessions <command>/);
      for (const command of COMMANDS) expect(result.out).toMatch(new RegExp(`^ {2}${command} `, 'm'));
      expect(result.out).toContain('Exit codes: 0 ok, 1 failure, 2 usage error.');
    }
  });

  it("<command> --help and help <command>: that command's usage and an example, exit 0", async () => {
    for (const command of COMMANDS) {
      const viaFlag = await cli([command, '--help']);
      expect(viaFlag.code, command).toBe(0);
      expect(viaFlag.out).toMatch(new RegExp(`^Usage: jwt-sessions ${command}`));
      expect(viaFlag.out).toContain('Examples:');
      expect((await cli(['help', command])).out).toBe(viaFlag.out);
      expect((await cli([command, '-h'])).out).toBe(viaFlag.out);
    }
  });

  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-v'])
      expect(await cli([flag])).toMatchObject({ code: 0, out: VERSION });
  });

  it('no command, an unknown command or help topic: usage on stderr, exit 2', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toMatch(/^Usage: jwt-sessions/);
    for (const args of [['deploy'], ['help', 'deploy'], ['--frobnicate']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toMatch(/^jwt-sessions: unknown command "[^"]+"\nSee "jwt-sessions --help"\.$/);
    }
  });
});

describe('the executable', () => {
  const secret = 'process-test-secret-of-32-bytes!!';

  it('exit codes 0, 1 and 2 reach the shell; output goes to stdout, errors to stderr', async () => {
    const ok = await cliProcess(['keygen', '--alg', 'HS256', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ alg: 'HS256' });
    expect(ok.err).toBe('');

    const failure = await cliProcess(['inspect', 'not-a-token']);
    expect(failure.code).toBe(1);
    expect(failure.out).toBe('');
    expect(failure.err).toMatch(/^jwt-sessions: not a valid token/);

    const usage = await cliProcess(['keygen', '--alg']);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('See "jwt-sessions keygen --help".');
  });

  it('inspect - reads the token from standard input and verifies it', async () => {
    const sessions = createSessions({
      keys: { signing: { alg: 'HS256', key: secret } },
      store: new MemoryStore(),
    });
    const pair = await sessions.login({ payload: { user_id: 7 } });
    const result = await cliProcess(['inspect', '-', '--secret', secret], { stdin: `${pair.access}\n` });
    expect(result.code).toBe(0);
    expect(result.out).toContain('Signature: valid (HS256, key from --secret)');
    expect(result.out).toMatch(/user_id\s+7/);
    const tampered = `${pair.access.slice(0, -4)}AAAA`;
    const bad = await cliProcess(['inspect', tampered, '--secret', secret]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('INVALID');
  });

  it('STORE_URL from the environment reaches the sessions command', async () => {
    const result = await cliProcess(['sessions', 'list', 'user:nobody'], {
      env: { STORE_URL: 'sqlite::memory:' },
    });
    expect(result).toMatchObject({ code: 0, out: 'No live sessions in namespace user:nobody.\n' });
  });
});

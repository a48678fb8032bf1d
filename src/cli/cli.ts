/**
 * The `jwt-sessions` command: keys, token inspection, session administration and SQL migrations.
 * Exit codes: 0 ok, 1 runtime error, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { INSPECT_HELP, inspectCommand } from './inspect.js';
import { KEYGEN_HELP, keygenCommand } from './keygen.js';
import { MIGRATE_HELP, migrateCommand } from './migrate.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, type Io, UsageError } from './output.js';
import { SESSIONS_HELP, sessionsCommand } from './sessions.js';

export const MAIN_HELP = `Usage: jwt-sessions <command> [options]

Commands:
  keygen [--alg ALG] [--json]                  generate a secret or a key pair (PEM, JWK, JWKS)
  inspect <token> [--key FILE|--secret S]      decode a token, verify it when given a key
  sessions list <namespace>                    list the live sessions of a namespace
  sessions revoke <id>|--namespace NS|--all    end sessions
  migrate                                      create/upgrade the schema of a SQL store

Stores come from STORE_URL or --store: redis://host:port, redis-cluster://h:p,h:p,
postgres://..., mysql://..., sqlite:path; add ?prefix=NAME for a Redis key prefix
or SQL table prefix other than the default (jwts: / jwt_).

Options:
  -h, --help     help (also: jwt-sessions <command> --help)
  -v, --version  print the version

Exit codes: 0 ok, 1 failure, 2 usage error.`;

const COMMANDS: Record<string, { run: (args: string[], io: Io) => Promise<number>; help: string }> = {
  keygen: { run: keygenCommand, help: KEYGEN_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  sessions: { run: sessionsCommand, help: SESSIONS_HELP },
  migrate: { run: migrateCommand, help: MIGRATE_HELP },
};

function version(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'jwt-sessions' && pkg.version) return pkg.version;
    } catch {
      // try the next location (src/cli vs dist/cli)
    }
  }
  return 'unknown';
}

/** Runs the CLI with these arguments (no `node`/script name); resolves the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      const topic = command === 'help' ? rest[0] : undefined;
      if (topic !== undefined) {
        const entry = COMMANDS[topic];
        if (!entry) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
        io.out(entry.help);
        return 0;
      }
      if (command === undefined) {
        io.err(MAIN_HELP);
        return EXIT_USAGE;
      }
      io.out(MAIN_HELP);
      return 0;
    }
    if (command === '-v' || command === '--version') {
      io.out(version());
      return 0;
    }
    const entry = COMMANDS[command];
    if (!entry) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    return await entry.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ? `jwt-sessions ${error.command} --help` : 'jwt-sessions --help';
      io.err(`jwt-sessions: ${error.message}\nSee "${help}".`);
      return EXIT_USAGE;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      const topic = command !== undefined && COMMANDS[command] ? `${command} --help` : '--help';
      io.err(`jwt-sessions: ${(error as Error).message}\nSee "jwt-sessions ${topic}".`);
      return EXIT_USAGE;
    }
    if (error instanceof CliError) {
      io.err(`jwt-sessions: ${error.message}`);
      return EXIT_FAILURE;
    }
    io.err(`jwt-sessions: unexpected error: ${error instanceof Error ? error.message : inspect(error)}`);
    return EXIT_FAILURE;
  }
}

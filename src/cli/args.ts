/**
 * Argument parsing for the CLI commands: `util.parseArgs`, except that values beginning with `-`
 * are taken as typed. Session ids and secrets are base64url, so one in 64 begins with `-`:
 * `sessions revoke -aYL5…` is a session id, not the options `-a -Y -L`, and `--secret -4z…` is a
 * secret, not a missing value. What looks like an option name (`--word`, a known `-h`) stays one,
 * so a mistyped `--jsno` is still a usage error.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--name` or `--name=…` with a lower-case, dash-separated name: the shape of an option. */
const LONG_OPTION = /^--[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:=|$)/;

/** The parsed option values: strings for string options, booleans for flags (no `multiple`). */
type Values<T extends Options> = { [K in keyof T]?: T[K]['type'] extends 'string' ? string : boolean };

export function parseCommandArgs<T extends Options>(
  args: readonly string[],
  options: T,
): { values: Values<T>; positionals: string[] } {
  const shorts = new Set(
    Object.values(options)
      .map((option) => option.short)
      .filter((short) => short !== undefined),
  );
  const longName = (arg: string) => arg.slice(2).split('=', 1)[0]!;
  const isKnownOption = (arg: string) =>
    arg.startsWith('--') ? Object.hasOwn(options, longName(arg)) : arg.length === 2 && shorts.has(arg[1]!);
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (isKnownOption(arg)) {
      const option = arg.startsWith('--') && !arg.includes('=') ? options[longName(arg)] : undefined;
      const value = args[i + 1];
      // A string option takes the next argument whatever its first character, unless that is an option.
      if (option?.type === 'string' && value !== undefined && !isKnownOption(value)) {
        flags.push(`${arg}=${value}`);
        i++;
      } else {
        flags.push(arg);
      }
    } else if (LONG_OPTION.test(arg)) {
      flags.push(arg); // an unknown option: parseArgs reports it
    } else {
      positionals.push(arg);
    }
  }
  const parsed = parseArgs({ args: [...flags, '--', ...positionals], options, allowPositionals: true });
  return { values: parsed.values as Values<T>, positionals: parsed.positionals };
}

/** Small output helpers for the CLI: errors with exit codes, human durations, aligned tables. */

/** Exit codes: 0 ok, 1 runtime error (bad token, store down, ...), 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the command was called: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** A failure while doing the work: printed as is, exit code 1. */
export class CliError extends Error {}

/**
 * What an error says, on one line: the library's typed errors name the cause (a store's message
 * carries the driver's reason and, for a configuration problem, the fix); anything else gives
 * its own message, or its cause's when it has none.
 */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (error.message === '' && cause instanceof Error) return describeFailure(cause);
  return error.message;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Seconds since the epoch. */
  now: () => number;
  env: Record<string, string | undefined>;
  /** Reads all of standard input (for `inspect -`). */
  stdin: () => Promise<string>;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** A rough, human duration: "45 s", "4 min", "3 h 20 min", "6 days". */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s} s`;
  // Rounded to whole minutes first, so 59 min 51 s reads "1 h", not "60 min".
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  if (s < 86_400) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m === 0 || h >= 10 ? `${h} h` : `${h} h ${m} min`;
  }
  return plural(Math.round(s / 86_400), 'day');
}

/** "in 4 min" / "4 min ago" relative to now (seconds). */
export function relative(at: number, now: number): string {
  const delta = at - now;
  if (Math.abs(delta) < 1) return 'now';
  return delta > 0 ? `in ${humanDuration(delta)}` : `${humanDuration(delta)} ago`;
}

export function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace('.000Z', 'Z');
}

/** Left-aligned columns separated by two spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

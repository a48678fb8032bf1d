/** `jwt-sessions migrate [--store URL] [--json]`: creates or upgrades the schema of a SQL store. */
import { openStore } from '../server/store-open.js';
import { describeStoreUrl } from '../server/store-url.js';
import { parseCommandArgs } from './args.js';
import { CliError, describeFailure, type Io, json, UsageError } from './output.js';
import { storeSpecFrom } from './sessions.js';

export const MIGRATE_HELP = `Usage: jwt-sessions migrate [--store URL] [--json]

Creates or upgrades the session tables of a SQL store (idempotent: running it again
changes nothing). Redis and memory stores need no migration.

Options:
  --store URL   postgres://..., mysql://..., sqlite:path (default: $STORE_URL);
                ?prefix=NAME sets the table prefix (default jwt_)
  --json        print JSON
  -h, --help    show this help

Examples:
  STORE_URL=postgres://postgres@127.0.0.1:5432/app jwt-sessions migrate
  jwt-sessions migrate --store sqlite:./sessions.db`;

export async function migrateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    store: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(MIGRATE_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'migrate');
  const spec = storeSpecFrom(values.store, io, 'migrate');
  const where = describeStoreUrl(spec);
  if (spec.kind === 'memory' || spec.kind === 'redis' || spec.kind === 'redis-cluster') {
    if (values.json) io.out(json({ store: where, migrated: false, reason: 'not a SQL store' }));
    else io.out(`Nothing to migrate: ${where} is not a SQL store.`);
    return 0;
  }
  const opened = await openStore(spec, { migrate: false }).catch((error: unknown) => {
    throw new CliError(`cannot open the store ${where}: ${describeFailure(error)}`);
  });
  try {
    if (opened.migrate === undefined) throw new CliError(`${where} has no migrations`);
    await opened.migrate();
  } catch (error) {
    if (error instanceof CliError) throw error;
    // The store's message names itself, the cause and the fix.
    throw new CliError(`migration failed: ${describeFailure(error)}`);
  } finally {
    await opened.close().catch(() => {});
  }
  if (values.json) io.out(json({ store: where, migrated: true }));
  else io.out(`Migrated ${where}: the session schema is up to date.`);
  return 0;
}

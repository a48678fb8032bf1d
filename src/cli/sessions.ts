/**
 * `jwt-sessions sessions list <namespace>` and `jwt-sessions sessions revoke <id> | --namespace NS | --all`,
 * against the store of STORE_URL (or --store), through the session engine's public API.
 */
import { randomBytes } from 'node:crypto';
import { createSessions, type SessionInfo, type Sessions } from '../index.js';
import { openStore } from '../server/store-open.js';
import { describeStoreUrl, parseStoreUrl, type StoreSpec } from '../server/store-url.js';
import { parseCommandArgs } from './args.js';
import { CliError, describeFailure, humanDuration, type Io, json, table, UsageError } from './output.js';

export const SESSIONS_HELP = `Usage: jwt-sessions sessions <list | revoke> [options]

  sessions list <namespace> [--json]
      The live sessions of a namespace (the reference server uses "user:<id>",
      e.g. user:u_demo), with created / last used / expiry times and device.

  sessions revoke <session-id>        ends one session (exit 1 if no live session has that id;
                                      an id beginning with "-" is taken as typed)
  sessions revoke --namespace NS      ends every session of a namespace
  sessions revoke --all               ends every session in the store

Options:
  --store URL   the store (default: $STORE_URL): redis://..., redis-cluster://h:p,h:p,
                postgres://..., mysql://..., sqlite:path
                (?prefix=NAME: the key / table prefix the server uses)
  --json        print JSON
  -h, --help    show this help

Examples:
  STORE_URL=redis://127.0.0.1:6379 jwt-sessions sessions list user:u_demo
  jwt-sessions sessions revoke --namespace user:u_alice --store sqlite:./sessions.db
  jwt-sessions sessions revoke 3q2-7wEjRUa9d4c5ZxkPLw --json`;

export function storeSpecFrom(flag: string | undefined, io: Io, command: string): StoreSpec {
  const raw = flag ?? io.env.STORE_URL;
  if (raw === undefined || raw.trim() === '') {
    throw new UsageError('no store: set STORE_URL or pass --store URL', command);
  }
  let spec: StoreSpec;
  try {
    spec = parseStoreUrl(raw);
  } catch (error) {
    throw new UsageError(`invalid store URL: ${(error as Error).message}`, command);
  }
  return spec;
}

/** Runs `work` with an engine over the store; the keys are irrelevant to listing and revoking. */
async function withEngine<T>(spec: StoreSpec, work: (sessions: Sessions) => Promise<T>): Promise<T> {
  const opened = await openStore(spec).catch((error: unknown) => {
    throw new CliError(`cannot open the store ${describeStoreUrl(spec)}: ${describeFailure(error)}`);
  });
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: randomBytes(32) } },
    store: opened.store,
  });
  try {
    return await work(sessions);
  } catch (error) {
    throw new CliError(describeFailure(error));
  } finally {
    await opened.close().catch(() => {});
  }
}

function sessionJson(s: SessionInfo) {
  return {
    id: s.id,
    namespace: s.namespace,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
  };
}

export async function sessionsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    store: { type: 'string' },
    namespace: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, ...rest] = positionals;
  if (values.help) {
    io.out(SESSIONS_HELP);
    return 0;
  }
  if (sub === undefined) throw new UsageError('say "list" or "revoke"', 'sessions');

  if (sub === 'list') {
    if (values.namespace !== undefined || values.all) {
      throw new UsageError('list takes a namespace argument: sessions list <namespace>', 'sessions');
    }
    if (rest.length !== 1) throw new UsageError('sessions list needs exactly one namespace', 'sessions');
    const namespace = rest[0]!;
    const spec = checkShared(storeSpecFrom(values.store, io, 'sessions'));
    const list = await withEngine(spec, (sessions) => sessions.listSessions(namespace));
    if (values.json) {
      io.out(json({ namespace, sessions: list.map(sessionJson) }));
      return 0;
    }
    if (list.length === 0) {
      io.out(`No live sessions in namespace ${namespace}.`);
      return 0;
    }
    const now = io.now() * 1000;
    const ago = (d: Date) => `${humanDuration((now - d.getTime()) / 1000)} ago`;
    io.out(
      table(
        ['ID', 'CREATED', 'LAST USED', 'EXPIRES', 'IP', 'USER AGENT'],
        list.map((s) => [
          s.id,
          ago(s.createdAt),
          ago(s.lastUsedAt),
          `in ${humanDuration((s.expiresAt.getTime() - now) / 1000)}`,
          s.ip ?? '-',
          s.userAgent ? s.userAgent.slice(0, 60) : '-',
        ]),
      ),
    );
    io.out(`${list.length} session${list.length === 1 ? '' : 's'} in ${namespace}.`);
    return 0;
  }

  if (sub === 'revoke') {
    const targets = [rest.length > 0, values.namespace !== undefined, values.all === true].filter(
      Boolean,
    ).length;
    if (targets !== 1) {
      throw new UsageError('revoke needs exactly one of: <session-id>, --namespace NS, --all', 'sessions');
    }
    if (rest.length > 1) throw new UsageError('revoke takes one session id', 'sessions');
    if (values.namespace !== undefined && values.namespace.trim() === '') {
      throw new UsageError('--namespace must not be empty', 'sessions');
    }
    const spec = checkShared(storeSpecFrom(values.store, io, 'sessions'));
    let scope: string;
    const revoked = await withEngine(spec, (sessions) => {
      if (values.all) {
        scope = 'all sessions';
        return sessions.revokeAll();
      }
      if (values.namespace !== undefined) {
        scope = `namespace ${values.namespace}`;
        return sessions.revokeNamespace(values.namespace);
      }
      scope = `session ${rest[0]}`;
      return sessions.revokeSession(rest[0]!);
    });
    if (revoked === 0 && values.all !== true && values.namespace === undefined) {
      throw new CliError(`no live session with id ${rest[0]} (unknown, expired or already revoked)`);
    }
    if (values.json) io.out(json({ revoked }));
    else io.out(`Revoked ${revoked} session${revoked === 1 ? '' : 's'} (${scope!}).`);
    return 0;
  }
  throw new UsageError(`unknown sessions command ${JSON.stringify(sub)}; say "list" or "revoke"`, 'sessions');
}

function checkShared(spec: StoreSpec): StoreSpec {
  if (spec.kind === 'memory') {
    throw new UsageError(
      'the memory store lives inside the server process; point STORE_URL/--store at a shared store (redis, postgres, mysql, sqlite)',
      'sessions',
    );
  }
  return spec;
}

/**
 * `jwt-sessions sessions list|revoke` and `jwt-sessions migrate` against real stores: sessions made by
 * a running reference server on the same STORE_URL are listed and ended from the command line, and
 * the server sees the revocation at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/server.js';
import {
  ALICE,
  call,
  DEMO,
  DEMO_NAMESPACE,
  isIso,
  loginHeader,
  type StoreTarget,
  serverOn,
  storeTargets,
  uniquePrefix,
} from '../server/support.js';
import { describeWithService, SERVICE_URLS } from '../support/services.js';
import { cli, cliJson } from './support.js';

const targets = (await storeTargets('cli')).filter((target) => target.name !== 'memory');

interface Listed {
  namespace: string;
  sessions: {
    id: string;
    namespace: string;
    created_at: string;
    last_used_at: string;
    user_agent: string | null;
  }[];
}

function sessionsCommands(target: StoreTarget): void {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serverOn(target.url);
  });
  afterAll(async () => {
    await server?.sessions.revokeAll();
    await server?.close();
    await target.cleanup();
  });

  it('sessions list: the live sessions of a namespace made by the server, as JSON and as a table', async () => {
    const phone = await loginHeader(server, DEMO, { 'user-agent': 'Phone/2.0' });
    const laptop = await loginHeader(server, DEMO, { 'user-agent': 'Laptop/3.1' });
    await loginHeader(server, ALICE);
    const listed = await cliJson<Listed>(['sessions', 'list', DEMO_NAMESPACE, '--store', target.url]);
    expect(listed.namespace).toBe(DEMO_NAMESPACE);
    expect(listed.sessions.map((s) => s.id).sort()).toEqual([phone.session_id, laptop.session_id].sort());
    for (const s of listed.sessions) {
      expect(s.namespace).toBe(DEMO_NAMESPACE);
      expect(isIso(s.created_at) && isIso(s.last_used_at)).toBe(true);
    }
    expect(listed.sessions.map((s) => s.user_agent).sort()).toEqual(['Laptop/3.1', 'Phone/2.0']);

    // STORE_URL from the environment, human output.
    const table = await cli(['sessions', 'list', DEMO_NAMESPACE], { env: { STORE_URL: target.url } });
    expect(table.code).toBe(0);
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED\s+LAST USED\s+EXPIRES\s+IP\s+USER AGENT$/);
    expect(lines.some((line) => line.startsWith(phone.session_id) && line.includes('Phone/2.0'))).toBe(true);
    expect(table.out).toMatch(/in 7 days/);
    expect(lines.at(-1)).toBe(`2 sessions in ${DEMO_NAMESPACE}.`);
  });

  it('sessions revoke <id>: ends that session; the server refuses its tokens at once', async () => {
    const session = await loginHeader(server);
    const result = await cli(['sessions', 'revoke', session.session_id, '--store', target.url]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(`Revoked 1 session (session ${session.session_id}).`);
    expect((await call(server.url, 'GET', '/api/me', { token: session.access_token })).status).toBe(401);
    // The session is gone: said so, exit 1 (never "Revoked 0 sessions" and success).
    for (const args of [[], ['--json']]) {
      const again = await cli(['sessions', 'revoke', session.session_id, '--store', target.url, ...args]);
      expect(again.code).toBe(1);
      expect(again.out).toBe('');
      expect(again.err).toBe(
        `jwt-sessions: no live session with id ${session.session_id} (unknown, expired or already revoked)`,
      );
    }
  });

  it('sessions revoke <id beginning with "-">: the id as typed, before or after the options', async () => {
    // Session ids are base64url: one in 64 begins with "-". Store one such session directly.
    const session = await loginHeader(server);
    const store = server.sessions.store;
    const record = await store.get(session.session_id, Date.now());
    const ids = ['-aYL5qcYzCwVt9aYpd4vmQ', '--YL5qcYzCwVt9aYpd4vmQ', '-h5qcYzCwVt9aYpd4vmQx'];
    for (const id of ids) await store.create({ ...record!, id });
    const listed = await cliJson<Listed>(['sessions', 'list', DEMO_NAMESPACE, '--store', target.url]);
    expect(listed.sessions.map((s) => s.id)).toEqual(expect.arrayContaining(ids));
    const first = await cli(['sessions', 'revoke', ids[0]!, '--store', target.url]);
    expect(first.err).toBe('');
    expect(first).toMatchObject({ code: 0, out: `Revoked 1 session (session ${ids[0]}).` });
    expect(await cliJson(['sessions', 'revoke', '--store', target.url, ids[1]!])).toEqual({ revoked: 1 });
    expect(await cliJson(['sessions', '--store', target.url, 'revoke', ids[2]!])).toEqual({ revoked: 1 });
    const gone = await cli(['sessions', 'revoke', ids[0]!, '--store', target.url]);
    expect(gone.code).toBe(1);
    expect(gone.err).toContain(`no live session with id ${ids[0]}`);
    await server.sessions.revokeSession(session.session_id);
  });

  it('sessions revoke --namespace, then --all: the counts, and only what was asked', async () => {
    await server.sessions.revokeAll();
    const demo = [await loginHeader(server), await loginHeader(server)];
    const alice = await loginHeader(server, ALICE);
    expect(
      await cliJson(['sessions', 'revoke', '--namespace', DEMO_NAMESPACE, '--store', target.url]),
    ).toEqual({
      revoked: 2,
    });
    for (const s of demo)
      expect((await call(server.url, 'GET', '/api/me', { token: s.access_token })).status).toBe(401);
    expect((await call(server.url, 'GET', '/api/me', { token: alice.access_token })).status).toBe(200);
    await loginHeader(server);
    expect(await cliJson(['sessions', 'revoke', '--all', '--store', target.url])).toEqual({ revoked: 2 });
    expect((await call(server.url, 'GET', '/api/me', { token: alice.access_token })).status).toBe(401);
    const empty = await cli(['sessions', 'list', DEMO_NAMESPACE, '--store', target.url]);
    expect(empty.out).toBe(`No live sessions in namespace ${DEMO_NAMESPACE}.`);
  });
}

describe('sessions', () => {
  for (const target of targets) {
    describeWithService(target.available)(`on ${target.name}`, () => sessionsCommands(target));
  }

  it('usage errors exit 2: no store, the memory store, a bad URL, a wrong argument count', async () => {
    const sqlite = `sqlite:${join(mkdtempSync(join(tmpdir(), 'jwt-sessions-cli-')), 's.db')}`;
    for (const [args, text] of [
      [['sessions', 'list', DEMO_NAMESPACE], 'no store: set STORE_URL or pass --store URL'],
      [['sessions', 'list', DEMO_NAMESPACE, '--store', 'memory'], 'the memory store lives inside the server'],
      [['sessions', 'list', DEMO_NAMESPACE, '--store', 'ftp://x'], 'invalid store URL'],
      [['sessions', 'list', '--store', sqlite], 'exactly one namespace'],
      [['sessions', 'revoke', '--store', sqlite], 'exactly one of'],
      [['sessions', 'revoke', 'id1', '--all', '--store', sqlite], 'exactly one of'],
      [['sessions', 'purge', '--store', sqlite], 'unknown sessions command'],
      [['sessions'], 'say "list" or "revoke"'],
    ] as const) {
      const result = await cli([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toContain(text);
      expect(result.err).toContain('jwt-sessions sessions --help');
    }
  });

  it('an unreachable store: a clear error naming it, exit 1', async () => {
    const result = await cli(['sessions', 'list', DEMO_NAMESPACE, '--store', 'redis://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^jwt-sessions: .*(store|connect)/i);
    expect(result.err).toContain('127.0.0.1:1');
  });
});

describe('migrate', () => {
  it('sqlite: creates the tables, and running it again changes nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'jwt-sessions-cli-')), 'fresh.db');
    const first = await cli(['migrate', '--store', `sqlite:${path}`]);
    expect(first).toMatchObject({
      code: 0,
      out: `Migrated sqlite:${path}: the session schema is up to date.`,
    });
    expect(await cliJson(['migrate'], { env: { STORE_URL: `sqlite:${path}` } })).toEqual({
      store: `sqlite:${path}`,
      migrated: true,
    });
    const db = new Database(path, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    db.close();
    expect(tables).toEqual([
      { name: 'jwt_dpop_proofs' },
      { name: 'jwt_schema_version' },
      { name: 'jwt_sessions' },
    ]);
  });

  const sqlServers = [
    {
      name: 'postgres',
      target: targets.find((t) => t.name === 'postgres')!,
      url: SERVICE_URLS.postgres,
      async tables(prefix: string) {
        const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
        await client.connect();
        const { rows } = await client.query(
          'SELECT tablename AS name FROM pg_tables WHERE tablename LIKE $1 ORDER BY tablename',
          [`${prefix}%`],
        );
        await client.end();
        return rows.map((row: { name: string }) => row.name);
      },
      async drop(prefix: string) {
        const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
        await client.connect();
        await client.query(
          `DROP TABLE IF EXISTS ${prefix}sessions, ${prefix}schema_version, ${prefix}dpop_proofs`,
        );
        await client.end();
      },
    },
    {
      name: 'mysql',
      target: targets.find((t) => t.name === 'mysql')!,
      url: SERVICE_URLS.mysql,
      async tables(prefix: string) {
        const connection = await mysql.createConnection(SERVICE_URLS.mysql);
        const [rows] = await connection.query('SHOW TABLES LIKE ?', [`${prefix}%`]);
        await connection.end();
        return (rows as Record<string, string>[]).map((row) => Object.values(row)[0]!).sort();
      },
      async drop(prefix: string) {
        const connection = await mysql.createConnection(SERVICE_URLS.mysql);
        await connection.query(
          `DROP TABLE IF EXISTS ${prefix}sessions, ${prefix}schema_version, ${prefix}dpop_proofs`,
        );
        await connection.end();
      },
    },
  ];
  for (const sql of sqlServers) {
    describeWithService(sql.target.available)(sql.name, () => {
      const prefix = uniquePrefix('mig');
      afterAll(() => sql.drop(prefix));
      it(`${sql.name}: creates the prefixed tables, idempotently`, async () => {
        expect(await sql.tables(prefix)).toEqual([]);
        const store = `${sql.url}?prefix=${prefix}`;
        for (let run = 0; run < 2; run++) {
          expect(await cliJson(['migrate', '--store', store])).toEqual({
            store: expect.stringContaining(`prefix=${prefix}`),
            migrated: true,
          });
        }
        expect(await sql.tables(prefix)).toEqual([
          `${prefix}dpop_proofs`,
          `${prefix}schema_version`,
          `${prefix}sessions`,
        ]);
      });

      it(`${sql.name}: a database that does not exist, refused credentials: the driver's reason, exit 1`, async () => {
        const noDb = Object.assign(new URL(sql.url), { pathname: '/no_such_db_jwts' }).toString();
        const missing = await cli(['migrate', '--store', noDb]);
        expect(missing.code).toBe(1);
        expect(missing.err).toMatch(/^jwt-sessions: migration failed: .+/);
        expect(missing.err).toMatch(
          /database "no_such_db_jwts" does not exist|Unknown database 'no_such_db_jwts'/,
        );
        expect(missing.err).toContain('create the database');
        // The sessions commands say the same, and the unreachable server gives its reason too.
        const listed = await cli(['sessions', 'list', DEMO_NAMESPACE, '--store', noDb]);
        expect(listed.code).toBe(1);
        expect(listed.err).toMatch(/does not exist|Unknown database/);
        const refused = await cli([
          'migrate',
          '--store',
          Object.assign(new URL(sql.url), { port: '1' }).toString(),
        ]);
        expect(refused.code).toBe(1);
        expect(refused.err).toContain('ECONNREFUSED');
      });
    });
  }

  it('Redis and memory need no migration: said so, exit 0', async () => {
    const redis = await cli(['migrate', '--store', 'redis://127.0.0.1:6379']);
    expect(redis).toMatchObject({
      code: 0,
      out: 'Nothing to migrate: redis://127.0.0.1:6379 is not a SQL store.',
    });
    expect(await cliJson(['migrate', '--store', 'memory'])).toEqual({
      store: 'memory',
      migrated: false,
      reason: 'not a SQL store',
    });
  });

  it('an unreachable database: a clear error, exit 1; usage errors exit 2', async () => {
    const down = await cli(['migrate', '--store', 'postgres://postgres@127.0.0.1:1/test']);
    expect(down.code).toBe(1);
    expect(down.err).toContain('postgres://postgres@127.0.0.1:1/test');
    expect((await cli(['migrate'])).code).toBe(2);
    expect((await cli(['migrate', 'now', '--store', 'sqlite:x.db'])).code).toBe(2);
  });
});

/**
 * Throwaway PostgreSQL and MariaDB servers for the fault tests, so they can be crashed and
 * restarted under load without touching the shared services: a fresh data directory under the
 * temp dir, a spare loopback port, the server run as its system user (postgres / mysql). Durable
 * settings (fsync, flush at commit) stay on: a restart must keep every committed session.
 *
 * `crash()` is an abrupt stop (PostgreSQL `pg_ctl stop -m immediate`, MariaDB SIGKILL): no
 * checkpoint, recovery from the write-ahead log at the next `start()`.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { sparePort } from '../support/redis-server.js';

export interface PrivateDb {
  readonly url: string;
  /** Abrupt stop: the server dies without a clean shutdown. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops it (if running) and removes the data directory. */
  destroy(): Promise<void>;
}

function uidOf(user: string): number | null {
  const result = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : null;
}

function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(base, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** Why a private server cannot be started here, or null when it can. */
export function privatePostgresProblem(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run initdb/pg_ctl as the postgres user';
  if (uidOf('postgres') === null) return 'no postgres system user';
  if (postgresBin() === null) return 'no /usr/lib/postgresql/*/bin/initdb';
  return null;
}

export function privateMariadbProblem(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run mariadbd as the mysql user';
  if (uidOf('mysql') === null) return 'no mysql system user';
  for (const binary of ['mariadb-install-db', 'mariadbd']) {
    if (spawnSync('which', [binary]).status !== 0) return `${binary} is not on PATH`;
  }
  return null;
}

async function retry(what: string, attempt: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function privateDir(prefix: string, owner: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const uid = uidOf(owner)!;
  chownSync(dir, uid, uid);
  return dir;
}

export async function startPrivatePostgres(): Promise<PrivateDb> {
  const bin = postgresBin()!;
  const dir = privateDir('jwts-pg-', 'postgres');
  const data = join(dir, 'data');
  const port = await sparePort(15_400, 500);
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { stdio: 'pipe' });
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;
  const db: PrivateDb = {
    url,
    async start() {
      asPostgres('pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on`,
        'start',
      ]);
      running = true;
      await retry('private PostgreSQL did not accept connections', async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        await client.connect();
        await client.end();
      });
    },
    async crash() {
      if (!running) return;
      asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await db.start();
  return db;
}

export async function startPrivateMariadb(): Promise<PrivateDb> {
  const dir = privateDir('jwts-maria-', 'mysql');
  const data = join(dir, 'data');
  const port = await sparePort(15_900, 500);
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--user=mysql',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { stdio: 'pipe' },
  );
  let child: ChildProcess | null = null;
  const adminUrl = `mysql://root@127.0.0.1:${port}/mysql`;
  const db: PrivateDb = {
    url: `mysql://root@127.0.0.1:${port}/jwts`,
    async start() {
      const proc = spawn(
        'mariadbd',
        [
          '--no-defaults',
          `--datadir=${data}`,
          `--port=${port}`,
          `--socket=${join(dir, 'sock')}`,
          '--bind-address=127.0.0.1',
          '--user=mysql',
          '--skip-log-bin',
          '--innodb-flush-log-at-trx-commit=1',
          `--log-error=${join(dir, 'error.log')}`,
        ],
        { stdio: 'ignore' },
      );
      child = proc;
      proc.once('exit', () => {
        if (child === proc) child = null;
      });
      await retry('private MariaDB did not accept connections', async () => {
        if (child === null) throw new Error('mariadbd exited');
        const connection = await mysql.createConnection({ uri: adminUrl, connectTimeout: 1000 });
        await connection.query('CREATE DATABASE IF NOT EXISTS jwts');
        await connection.end();
      });
    },
    async crash() {
      const proc = child;
      if (proc === null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      const proc = child;
      if (proc !== null) {
        const exited = once(proc, 'exit');
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  process.once('exit', () => (child as ChildProcess | null)?.kill('SIGKILL'));
  await db.start();
  return db;
}

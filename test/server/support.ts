/**
 * Plumbing for the reference-server tests: a small JSON client over fetch that keeps cookies (Node's
 * fetch has no cookie jar), the demo accounts, and the STORE_URLs of the shared services, each with
 * a unique key/table prefix so that parallel runs never meet.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { openStore, probeStore } from '../../src/server/store-open.js';
import { parseStoreUrl } from '../../src/server/store-url.js';
import { SERVICE_URLS, serviceAvailable } from '../support/services.js';

export const DEMO = { login: 'demo@example.com', password: 'correct horse battery staple' };
export const ALICE = { login: 'alice@example.com', password: 'alice-password' };
export const DEMO_NAMESPACE = 'user:u_demo';

export interface Reply {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined for an empty one). */
  body: Record<string, unknown> & { code?: string; error?: string };
  /** `name=value` of each Set-Cookie, by name, plus the raw lines. */
  cookies: Map<string, { value: string; line: string }>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A JSON value, or a raw string sent as is. */
  body?: unknown;
  /** Bearer access token for the Authorization header. */
  token?: string;
  /** Cookies to send. */
  cookies?: Record<string, string>;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'user-agent': 'server-test/1.0', ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.cookies !== undefined) {
    headers.cookie = Object.entries(options.cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  }
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  const cookies = new Map<string, { value: string; line: string }>();
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq), { value: pair.slice(eq + 1), line });
  }
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Reply['body']),
    cookies,
  };
}

/** The claims of a compact JWT, unverified (the tests check what the server put in). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export interface HeaderSession {
  access_token: string;
  refresh_token: string;
  csrf: string;
  session_id: string;
  access_expires_at: string;
  refresh_expires_at: string;
}

export async function loginHeader(
  server: RunningServer,
  account = DEMO,
  headers: Record<string, string> = {},
): Promise<HeaderSession> {
  const reply = await call(server.url, 'POST', '/auth/login', { body: account, headers });
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body as unknown as HeaderSession;
}

/** A cookie-transport session: the cookies a browser would keep, and the CSRF token. */
export interface CookieSession {
  cookies: Record<string, string>;
  csrf: string;
  session_id: string;
}

export async function loginCookie(server: RunningServer, account = DEMO): Promise<CookieSession> {
  const reply = await call(server.url, 'POST', '/auth/login', { body: { ...account, transport: 'cookie' } });
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return {
    cookies: Object.fromEntries([...reply.cookies].map(([name, { value }]) => [name, value])),
    csrf: reply.body.csrf as string,
    session_id: reply.body.session_id as string,
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
export function isIso(value: unknown): boolean {
  return typeof value === 'string' && ISO.test(value) && !Number.isNaN(Date.parse(value));
}

/** A prefix valid both as a Redis key prefix and a SQL table prefix, unique to this run. */
export function uniquePrefix(label: string): string {
  return `t_${label}_${randomBytes(4).toString('hex')}_`;
}

export interface StoreTarget {
  name: string;
  url: string;
  available: boolean;
  /** Removes what the tests left in the shared service (tables of the prefix). */
  cleanup(): Promise<void>;
}

async function probe(url: string): Promise<void> {
  // As the server opens it: SQL tables are created (the target's cleanup drops them).
  const opened = await openStore(parseStoreUrl(url));
  try {
    await probeStore(opened.store, 2000);
  } finally {
    await opened.close();
  }
}

const nothing = async () => {};

/**
 * Every STORE_URL form the server takes, on the shared services (probed once; missing: a loud skip,
 * or a failure under CI=true).
 */
export async function storeTargets(label: string): Promise<StoreTarget[]> {
  const prefix = uniquePrefix(label);
  const sqliteFile = join(mkdtempSync(join(tmpdir(), 'jwt-sessions-server-')), 'sessions.db');
  const redisUrl = `${SERVICE_URLS.redis}?prefix=${prefix}`;
  const clusterUrl = `redis-cluster://${SERVICE_URLS.redisCluster}?prefix=${prefix}`;
  const postgresUrl = `${SERVICE_URLS.postgres}?prefix=${prefix}`;
  const mysqlUrl = `${SERVICE_URLS.mysql}?prefix=${prefix}`;
  const dropSql = [
    `DROP TABLE IF EXISTS ${prefix}sessions`,
    `DROP TABLE IF EXISTS ${prefix}schema_version`,
    `DROP TABLE IF EXISTS ${prefix}dpop_proofs`,
  ];
  const [redis, cluster, postgres, mariadb] = await Promise.all([
    serviceAvailable('Redis (server tests)', () => probe(redisUrl)),
    serviceAvailable('Redis Cluster (server tests)', () => probe(clusterUrl)),
    serviceAvailable('PostgreSQL (server tests)', () => probe(postgresUrl)),
    serviceAvailable('MariaDB (server tests)', () => probe(mysqlUrl)),
  ]);
  return [
    { name: 'memory', url: 'memory', available: true, cleanup: nothing },
    { name: 'sqlite', url: `sqlite:${sqliteFile}`, available: true, cleanup: nothing },
    { name: 'redis', url: redisUrl, available: redis, cleanup: nothing },
    { name: 'redis-cluster', url: clusterUrl, available: cluster, cleanup: nothing },
    {
      name: 'postgres',
      url: postgresUrl,
      available: postgres,
      async cleanup() {
        const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
        await client.connect();
        for (const sql of dropSql) await client.query(sql);
        await client.end();
      },
    },
    {
      name: 'mysql',
      url: mysqlUrl,
      available: mariadb,
      async cleanup() {
        const connection = await mysql.createConnection(SERVICE_URLS.mysql);
        for (const sql of dropSql) await connection.query(sql);
        await connection.end();
      },
    },
  ];
}

/** An in-process server on a free port, quiet, on `storeUrl`. */
export function serverOn(storeUrl: string, overrides: Parameters<typeof startServer>[0] = {}) {
  return startServer({ port: 0, logLevel: false, store: parseStoreUrl(storeUrl), ...overrides });
}

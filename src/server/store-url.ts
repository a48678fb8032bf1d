/**
 * `STORE_URL` parsing, shared by the reference server and the CLI:
 *
 *   memory                              the embedded MemoryStore (default; no driver)
 *   redis://[user:pass@]host:port[/db]  RedisStore on one Redis (also rediss://)
 *   redis-cluster://h:p,h:p[,...]       RedisStore on a Redis Cluster (seed nodes)
 *   postgres://… / postgresql://…       PostgresStore (pg)
 *   mysql://… / mariadb://…             MySqlStore (mysql2)
 *   sqlite:path | sqlite::memory:       SqliteStore (better-sqlite3)
 *
 * Any of them but memory takes `?prefix=…`: the Redis key prefix (default `jwts:`) or the SQL table
 * prefix (default `jwt_`), so that several apps — or test runs — share one database without meeting.
 * It is taken out of the URL before the driver sees it.
 *
 * Parsing is pure; opening (store-open.ts) imports the driver dynamically, so the memory store
 * needs none of them installed.
 */

/** `prefix`: the Redis key prefix or SQL table prefix from `?prefix=`; unset = the store's default. */
export type StoreSpec =
  | { kind: 'memory' }
  | { kind: 'redis'; url: string; prefix?: string }
  | {
      kind: 'redis-cluster';
      nodes: { host: string; port: number }[];
      username?: string;
      password?: string;
      prefix?: string;
    }
  | { kind: 'postgres'; url: string; prefix?: string }
  | { kind: 'mysql'; url: string; prefix?: string }
  | { kind: 'sqlite'; path: string; prefix?: string };

const SQL_PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/** Takes `prefix=` out of the URL's query string (other parameters stay for the driver). */
function takePrefix(text: string): { rest: string; prefix?: string } {
  const q = text.indexOf('?');
  if (q === -1) return { rest: text };
  const params = new URLSearchParams(text.slice(q + 1));
  const prefix = params.get('prefix');
  if (prefix === null) return { rest: text };
  params.delete('prefix');
  const query = params.toString();
  return { rest: `${text.slice(0, q)}${query === '' ? '' : `?${query}`}`, prefix };
}

function checkPrefix(kind: StoreSpec['kind'], prefix: string): string {
  if (kind === 'redis' || kind === 'redis-cluster') {
    if (prefix === '' || prefix.length > 200 || /[{}]/.test(prefix)) {
      throw new Error('prefix for Redis must be 1-200 characters without braces');
    }
  } else if (!SQL_PREFIX.test(prefix)) {
    throw new Error('prefix for SQL tables must be 1-40 letters, digits or _, not starting with a digit');
  }
  return prefix;
}

const FORMS =
  'memory, redis://host:port, redis-cluster://host:port,host:port, postgres://..., mysql://..., or sqlite:path';

function hostPort(text: string): { host: string; port: number } {
  // [::1]:7000, 127.0.0.1:7000, redis-a:7000
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(text);
  if (!match) throw new Error(`cluster node ${JSON.stringify(text)} is not host:port`);
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`cluster node ${JSON.stringify(text)} has an invalid port`);
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

function checkUrl(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${JSON.stringify(redact(raw))} is not a valid ${what} URL`);
  }
  if (url.hostname === '') throw new Error(`${what} URL ${JSON.stringify(redact(raw))} has no host`);
  return raw;
}

/** Parses a STORE_URL; throws an Error with a one-line message when it is not one of the forms. */
export function parseStoreUrl(raw: string): StoreSpec {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed === 'memory' || trimmed === 'memory:' || trimmed === 'memory://')
    return { kind: 'memory' };
  const { rest, prefix } = takePrefix(trimmed);
  const spec = parseWithoutPrefix(rest);
  if (prefix === undefined) return spec;
  if (spec.kind === 'memory') throw new Error('the memory store takes no prefix');
  return { ...spec, prefix: checkPrefix(spec.kind, prefix) };
}

function parseWithoutPrefix(text: string): StoreSpec {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss':
      return { kind: 'redis', url: checkUrl(text, 'Redis') };
    case 'redis-cluster': {
      let rest = text.slice('redis-cluster://'.length);
      if (!text.toLowerCase().startsWith('redis-cluster://') || rest === '') {
        throw new Error('redis-cluster needs seed nodes: redis-cluster://host:port,host:port');
      }
      let username: string | undefined;
      let password: string | undefined;
      const at = rest.lastIndexOf('@');
      if (at !== -1) {
        const auth = rest.slice(0, at);
        rest = rest.slice(at + 1);
        const colon = auth.indexOf(':');
        username = decodeURIComponent(colon === -1 ? auth : auth.slice(0, colon)) || undefined;
        password = colon === -1 ? undefined : decodeURIComponent(auth.slice(colon + 1));
      }
      const nodes = rest
        .replace(/\/+$/, '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map(hostPort);
      if (nodes.length === 0) throw new Error('redis-cluster needs at least one host:port');
      return {
        kind: 'redis-cluster',
        nodes,
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password }),
      };
    }
    case 'postgres':
    case 'postgresql':
      return { kind: 'postgres', url: checkUrl(text, 'PostgreSQL') };
    case 'mysql':
    case 'mariadb':
      return { kind: 'mysql', url: checkUrl(text.replace(/^mariadb:/i, 'mysql:'), 'MySQL') };
    case 'sqlite': {
      let path = text.slice('sqlite:'.length);
      if (path.startsWith('//')) path = path.slice(2); // sqlite://relative or sqlite:///absolute
      if (path === '') throw new Error('sqlite needs a file path: sqlite:./sessions.db (or sqlite::memory:)');
      return { kind: 'sqlite', path };
    }
    default:
      throw new Error(`${JSON.stringify(redact(text))} is not a store URL; use ${FORMS}`);
  }
}

/** The URL with any password replaced by `***`, for logs and errors. */
export function redact(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_all, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon === -1 ? `${scheme}${auth}@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

/** A printable description of a store spec, without secrets. */
export function describeStoreUrl(spec: StoreSpec): string {
  const base = describeWithoutPrefix(spec);
  if (spec.kind === 'memory' || spec.prefix === undefined) return base;
  return `${base}${base.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(spec.prefix)}`;
}

function describeWithoutPrefix(spec: StoreSpec): string {
  switch (spec.kind) {
    case 'memory':
      return 'memory';
    case 'redis':
    case 'postgres':
    case 'mysql':
      return redact(spec.url);
    case 'redis-cluster':
      return `redis-cluster://${spec.nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',')}`;
    case 'sqlite':
      return `sqlite:${spec.path}`;
  }
}

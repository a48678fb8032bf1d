/**
 * Every environment variable of SPEC §5 (and the server's few extras) read by configFromEnv: the
 * defaults of an empty environment, each value taken, and each bad value refused with one line that
 * names the variable.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv, describeConfig, ServerConfigError } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';
import { describeStoreUrl, parseStoreUrl } from '../../src/server/store-url.js';

function refused(env: Record<string, string>, variable: string): string {
  try {
    configFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ServerConfigError);
    const message = (error as Error).message;
    expect(message).toContain(variable);
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

describe('configFromEnv', () => {
  it('an empty environment gives the SPEC defaults', () => {
    const config = configFromEnv({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      store: { kind: 'memory' },
      alg: 'HS256',
      accessTtl: 3600,
      refreshTtl: 604_800,
      reuseGrace: 10,
    });
    expect(config.secret).toBeUndefined();
    expect(config.privateKey).toBeUndefined();
    expect(config.idleTimeout).toBeUndefined();
    expect(config.absoluteTimeout).toBeUndefined();
    // Empty and blank values count as unset.
    expect(configFromEnv({ PORT: '', ACCESS_TTL: '  ', IDLE_TIMEOUT: '' })).toMatchObject({ port: 3000 });
  });

  it('takes every variable of the table', () => {
    const config = configFromEnv({
      PORT: '8080',
      HOST: '0.0.0.0',
      STORE_URL: 'redis://127.0.0.1:6379',
      JWT_ALG: 'HS512',
      JWT_SECRET: 'x'.repeat(64),
      ACCESS_TTL: '60',
      REFRESH_TTL: '3600',
      REUSE_GRACE: '0',
      IDLE_TIMEOUT: '900',
      ABSOLUTE_TIMEOUT: '86400',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      store: { kind: 'redis', url: 'redis://127.0.0.1:6379' },
      alg: 'HS512',
      secret: 'x'.repeat(64),
      accessTtl: 60,
      refreshTtl: 3600,
      reuseGrace: 0,
      idleTimeout: 900,
      absoluteTimeout: 86_400,
    });
    expect(configFromEnv({ PORT: '0' }).port).toBe(0);
  });

  it('PORT must be a whole number 0-65535', () => {
    for (const value of ['abc', '-1', '65536', '80.5', '0x50', '1e3']) refused({ PORT: value }, 'PORT');
  });

  it('the lifetimes and timeouts must be whole seconds in range', () => {
    for (const name of ['ACCESS_TTL', 'REFRESH_TTL', 'IDLE_TIMEOUT', 'ABSOLUTE_TIMEOUT']) {
      for (const value of ['0', '-5', '1.5', 'ten', '99999999999', '1h']) refused({ [name]: value }, name);
    }
    for (const value of ['-1', '2.5', 'off', '3601']) refused({ REUSE_GRACE: value }, 'REUSE_GRACE');
  });

  it('MAX_SESSIONS: a whole number from 1 to 10000, unset by default', () => {
    expect(configFromEnv({}).maxSessions).toBeUndefined();
    expect(configFromEnv({ MAX_SESSIONS: '5' }).maxSessions).toBe(5);
    for (const value of ['0', '-1', '2.5', 'five', '10001']) refused({ MAX_SESSIONS: value }, 'MAX_SESSIONS');
  });

  it('ACCESS_TTL longer than REFRESH_TTL is refused', () => {
    const message = refused({ ACCESS_TTL: '7200', REFRESH_TTL: '3600' }, 'ACCESS_TTL');
    expect(message).toContain('REFRESH_TTL');
  });

  it('JWT_ALG must be a supported algorithm; none does not exist', () => {
    for (const value of ['none', 'NONE', 'HS257', 'hs256', 'RSA-OAEP'])
      refused({ JWT_ALG: value }, 'JWT_ALG');
    for (const alg of ['HS384', 'RS256', 'PS512', 'ES384', 'EdDSA'])
      expect(configFromEnv({ JWT_ALG: alg }).alg).toBe(alg);
  });

  it('JWT_SECRET is only for HS*, JWT_PRIVATE_KEY only for the others', () => {
    refused({ JWT_ALG: 'ES256', JWT_SECRET: 'x'.repeat(40) }, 'JWT_SECRET');
    refused({ JWT_ALG: 'HS256', JWT_PRIVATE_KEY: rsaPem }, 'JWT_PRIVATE_KEY');
  });

  it('JWT_PRIVATE_KEY is PEM text (also with literal \\n) or the path of a PEM file', () => {
    const keyOf = (value: string) =>
      configFromEnv({ JWT_ALG: 'RS256', JWT_PRIVATE_KEY: value }).privateKey?.trim();
    expect(keyOf(rsaPem)).toBe(rsaPem.trim());
    expect(keyOf(rsaPem.replaceAll('\n', '\\n'))).toBe(rsaPem.trim());
    const dir = mkdtempSync(join(tmpdir(), 'jwt-sessions-config-'));
    writeFileSync(join(dir, 'key.pem'), rsaPem);
    writeFileSync(join(dir, 'not-a-key.txt'), 'hello');
    expect(keyOf(join(dir, 'key.pem'))).toBe(rsaPem.trim());
    refused({ JWT_ALG: 'RS256', JWT_PRIVATE_KEY: join(dir, 'missing.pem') }, 'JWT_PRIVATE_KEY');
    refused({ JWT_ALG: 'RS256', JWT_PRIVATE_KEY: join(dir, 'not-a-key.txt') }, 'JWT_PRIVATE_KEY');
  });

  it('a weak or mismatched key stops the server at start, naming the variable', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ JWT_SECRET: 'too-short' }, 'JWT_SECRET'],
      [{ JWT_ALG: 'ES256', JWT_PRIVATE_KEY: rsaPem }, 'JWT_PRIVATE_KEY'],
      [
        {
          JWT_ALG: 'RS256',
          JWT_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 1024 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        },
        'JWT_PRIVATE_KEY',
      ],
    ];
    for (const [env, variable] of cases) {
      const config = { ...configFromEnv(env), port: 0, logLevel: false as const };
      await expect(startServer(config)).rejects.toThrow(ServerConfigError);
      await expect(startServer(config)).rejects.toThrow(variable);
    }
  });

  it('STORE_URL takes every store form, and refuses anything else with the accepted forms', () => {
    const forms: [string, string][] = [
      ['memory', 'memory'],
      ['redis://127.0.0.1:6379/2', 'redis'],
      ['rediss://user:pw@cache.example:6380', 'redis'],
      ['redis-cluster://127.0.0.1:7000,127.0.0.1:7001', 'redis-cluster'],
      ['postgres://postgres@127.0.0.1:5432/test', 'postgres'],
      ['postgresql://u:p@db/app', 'postgres'],
      ['mysql://root@127.0.0.1:3306/test', 'mysql'],
      ['mariadb://root@127.0.0.1/test', 'mysql'],
      ['sqlite:./sessions.db', 'sqlite'],
      ['sqlite::memory:', 'sqlite'],
    ];
    for (const [url, kind] of forms) expect(configFromEnv({ STORE_URL: url }).store.kind).toBe(kind);
    for (const url of [
      'ftp://x',
      'mongodb://localhost',
      'redis-cluster://',
      'redis-cluster://host-without-port',
      'sqlite:',
      'postgres://',
      'redis://127.0.0.1:6379?prefix=has{brace}',
      'postgres://db/app?prefix=bad-name',
    ]) {
      refused({ STORE_URL: url }, 'STORE_URL');
    }
  });

  it('STORE_URL ?prefix= sets the Redis key or SQL table prefix, and is taken out of the URL', () => {
    expect(parseStoreUrl('redis://127.0.0.1:6379/1?prefix=app1:')).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379/1',
      prefix: 'app1:',
    });
    expect(parseStoreUrl('postgres://db/app?sslmode=disable&prefix=app1_')).toEqual({
      kind: 'postgres',
      url: 'postgres://db/app?sslmode=disable',
      prefix: 'app1_',
    });
    expect(parseStoreUrl('redis-cluster://a:7000,b:7001?prefix=x:')).toMatchObject({
      kind: 'redis-cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      prefix: 'x:',
    });
    expect(parseStoreUrl('sqlite:/tmp/s.db?prefix=s_')).toEqual({
      kind: 'sqlite',
      path: '/tmp/s.db',
      prefix: 's_',
    });
    expect(describeStoreUrl(parseStoreUrl('mysql://root@db/app?prefix=t_'))).toBe(
      'mysql://root@db/app?prefix=t_',
    );
  });

  it('the start-up summary never shows a password or secret', () => {
    const config = configFromEnv({
      STORE_URL: 'postgres://app:hunter2@db.example/app',
      JWT_SECRET: 'a-very-secret-value-of-32-bytes!',
    });
    const summary = describeConfig(config);
    expect(summary).toContain('postgres://app:***@db.example/app');
    expect(summary).not.toContain('hunter2');
    expect(summary).not.toContain('a-very-secret');
  });

  it('LOG_LEVEL and COOKIE_SECURE are validated too', () => {
    refused({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
    refused({ COOKIE_SECURE: 'maybe' }, 'COOKIE_SECURE');
    expect(configFromEnv({ COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
  });
});

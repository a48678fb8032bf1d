import pg from 'pg';
import { afterAll } from 'vitest';
import { PostgresStore, postgresDialect } from '../../src/stores/sql/postgres.js';
import { describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';
import { describeSqlStore } from './sql-store-suite.js';

const url = SERVICE_URLS.postgres;
const available = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.end();
});

describeWithService(available)('PostgreSQL', () => {
  /** Bookkeeping connection of the tests themselves (never the store's). */
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => {});
  afterAll(() => admin.end());

  describeSqlStore({
    name: 'PostgresStore',
    dialect: postgresDialect,
    open: ({ url: address, ...options }) => new PostgresStore({ ...options, connection: address ?? url }),
    raw: async (sql) => (await admin.query(sql)).rows,
    rawScript: async (sql) => {
      await admin.query(sql);
    },
    plan: async (prefix, sql, params) => {
      await admin.query(`ANALYZE ${prefix}sessions`);
      const { rows } = await admin.query(`EXPLAIN ${sql}`, params);
      return rows.map((row: Record<string, unknown>) => row['QUERY PLAN']).join('\n');
    },
    countingDeleteStatements: 1,
    serverUrl: url,
  });
});

import mysql from 'mysql2/promise';
import { afterAll } from 'vitest';
import { MySqlStore, mysqlDialect } from '../../src/stores/sql/mysql.js';
import { describeWithService, SERVICE_URLS, serviceAvailable } from '../support/services.js';
import { describeSqlStore } from './sql-store-suite.js';

const url = SERVICE_URLS.mysql;
const available = await serviceAvailable('MySQL/MariaDB', async () => {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
  await connection.end();
});

describeWithService(available)('MySQL/MariaDB', () => {
  /** Bookkeeping connections of the tests themselves (never the store's). */
  const admin = mysql.createPool({ uri: url, connectionLimit: 2, multipleStatements: true });
  afterAll(() => admin.end());

  describeSqlStore({
    name: 'MySqlStore',
    dialect: mysqlDialect,
    open: ({ url: address, ...options }) => new MySqlStore({ ...options, connection: address ?? url }),
    raw: async (sql) => {
      const [result] = await admin.query(sql);
      return Array.isArray(result) ? (result as Record<string, unknown>[]) : [];
    },
    rawScript: async (sql) => {
      await admin.query(sql);
    },
    plan: async (prefix, sql, params) => {
      await admin.query(`ANALYZE TABLE ${prefix}sessions`);
      const [rows] = await admin.execute(`EXPLAIN ${sql}`, params);
      return JSON.stringify(rows);
    },
    countingDeleteStatements: 2,
    serverUrl: url,
  });
});

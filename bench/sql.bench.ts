/**
 * The SQL stores under the session engine (the SQL half of the engine-per-store benchmarks): SQL
 * statements per engine call, COUNTED at the client library (a counting `pg` Client, mysql2's
 * diagnostics channels, better-sqlite3's Statement methods; see lib/counters.ts) over a known
 * number of calls, for PostgreSQL, MariaDB and SQLite, checked against the store's own counter.
 * Throughput and latency of the same calls are in the `engine` benchmark.
 */
import { SqlStore } from '../src/stores/sql/shared.js';
import { describeKinds, type PerOperation } from './lib/counters.js';
import { type Check, defineBenchmark, type Table } from './lib/harness.js';
import {
  disposeStoresChecked,
  ENGINE_OPS,
  engineWorkload,
  NAMESPACE_SIZE,
  openStores,
  type TargetName,
} from './lib/store-bench.js';

const TARGETS: readonly TargetName[] = ['postgres', 'mariadb', 'sqlite'];
const REVOKE_NAMESPACE = `revoke namespace (${NAMESPACE_SIZE})`;
const TOUCH = 'strict verify, last-used due (touch)';
const READS = new Set(['SELECT']);

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** Statements that are not plain reads, per call. */
function writes(c: PerOperation): number {
  return Object.entries(c.kinds).reduce((sum, [kind, n]) => (READS.has(kind) ? sum : sum + n), 0);
}

export default defineBenchmark({
  name: 'sql',
  description: 'SQL stores under the engine: statements per call, counted at the driver',
  async run(ctx) {
    const checks: Check[] = [];
    const rows: (string | number)[][] = [];
    const data: Record<string, Record<string, PerOperation & { storeCounter: number }>> = {};
    const runs = ctx.quick ? 10 : 40;
    const { opened, failed } = await openStores(TARGETS, ctx.log);
    for (const f of failed) checks.push({ name: `${f.name} reachable`, pass: false, detail: f.error });
    try {
      for (const s of opened) {
        ctx.log(`${s.name}: counting statements over ${runs} calls of each operation ...`);
        const counter = s.statements!;
        const store = s.store as SqlStore;
        if (!(store instanceof SqlStore)) throw new Error(`${s.name} is not a SqlStore`);
        const w = await engineWorkload(store);
        const counts = new Map<string, PerOperation & { storeCounter: number }>();
        const count = async (name: string, n: number, operation: (run: number) => Promise<unknown>) => {
          const before = store.statementCount;
          const c = await counter.count(n, operation);
          counts.set(name, { ...c, storeCounter: (store.statementCount - before) / n });
        };
        for (const op of ENGINE_OPS) await count(op, runs, () => w.ops[op]());
        const namespaces: string[] = [];
        for (let i = 0; i < runs; i++) namespaces.push(await w.fillNamespace());
        await count(REVOKE_NAMESPACE, runs, (i) => w.revokeNamespace(namespaces[i]!));
        // Last-used writes are throttled to one a minute per session: move the clock past it each time.
        w.advanceClock(61_000);
        await w.ops['strict verify']();
        await count(TOUCH, Math.min(runs, 5), () => {
          w.advanceClock(61_000);
          return w.ops['strict verify']();
        });
        data[s.name] = Object.fromEntries(counts);

        for (const [op, c] of counts) {
          rows.push([s.name, op, fmt(c.perOp), describeKinds(c.kinds), fmt(c.storeCounter), String(c.runs)]);
        }
        const expect = (op: string, want: number) => {
          const c = counts.get(op)!;
          checks.push({
            name: `${s.name}: ${op} = ${want} statement${want === 1 ? '' : 's'}`,
            pass: c.perOp === want,
            detail: `${fmt(c.perOp)} per call (${describeKinds(c.kinds)})`,
          });
        };
        expect('login', 1);
        expect('strict verify', 1);
        expect('stateless verify', 0);
        expect(`revoke namespace access (${NAMESPACE_SIZE})`, 1);
        const refresh = counts.get('refresh')!;
        checks.push({
          name: `${s.name}: refresh rotation writes with one statement (no multi-statement transaction)`,
          pass: writes(refresh) === 1 && !('BEGIN' in refresh.kinds) && !('START' in refresh.kinds),
          detail: `${fmt(writes(refresh))} write statement per refresh; all statements: ${describeKinds(refresh.kinds)}`,
        });
        const disagree = [...counts].filter(([, c]) => c.storeCounter !== c.perOp).map(([op]) => op);
        checks.push({
          name: `${s.name}: statements counted at the driver = the store's statementCount`,
          pass: disagree.length === 0,
          detail: disagree.length === 0 ? 'equal for every call' : `differ for ${disagree.join(', ')}`,
        });
      }
    } finally {
      checks.push(...(await disposeStoresChecked(opened, 'tables dropped / file removed')));
    }
    const tables: Table[] = [
      {
        title: 'SQL statements per engine call (counted at the driver)',
        columns: ['store', 'call', 'statements', 'by verb, per call', "store's own counter", 'calls counted'],
        rows,
      },
    ];
    return {
      name: 'sql',
      title: 'SQL stores under the session engine',
      description:
        'Statements each engine call sends, counted in the client libraries (pg Client subclass via the pool option `Client`, mysql2 tracing channels, better-sqlite3 Statement methods).',
      tables,
      checks,
      notes: [
        'Refresh = SELECT (the engine reads the session state to decide reuse / grace) + one conditional UPDATE (compare-and-swap on version, live rows only): the rotation itself is a single atomic statement; no transaction is held across the two.',
        'revoke namespace: PostgreSQL ends the live rows and clears the expired ones in one statement (a data-modifying CTE, counted as WITH); MariaDB and SQLite send a counted DELETE of the live rows, then a clean-up DELETE of the expired ones.',
        "The store's own counter (SqlStore.statementCount) is compared with the driver count for every call.",
      ],
      data,
    };
  },
});

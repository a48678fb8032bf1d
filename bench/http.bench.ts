/**
 * HTTP throughput of an authenticated `GET /api/me` (a small JSON of the user), with autocannon on
 * loopback, for Express 5, Fastify 5 and Hono (@hono/node-server):
 * - no auth (the framework's ceiling), jwt-sessions stateless verify, strict verify on the memory
 *   store, strict on Redis, strict on Redis with the live cache;
 * - peers: @fastify/jwt (Fastify), express-jwt (Express), express-session + connect-redis (Express).
 *
 * Each case's server runs in its own process (bench/http/server.ts, run as plain JavaScript
 * transpiled at the start of the run), so autocannon does not share its event loop. Before loading it, a request without credentials must get 401 (200 for the
 * ceiling) and one with them 200 and the expected JSON, so no case measures an error path; every
 * run must also end with 0 errors and 0 non-2xx. Every JWT case sends the same token (minted by
 * jwt-sessions, HS256, same payload); express-session gets a session holding the same user. The
 * ceiling requests carry the same Authorization header, ignored.
 *
 * Rounds: per framework, each case's server is started, then warmed up alone; then each round
 * measures every one of them in turn (rotating the order) while the others sit idle. Reported: the
 * median requests/s over rounds, the spread, the ratio to the same framework's ceiling (median of
 * per-round ratios) and the median of the rounds' p50/p99 latency.
 *
 * Pairs: what the checks decide on is measured head to head after the rounds (a framework's
 * share duels taking turns pair by pair): each jwt-sessions case with its framework's ceiling or
 * the ceiling's twin (its share of the limit), in runs one right after the other, the order
 * alternating (see SHARE_PAIRS: at the same time, the two compete for the caches too); each peer
 * with the jwt-sessions case it is compared with (the lead), in simultaneous runs (each server
 * under its own autocannon instance at the same time: both see the same machine speed, which on a
 * shared VM swings from one second to the next). A share whose pairs leave it undecided (the
 * median's 95 % interval straddles the minimum) gets more pairs, up to a cap: a case near its line
 * is measured longer instead of decided by one noisy run.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createSessions } from '../src/session/engine.js';
import { MemoryStore } from '../src/stores/memory.js';
import {
  type Auth,
  appAuth,
  FRAMEWORKS,
  type Framework,
  profileOf,
  SECRET,
  type ServerSpec,
  SIGNING_KEYS,
  USER,
  usesRedis,
  waitsOnRedis,
} from './http/spec.js';
import { floorCpuSeconds, hmacFloorVerifier } from './lib/floor.js';
import {
  type Check,
  defineBenchmark,
  formatOps,
  formatRatio,
  gitCommit,
  type Measurement,
  pairedRatio,
  RESULTS_DIR,
  type Table,
} from './lib/harness.js';
import {
  forkServer,
  type LoadResult,
  load,
  median,
  medianInterval,
  probeAuth,
  type ServerHandle,
  toMeasurement,
  transpileTree,
} from './lib/http-bench.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The servers run from a JavaScript copy of what they import (see transpileTree), one per run. */
const BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'jwt-sessions-bench-http', String(process.pid));
const SERVER_SCRIPT = join(BUILD_DIR, 'bench', 'http', 'server.js');
/**
 * Every server process (ceilings and peers alike) runs without V8's memory reducer. The bench,
 * not the code measured, decides which process idles: in the pairs the ceiling and its twin are
 * loaded at almost every turn while each case waits through the other cases' turns. A process
 * found idle when the reducer looks (~8 s after a major collection) gets its collections, which
 * shrink its heap, and its next second under load then costs 25-30 % more CPU per request
 * (Express, after 20 s idle: 2.2k vs 3.1k req per CPU-second, the no-auth app alike; with the
 * flag, 3.2k): shares against a ceiling that never idles came out low by that much whenever a
 * case had just idled (first pairs at 0.41-0.59 of the limit). See profile.md, session 12.
 */
const SERVER_NODE_ARGS = ['--no-memory-reducer'];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IN_CI = process.env.CI === 'true';
const CONNECTIONS = 50;
const PIPELINING = 1;

const AUTH_LABELS: Record<Auth, string> = {
  none: 'no auth (ceiling)',
  'none-twin': 'no auth, a second server (control)',
  'none-middleware': 'no auth, one no-op middleware',
  stateless: 'jwt-sessions stateless (memory)',
  'stateless-uncached': 'jwt-sessions stateless, verified cache off',
  'strict-memory': 'jwt-sessions strict (memory)',
  'strict-redis': 'jwt-sessions strict (Redis)',
  'strict-redis-cache': 'jwt-sessions strict (Redis + live cache)',
  'fastify-jwt': '@fastify/jwt (stateless)',
  'express-jwt': 'express-jwt (stateless)',
  'express-session': 'express-session + connect-redis',
  'nestjs-passport': '@nestjs/passport + passport-jwt (stateless)',
};

const OURS: Auth[] = [
  'none',
  'none-twin',
  'stateless',
  'strict-memory',
  'strict-redis',
  'strict-redis-cache',
];
const PEERS: Partial<Record<Framework, Auth[]>> = {
  // A guard as middleware makes a Hono route a middleware chain (an async compose, a Promise for
  // @hono/node-server): this row shows what that alone costs. Our Hono cases use
  // `withSession(handler)`, which keeps the route one handler and skips the chain.
  hono: ['none-middleware'],
  // What a token seen for the first time costs (no check: the verified cache is the default).
  // Express: the no-op middleware row is what a `requireAccess()` middleware's router layer costs.
  express: ['none-middleware', 'stateless-uncached', 'express-jwt', 'express-session'],
  fastify: ['stateless-uncached', 'fastify-jwt'],
  'nestjs-express': ['nestjs-passport'],
};

/** Share of the limit (req per CPU-second) each jwt-sessions case must reach. */
const MIN_SHARE: Partial<Record<Auth, number>> = {
  stateless: 0.9,
  'strict-memory': 0.9,
  'strict-redis-cache': 0.9,
  'strict-redis': 0.8,
};
/**
 * The control: the ceiling against its twin (a second process of the same app), the median of
 * their pairs, must lie within 1 ± this; else one of them runs at a speed of its own
 * and the shares, half of whose pairs are against each, are off by up to half the difference.
 */
const CONTROL_TOLERANCE = 0.05;
const controlPasses = (control: number) => Math.abs(control - 1) <= CONTROL_TOLERANCE;
/** Pairs of ceiling and twin processes tried before the control is reported as failed. */
const CONTROL_ATTEMPTS = 3;
/** Lead over a peer per CPU-second; when the peer is within 1/LEAD of the limit, see leadRule. */
const LEAD = 1.1;
/** Near the limit a 1.1x lead is impossible: then ahead of the peer and at least this share. */
const NEAR_LIMIT_SHARE = 0.95;
/** Each peer against the jwt-sessions case its users would compare it with. */
const PEER_LEADS: { framework: Framework; ours: Auth; peer: Auth }[] = [
  { framework: 'express', ours: 'strict-redis', peer: 'express-session' },
  { framework: 'fastify', ours: 'stateless', peer: 'fastify-jwt' },
  { framework: 'express', ours: 'stateless', peer: 'express-jwt' },
  { framework: 'nestjs-express', ours: 'stateless', peer: 'nestjs-passport' },
];
/** The peer leads of the last full runs (the lead must hold in each of three). */
const HISTORY_FILE = join(RESULTS_DIR, 'http-runs.json');
const HISTORY_RUNS = 3;

interface LeadResult {
  /** ours ÷ peer, req per CPU-second (median over the simultaneous pairs of the peer duel). */
  cpuRatio: number;
  oursShare: number;
  peerShare: number;
  pass: boolean;
}
interface HistoryEntry {
  date: string;
  commit: string | null;
  leads: Record<string, LeadResult>;
}

/**
 * The lead a peer must concede: 1.1x per CPU-second. Where the peer already serves more than 1/1.1
 * of the limit, 1.1x may not exist: there being ahead of it at >= 0.95 of the limit passes too.
 * It relaxes the rule, never tightens it: a 1.1x lead measured passes whatever the shares say.
 */
function leadPasses({ cpuRatio, oursShare, peerShare }: Omit<LeadResult, 'pass'>): boolean {
  if (cpuRatio >= LEAD) return true;
  return peerShare * LEAD > 1 && cpuRatio > 1 && oursShare >= NEAR_LIMIT_SHARE;
}

async function readHistory(): Promise<HistoryEntry[]> {
  try {
    return JSON.parse(await readFile(HISTORY_FILE, 'utf8')) as HistoryEntry[];
  } catch {
    return [];
  }
}

/**
 * CPU seconds of one HS256 verification floor (bench/lib/floor.ts, the token bench's floor) on the
 * token the servers verify, measured in this process while no server is under load.
 */
async function measureFloor(quick: boolean): Promise<number> {
  const sessions = createSessions({ keys: SIGNING_KEYS, store: new MemoryStore() });
  try {
    const { access } = await sessions.login({ payload: { ...USER } });
    const verify = hmacFloorVerifier(SECRET);
    verify(access); // throws unless the floor verifies the servers' token
    return floorCpuSeconds(verify, access, quick ? { rounds: 5, roundMs: 60 } : { rounds: 7, roundMs: 150 });
  } finally {
    await sessions.close();
  }
}

/** A case's req per CPU-second as a share of the limit 1 / (1/ceiling + floor), the ceiling measured beside it. */
const shareBeside = (ours: number, ceiling: number, floorSec: number) => ours * (1 / ceiling + floorSec);

/** The case's share of the limit in each paired measurement (rounds, or the share pairs). */
const sharesOf = (pairs: [number, number][], floorSec: number) =>
  pairs.map(([ours, ceiling]) => shareBeside(ours, ceiling, floorSec));

/** Median over paired measurements of the case's share of the limit. */
function shareOfLimit(pairs: [number, number][], floorSec: number): number {
  return median(sharesOf(pairs, floorSec));
}

/** `BENCH_HTTP_FRAMEWORKS=koa,next` runs only those frameworks' cases (default: all). */
const SELECTED: readonly Framework[] = process.env.BENCH_HTTP_FRAMEWORKS
  ? FRAMEWORKS.filter((f) => process.env.BENCH_HTTP_FRAMEWORKS!.split(',').includes(f))
  : FRAMEWORKS;

interface CaseRecord {
  spec: ServerSpec;
  label: string;
  /** Requests/s of each measured run. */
  perRound: number[];
  /** Requests per second of server CPU time (user + system) of each measured run. */
  perCpuRound: number[];
  p50: number[];
  p99: number[];
  requests: number;
  errors: number;
  non2xx: number;
  /** First failure (start, probe or load); the case is dropped from later rounds. */
  failure?: string;
  /** The server's stats at its last stop (live cache counters). */
  stats?: unknown;
  /** A peer's head-to-head with the jwt-sessions case it is compared with: ours ÷ peer per pair. */
  duelRatios: number[];
  /** The twin only: the control (median twin ÷ ceiling) of each earlier pair of processes, restarted after. */
  failedControls: number[];
  /**
   * A jwt-sessions case's pairs with its framework's ceiling (or the ceiling's twin): [case, ceiling] req per
   * CPU-second of each pair (its share of the limit is decided on these).
   */
  ceilingPairs: [number, number][];
}

const key = (framework: Framework, auth: Auth) => `${framework}/${auth}`;

async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Deletes whatever a run left under its prefix (a server that crashed before its cleanup). */
async function deleteLeftovers(prefix: string): Promise<number> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  let deleted = 0;
  try {
    const stream = client.scanStream({ match: `${prefix}*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (keys.length > 0) deleted += await client.unlink(...keys);
    }
  } finally {
    client.disconnect();
  }
  return deleted;
}

interface Timing {
  rounds: number;
  /** Warm-up of a freshly started server (JIT, connection pools, caches). */
  warmupSec: number;
  /** Short warm-up before each measured run (the server sat idle while the others ran). */
  rewarmSec: number;
  durationSec: number;
  /**
   * Peer duels: pairs of simultaneous runs of ours and the peer, each this long.
   * As long as a round: 0.6 s runs on Fastify (~20k requests) came out bimodal, a run either
   * holding a major collection or not.
   */
  duelPairs: number;
  duelSec: number;
  /**
   * Shares of the limit: pairs of runs of each jwt-sessions case and its ceiling (SHARE_PAIRS);
   * more, up to sharePairsMax, while the median's 95 % interval straddles the case's minimum.
   */
  sharePairs: number;
  sharePairsMax: number;
  shareSec: number;
}

/** One autocannon run on a case's server; its errors and non-2xx are tallied (they must stay 0). */
async function loadCase(record: CaseRecord, server: ServerHandle, durationSec: number): Promise<LoadResult> {
  const r = await load(server.url, {
    headers: server.headers,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    durationSec,
  });
  record.errors += r.errors;
  record.non2xx += r.non2xx;
  return r;
}

/** A started case: its record and its server. */
type Running = { record: CaseRecord; server: ServerHandle };

/**
 * Measured runs of one or more servers at the same time (after a short re-warm of all of them):
 * each one's load result and requests per server CPU-second, in the order given.
 */
async function measureTogether(runs: readonly Running[], rewarmSec: number, durationSec: number) {
  await Promise.all(runs.map(({ record, server }) => loadCase(record, server, rewarmSec)));
  const cpuBefore = await Promise.all(runs.map(({ server }) => server.cpuMicros()));
  const results = await Promise.all(runs.map(({ record, server }) => loadCase(record, server, durationSec)));
  const cpuAfter = await Promise.all(runs.map(({ server }) => server.cpuMicros()));
  return results.map((r, i) => {
    runs[i]!.record.requests += r.requests;
    return { r, perCpu: (r.requests / Math.max(cpuAfter[i]! - cpuBefore[i]!, 1)) * 1e6 };
  });
}

/** One measured run of one server (after a short re-warm), the others idle. */
async function measureRun(record: CaseRecord, server: ServerHandle, rewarmSec: number, durationSec: number) {
  const [only] = await measureTogether([{ record, server }], rewarmSec, durationSec);
  return only!;
}

/**
 * Whether a peer duel's two servers are loaded at the same time (the share pairs never are: see
 * SHARE_PAIRS): yes, unless one waits on Redis for every request. Then a second busy server takes
 * CPU from the Redis server it waits on, and its requests batch differently than alone (Hono
 * strict on Redis: 0.64 of the limit in pairs at the same time, 0.83 alone), so such pairs run one
 * after the other.
 */
const measuredTogether = (a: Auth, b: Auth) => !waitsOnRedis(a) && !waitsOnRedis(b);
/** How the pairs of two cases were run, for the checks' details. */
const pairsKind = (a: Auth, b: Auth) => (measuredTogether(a, b) ? 'simultaneous' : 'one-after-the-other');
/**
 * The shares' pairs (and the control's) run one after the other, never at the same time: two busy
 * servers on this machine's two cores also compete for its caches, and the one with the larger
 * working set loses more than its own code costs. Express here, ratio to the ceiling per
 * CPU-second, 8 pairs each way: strict with the live cache (ioredis and the cache loaded) 0.84
 * at the same time vs 0.93 alone; strict on memory 0.89 vs 0.92; the twin (same app) 0.98 vs 1.00.
 * Fastify's live cache went the other way (0.86 vs 0.84), Hono's came out even: the bias follows
 * the working sets, not the code measured. Alone, each run has the machine to itself, and the
 * alternating order cancels drift in the median.
 */
const SHARE_PAIRS = 'one-after-the-other';

/** One contender of `duels`: `a` against its partners, and what it has measured so far. */
interface Duel {
  a: Running;
  /** The partners take turns, two pairs each (one of each order). */
  partners: readonly Running[];
  pairs: number;
  maxPairs?: number;
  /** Called before each two pairs past `pairs`: true when the pairs so far settle the question. */
  decided?: (pairs: [number, number][]) => boolean;
  /** Both loaded at the same time (see measuredTogether), else one after the other. */
  together: boolean;
  /** [a, partner] req per CPU-second of each pair. */
  result: [number, number][];
  /** The first failure of either server; the duel stops there. */
  error?: unknown;
}

/**
 * Pairs of runs of each duel's `a` and a partner, the duels taking turns pair by pair (not one
 * duel after the other): every duel's pairs are spread over the same stretch of time, so none
 * gets only the end of it, when the partners have served the most load. Together, both are loaded
 * at the same moment, each by its own autocannon instance: both see the machine's speed of that
 * moment, so its swings cancel in their ratio. Which one starts first alternates.
 */
async function duels(list: readonly Duel[], rewarmSec: number, durationSec: number): Promise<void> {
  const measure = async (d: Duel, first: Running, second: Running) =>
    d.together
      ? measureTogether([first, second], rewarmSec, durationSec)
      : [
          await measureRun(first.record, first.server, rewarmSec, durationSec),
          await measureRun(second.record, second.server, rewarmSec, durationSec),
        ];
  const pairsAtMost = (d: Duel) => Math.max(d.pairs, d.maxPairs ?? d.pairs);
  const longest = Math.max(0, ...list.map(pairsAtMost));
  const active = new Set(list);
  for (let pair = 0; pair < longest && active.size > 0; pair++) {
    for (const d of active) {
      const extra = pair - d.pairs;
      const settled = extra >= 0 && extra % 2 === 0 && (d.decided === undefined || d.decided(d.result));
      if (settled || pair >= pairsAtMost(d)) {
        active.delete(d);
        continue;
      }
      const b = d.partners[Math.floor(pair / 2) % d.partners.length]!;
      const aFirst = pair % 2 === 0;
      try {
        const [first, second] = await measure(d, aFirst ? d.a : b, aFirst ? b : d.a);
        d.result.push(aFirst ? [first!.perCpu, second!.perCpu] : [second!.perCpu, first!.perCpu]);
      } catch (error) {
        d.error = error;
        active.delete(d);
      }
    }
  }
}

/** One duel alone (see `duels`); throws its failure. */
async function duel(
  d: Omit<Duel, 'result' | 'error'>,
  rewarmSec: number,
  durationSec: number,
): Promise<[number, number][]> {
  const one: Duel = { ...d, result: [] };
  await duels([one], rewarmSec, durationSec);
  if (one.error !== undefined) throw one.error;
  return one.result;
}

/** Whether pair shares settle `share >= min`: their median's 95 % interval lies on one side of it. */
function shareDecided(shares: readonly number[], min: number): boolean {
  const [low, high] = medianInterval(shares);
  return low >= min || high < min;
}

/**
 * One framework's cases: each server is started, probed and warmed up alone in turn; the rounds
 * then measure them one at a time in a rotating order (the others sit idle), so that a case and
 * its framework's ceiling are measured close together in time and machine-wide drift cancels in
 * their ratio.
 */
async function runGroup(
  group: CaseRecord[],
  t: Timing,
  floorSec: () => number,
  log: (m: string) => void,
): Promise<string[]> {
  const problems: string[] = [];
  const servers = new Map<CaseRecord, ServerHandle>();
  const fail = (record: CaseRecord, error: unknown) => {
    record.failure = (error as Error).message.split('\n', 1)[0]!;
    log(`${record.label}: FAILED: ${record.failure}`);
  };
  /** Starts, probes and warms up one case's server; a failure is recorded and leaves it out. */
  const startCase = async (record: CaseRecord) => {
    let server: ServerHandle;
    try {
      server = await forkServer(SERVER_SCRIPT, record.spec, { nodeArgs: SERVER_NODE_ARGS });
    } catch (error) {
      fail(record, error);
      return;
    }
    servers.set(record, server);
    try {
      const statusWithout = record.spec.auth.startsWith('none') ? 200 : 401;
      await probeAuth(server.url, server.headers, profileOf(USER), statusWithout);
      await loadCase(record, server, t.warmupSec);
    } catch (error) {
      fail(record, error);
      server.kill();
      servers.delete(record);
    }
  };
  let phaseStart = performance.now();
  const phases: string[] = [];
  const phaseDone = (name: string) => {
    const now = performance.now();
    phases.push(`${name} ${((now - phaseStart) / 1000).toFixed(1)} s`);
    phaseStart = now;
  };
  try {
    // Each server is loaded the moment it listens, not after the others have started: one idle
    // between start-up and its first requests was the likeliest to fall into V8's slow tick-object
    // state (see holdTickObjects in bench/http/server.ts, which every server also runs).
    for (const record of group) await startCase(record);
    phaseDone('start + probe + warm-up');
    for (let round = 0; round < t.rounds; round++) {
      for (let i = 0; i < group.length; i++) {
        const record = group[(i + round) % group.length]!;
        const server = servers.get(record);
        if (server === undefined) continue;
        try {
          const { r, perCpu } = await measureRun(record, server, t.rewarmSec, t.durationSec);
          record.perRound.push(r.rps);
          record.perCpuRound.push(perCpu);
          record.p50.push(r.p50);
          record.p99.push(r.p99);
        } catch (error) {
          fail(record, error);
          server.kill();
          servers.delete(record);
        }
      }
    }
    phaseDone('rounds');
    // Shares of the limit and peer leads are decided head to head: the rounds above put every case
    // of the group between a case and the next run of its ceiling or peer (~15 s on Express), and
    // this machine's speed drifts by more than the margins at stake over that time (the same
    // Express server measured 116-248 µs per request within one minute), and even from one second
    // to the next: pairs run at the same time cancel it (two identical servers: p10-p90 of the
    // ratio 0.96-1.04 at the same time, 0.88-1.09 one after the other).
    const running = (framework: Framework, auth: Auth) => {
      const record = group.find((r) => r.spec.auth === auth && r.spec.framework === framework);
      const server = record && servers.get(record);
      return record && server ? { record, server } : undefined;
    };
    const framework = group[0]?.spec.framework;
    let ceiling = framework && running(framework, 'none');
    let twin = framework && running(framework, 'none-twin');
    // The control: the ceiling against a second process of the same app must come out even. When
    // it does not, one of the two runs at a speed of its own (a process-level state, see
    // profile.md) and every share measured against them would be skewed: both are restarted and
    // the control measured again, up to CONTROL_ATTEMPTS times; every attempt is reported.
    for (let attempt = 1; framework && ceiling && twin; attempt++) {
      try {
        const pairs = await duel(
          { a: twin, partners: [ceiling], pairs: t.sharePairs, together: false },
          t.rewarmSec,
          t.shareSec,
        );
        twin.record.duelRatios = pairs.map(([a, b]) => a / b);
      } catch (error) {
        fail(twin.record, error);
        break;
      }
      const control = median(twin.record.duelRatios);
      if (controlPasses(control) || attempt === CONTROL_ATTEMPTS) break;
      twin.record.failedControls.push(control);
      log(
        `${framework}: control ${formatRatio(control)}, outside 1 ± ${CONTROL_TOLERANCE}: restarting the ceiling and its twin (attempt ${attempt + 1} of ${CONTROL_ATTEMPTS})`,
      );
      for (const { record, server } of [ceiling, twin]) {
        servers.delete(record);
        await server.stop().catch(() => undefined); // stop() kills the process whatever happens
        await startCase(record);
      }
      ceiling = running(framework, 'none');
      twin = running(framework, 'none-twin');
    }
    phaseDone('control pairs');
    // Each case's pairs take the ceiling and its twin in turn: one process's own speed (the
    // control shows how far it can be off) weighs on half of them only.
    // running() already leaves out killed servers; a twin whose control failed is left out too.
    const ceilings = [ceiling, twin].filter(
      (x): x is Running => x !== undefined && x.record.failure === undefined,
    );
    const shareDuels: Duel[] = [];
    for (const [auth, min] of Object.entries(MIN_SHARE) as [Auth, number][]) {
      const ours = framework && running(framework, auth);
      if (ceilings.length === 0 || !ours) continue;
      shareDuels.push({
        a: ours,
        partners: ceilings,
        pairs: t.sharePairs,
        maxPairs: t.sharePairsMax,
        decided: (pairs) => shareDecided(sharesOf(pairs, floorSec()), min),
        together: false, // one after the other: see SHARE_PAIRS
        result: [],
      });
    }
    await duels(shareDuels, t.rewarmSec, t.shareSec);
    for (const d of shareDuels) {
      d.a.record.ceilingPairs = d.result;
      // Either server may have failed: the case stops counting (the failure stays loud).
      if (d.error !== undefined) fail(d.a.record, d.error);
    }
    phaseDone('ceiling pairs');
    for (const lead of PEER_LEADS) {
      if (lead.framework !== framework) continue;
      const ours = running(framework, lead.ours);
      const peer = running(framework, lead.peer);
      if (!ours || !peer) continue;
      try {
        const pairs = await duel(
          { a: ours, partners: [peer], pairs: t.duelPairs, together: measuredTogether(lead.ours, lead.peer) },
          t.rewarmSec,
          t.duelSec,
        );
        peer.record.duelRatios = pairs.map(([a, b]) => a / b);
      } catch (error) {
        fail(peer.record, error);
      }
    }
    phaseDone('peer duels');
  } finally {
    await Promise.all(
      [...servers].map(async ([record, server]) => {
        try {
          record.stats = await server.stop();
        } catch (error) {
          problems.push(`${record.label}: server stop/cleanup failed: ${(error as Error).message}`);
        }
      }),
    );
    phaseDone('stop');
    log(`${group[0]?.spec.framework}: ${group.length} cases: ${phases.join(', ')}`);
  }
  return problems;
}

export default defineBenchmark({
  name: 'http',
  description:
    'GET /api/me req/s with autocannon: jwt-sessions on Express/Fastify/Hono/Koa/NestJS/Next.js vs no auth, @fastify/jwt, express-jwt, express-session, @nestjs/passport',
  async run(ctx) {
    // Warm-up: Express with auth needs 2-3 s of load to reach its steady state (JIT).
    const timing: Timing = ctx.quick
      ? {
          rounds: 3,
          warmupSec: 1.5,
          rewarmSec: 0.15,
          durationSec: 0.5,
          duelPairs: 4,
          duelSec: 0.5,
          sharePairs: 3,
          sharePairsMax: 3,
          shareSec: 0.5,
        }
      : {
          rounds: 5,
          warmupSec: 3,
          rewarmSec: 0.3,
          durationSec: 1.4,
          duelPairs: 11,
          duelSec: 1.4,
          sharePairs: 9,
          sharePairsMax: 25,
          shareSec: 1,
        };
    const { rounds, warmupSec, durationSec } = timing;
    const redisPrefix = `jwts-bench-http:${randomBytes(5).toString('hex')}:`;
    const redisUp = await redisReachable();
    const notes: string[] = [];
    const checks: Check[] = [];
    if (!redisUp) {
      if (IN_CI) throw new Error(`Redis is required under CI=true but unreachable at ${REDIS_URL}`);
      const message = `*** Redis unreachable at ${REDIS_URL}: the Redis cases are SKIPPED ***`;
      ctx.log(message);
      notes.push(message);
    }

    const records = new Map<string, CaseRecord>();
    for (const framework of SELECTED) {
      for (const auth of [...OURS, ...(PEERS[framework] ?? [])]) {
        if (usesRedis(auth) && !redisUp) continue;
        records.set(key(framework, auth), {
          spec: { framework, auth, redisUrl: REDIS_URL, redisPrefix },
          label: `${framework} ${AUTH_LABELS[auth]}`,
          perRound: [],
          perCpuRound: [],
          p50: [],
          p99: [],
          requests: 0,
          errors: 0,
          non2xx: 0,
          duelRatios: [],
          failedControls: [],
          ceilingPairs: [],
        });
      }
    }
    const all = [...records.values()];
    const floors: number[] = [];
    ctx.log(
      `${all.length} cases; per framework: start + ${warmupSec} s warm-up each, then ${rounds} rounds of ${timing.rewarmSec} s re-warm + ${durationSec} s measured; ${CONNECTIONS} connections, pipelining ${PIPELINING}`,
    );

    try {
      await transpileTree(ROOT, ['src', 'bench/http', 'bench/lib/http-bench.ts'], BUILD_DIR);
      if (SELECTED.includes('next')) {
        // The Next.js cases serve the adapter test app's `next build` (test/fixtures/next-app).
        const { ensureNextBuild } = await import('../test/adapters/next-server.js');
        await ensureNextBuild();
      }
      for (const framework of SELECTED) {
        // The floor is measured between the groups, so drift over the run shows in its median.
        floors.push(await measureFloor(ctx.quick));
        const group = all.filter((r) => r.spec.framework === framework);
        notes.push(...(await runGroup(group, timing, () => median(floors), ctx.log)));
      }
      floors.push(await measureFloor(ctx.quick));
    } finally {
      await rm(BUILD_DIR, { recursive: true, force: true });
      await rmdir(dirname(BUILD_DIR)).catch(() => undefined); // only when no other run uses it
      if (redisUp) {
        const left = await deleteLeftovers(redisPrefix);
        if (left > 0) notes.push(`${left} Redis key(s) left under ${redisPrefix} by a server were deleted.`);
      }
    }

    // Two views of each case: wall-clock requests/s, and requests per server CPU-second.
    const wall: Record<string, Measurement> = {};
    const perCpu: Record<string, Measurement> = {};
    for (const [k, r] of records) {
      if (r.perRound.length !== rounds) continue;
      wall[k] = toMeasurement(r.label, r.perRound, r.requests);
      perCpu[k] = toMeasurement(r.label, r.perCpuRound, r.requests);
    }
    const toCeiling = (view: Record<string, Measurement>, framework: Framework, auth: Auth) =>
      formatRatio(pairedRatio(view[key(framework, auth)]!, view[key(framework, 'none')]!));
    const floorSec = median(floors);
    /** The framework's limit, req per CPU-second: its ceiling's cost plus one verification floor. */
    const limitOf = (framework: Framework) => {
      const ceiling = perCpu[key(framework, 'none')];
      return ceiling ? 1 / (1 / ceiling.opsPerSec + floorSec) : undefined;
    };
    /** Share of the limit from the rounds: each round's run of the case beside that round's ceiling. */
    const roundsShareOf = (framework: Framework, auth: Auth) => {
      const ceiling = perCpu[key(framework, 'none')];
      const c = perCpu[key(framework, auth)];
      if (!ceiling || !c) return undefined;
      return shareOfLimit(
        c.perRound.map((x, i): [number, number] => [x, ceiling.perRound[i]!]),
        floorSec,
      );
    };
    /** Share of the limit: from the pairs with the ceiling where measured, else the rounds. */
    const shareOf = (framework: Framework, auth: Auth) => {
      const pairs = records.get(key(framework, auth))?.ceilingPairs ?? [];
      if (pairs.length > 0 && perCpu[key(framework, auth)]) return shareOfLimit(pairs, floorSec);
      return roundsShareOf(framework, auth);
    };
    const isCeiling = (auth: Auth) => appAuth(auth) === 'none';
    const rows: (string | number)[][] = [];
    for (const r of all) {
      const { framework, auth } = r.spec;
      const m = wall[key(framework, auth)];
      if (!m) {
        rows.push([framework, AUTH_LABELS[auth], `FAILED: ${r.failure ?? 'incomplete'}`]);
        continue;
      }
      const hasCeiling = wall[key(framework, 'none')] !== undefined;
      const c = perCpu[key(framework, auth)]!;
      rows.push([
        framework,
        AUTH_LABELS[auth],
        m.opsPerSec,
        `±${m.spreadPct.toFixed(0)}%`,
        hasCeiling ? toCeiling(wall, framework, auth) : 'n/a',
        c.opsPerSec,
        hasCeiling ? toCeiling(perCpu, framework, auth) : 'n/a',
        isCeiling(auth) ? '' : (limitOf(framework) ?? 'n/a'),
        isCeiling(auth) ? '' : formatRatio(shareOf(framework, auth) ?? Number.NaN),
        `${median(r.p50)} ms`,
        `${median(r.p99)} ms`,
        String(r.errors),
        String(r.non2xx),
      ]);
    }

    const bad = all.filter((r) => r.failure !== undefined || r.errors > 0 || r.non2xx > 0);
    checks.push({
      name: 'every case authenticates (401 without credentials, 200 + the user with them) and answers only 2xx',
      pass: bad.length === 0,
      detail:
        bad.length === 0
          ? `${all.length} cases, ${all.reduce((n, r) => n + r.requests, 0)} measured requests`
          : bad
              .map((r) => `${r.label}: ${r.failure ?? `${r.errors} errors, ${r.non2xx} non-2xx`}`)
              .join('; '),
    });
    for (const framework of SELECTED) {
      const twin = records.get(key(framework, 'none-twin'));
      if (twin === undefined) continue;
      const ratios = [...twin.duelRatios].sort((x, y) => x - y);
      const control = ratios.length > 0 ? median(ratios) : undefined;
      checks.push({
        name: `${framework} measurement control: the ceiling's twin (a second no-auth server) within ${formatRatio(1 - CONTROL_TOLERANCE)}–${formatRatio(1 + CONTROL_TOLERANCE)} of the ceiling per CPU-second`,
        pass: control !== undefined && controlPasses(control),
        detail:
          control === undefined
            ? 'not measured'
            : `${formatRatio(control)} (median of ${ratios.length} ${SHARE_PAIRS} pairs, 95 % interval ${medianInterval(ratios).map(formatRatio).join('–')}, all ${formatRatio(ratios[0]!)}–${formatRatio(ratios.at(-1)!)})${
                twin.failedControls.length === 0
                  ? ''
                  : `; attempt ${twin.failedControls.length + 1} of ${CONTROL_ATTEMPTS}: the earlier pair(s) of processes came out ${twin.failedControls.map(formatRatio).join(', ')} and were restarted`
              }`,
      });
    }
    for (const framework of SELECTED) {
      const limit = limitOf(framework);
      const middlewareOnly = shareOf(framework, 'none-middleware');
      for (const [auth, min] of Object.entries(MIN_SHARE) as [Auth, number][]) {
        const record = records.get(key(framework, auth));
        if (record === undefined) continue; // not run (Redis down: noted above)
        const share = shareOf(framework, auth);
        const pairShares = sharesOf(record.ceilingPairs, floorSec);
        const how =
          pairShares.length === 0
            ? 'median of the rounds'
            : `median of ${pairShares.length} ${SHARE_PAIRS} pairs with the ceiling and its twin, 95 % interval ${medianInterval(pairShares).map(formatRatio).join('–')}, all ${formatRatio(Math.min(...pairShares))}–${formatRatio(Math.max(...pairShares))}; the rounds: ${formatRatio(roundsShareOf(framework, auth) ?? Number.NaN)}`;
        checks.push({
          name: `${framework} ${AUTH_LABELS[auth]} >= ${min} of the limit per CPU-second`,
          pass: share !== undefined && share >= min,
          detail:
            share === undefined || limit === undefined
              ? 'not measured'
              : `${formatRatio(share)} (${how}) of ${formatOps(limit)} req/CPU-s = 1 / (1/${formatOps(perCpu[key(framework, 'none')]!.opsPerSec)} ceiling + ${(floorSec * 1e6).toFixed(2)} µs HS256 floor); the case: ${formatOps(perCpu[key(framework, auth)]!.opsPerSec)}${middlewareOnly === undefined ? '' : `; a no-op middleware alone: ${formatRatio(middlewareOnly)} of the limit`}`,
        });
      }
    }

    const leads: Record<string, LeadResult> = {};
    for (const { framework, ours, peer } of PEER_LEADS) {
      if (!SELECTED.includes(framework)) continue;
      const name = `${framework}: ${AUTH_LABELS[ours]} vs ${AUTH_LABELS[peer]}`;
      const a = perCpu[key(framework, ours)];
      const b = perCpu[key(framework, peer)];
      const oursShare = shareOf(framework, ours);
      const peerShare = shareOf(framework, peer);
      if (!a || !b || oursShare === undefined || peerShare === undefined) {
        if (records.has(key(framework, peer))) {
          checks.push({ name: `${name}: lead per CPU-second`, pass: false, detail: 'not measured' });
        }
        continue;
      }
      // The head-to-head pairs decide; the rounds' ratio is reported beside it.
      const duel = records.get(key(framework, peer))!.duelRatios;
      const roundsRatio = pairedRatio(a, b);
      const cpuRatio = duel.length > 0 ? median(duel) : roundsRatio;
      const pass = leadPasses({ cpuRatio, oursShare, peerShare });
      leads[name] = { cpuRatio, oursShare, peerShare, pass };
      const rule =
        peerShare * LEAD > 1
          ? `the peer is at ${formatRatio(peerShare)} of the limit, so ${LEAD}x may be out of reach: >= ${LEAD}x, or ahead of it and >= ${NEAR_LIMIT_SHARE} of the limit`
          : `>= ${LEAD}x`;
      checks.push({
        name: `${name}: lead per CPU-second (${rule})`,
        pass,
        detail: `${formatRatio(cpuRatio)} per CPU-second (${duel.length > 0 ? `median of ${duel.length} ${pairsKind(ours, peer)} pairs, ${formatRatio(Math.min(...duel))}–${formatRatio(Math.max(...duel))}; the table's rounds: ${formatRatio(roundsRatio)}, ` : ''}${formatOps(a.opsPerSec)} vs ${formatOps(b.opsPerSec)}; shares of the limit ${formatRatio(oursShare)} vs ${formatRatio(peerShare)}); req/s ${formatRatio(pairedRatio(wall[key(framework, ours)]!, wall[key(framework, peer)]!))}`,
      });
    }

    // Three full runs: each appends its leads; the check holds only when all three pass.
    let history = await readHistory();
    const allPeersRun = PEER_LEADS.every(({ framework }) => SELECTED.includes(framework));
    if (!ctx.quick && allPeersRun && Object.keys(leads).length > 0) {
      history = [...history, { date: new Date().toISOString(), commit: gitCommit(), leads }].slice(
        -HISTORY_RUNS,
      );
      await writeFile(HISTORY_FILE, `${JSON.stringify(history, null, 2)}\n`);
    } else {
      notes.push(
        `This run is ${ctx.quick ? 'quick' : 'partial'}: it is not recorded in ${HISTORY_FILE.slice(HISTORY_FILE.indexOf('bench/'))} (full runs of every peer's framework only).`,
      );
    }
    const leadNames = PEER_LEADS.map(
      ({ framework, ours, peer }) => `${framework}: ${AUTH_LABELS[ours]} vs ${AUTH_LABELS[peer]}`,
    );
    // A run that is not recorded still shows its own leads beside the recorded ones.
    const shown =
      history.at(-1)?.leads === leads ? history : [...history, { date: 'this run', commit: null, leads }];
    const historyRows = leadNames.map((name) => [
      name,
      ...shown.map((run) => {
        const lead = run.leads[name];
        return lead ? `${formatRatio(lead.cpuRatio)} ${leadPasses(lead) ? 'PASS' : 'FAIL'}` : 'n/a';
      }),
    ]);
    checks.push({
      name: `every peer lead holds in each of the last ${HISTORY_RUNS} full runs (${HISTORY_FILE.slice(HISTORY_FILE.indexOf('bench/'))})`,
      pass:
        history.length >= HISTORY_RUNS &&
        // The rule applied to each run's numbers (a run recorded under an older rule is judged anew).
        history.every((run) =>
          leadNames.every((n) => run.leads[n] !== undefined && leadPasses(run.leads[n])),
        ),
      detail: `${history.length} run(s) recorded: ${history
        .map(
          (run) =>
            `${run.date.slice(0, 16)} ${run.commit ?? '?'}: ${leadNames.map((n) => (run.leads[n] ? formatRatio(run.leads[n]!.cpuRatio) : 'n/a')).join(', ')}`,
        )
        .join('; ')}`,
    });

    for (const r of all) {
      const cache = (r.stats as { liveCache?: { hits: number; misses: number; bypassed: number } } | null)
        ?.liveCache;
      if (cache) {
        notes.push(
          `${r.label}, last round's server: ${cache.hits} cache hits, ${cache.misses} misses, ${cache.bypassed} bypassed.`,
        );
      }
    }
    notes.push(
      `autocannon ${CONNECTIONS} connections, pipelining ${PIPELINING}. One server process per case (NODE_ENV=production), only one under load at a time: a framework's servers are started, probed and warmed up (${warmupSec} s) one by one, each the moment it listens (every server process holds one of Node's tick objects per argument count: see profile.md, session 10; and runs with ${SERVER_NODE_ARGS.join(' ')}: an idle process's memory-reducer collections made its next second 25-30 % costlier, and the cases idle far more than the ceilings: see session 12), then measured in ${rounds} rounds of ${durationSec} s (after ${timing.rewarmSec} s of re-warm), rotating the order; the idle ones wait. The load generator and the server share the machine: read the ratios, not the absolute numbers.`,
      `limit = 1 / (1/ceiling + floor), req per CPU-second: the framework without auth plus one HS256 verification at the floor (bench/lib/floor.ts, the token bench's floor: HMAC, decode, JSON.parse, exp), ${(floorSec * 1e6).toFixed(2)} µs of CPU, median of ${floors.length} measurements in this run between the framework groups. share of limit, for the jwt-sessions cases the checks hold to a share (${Object.keys(MIN_SHARE).join(', ')}): measured head to head after the rounds, ${timing.sharePairs} pairs of runs of ${timing.shareSec} s of the case and its framework's ceiling or the ceiling's twin (a second process of the no-auth app; the two take turns, two pairs each), one right after the other (each after ${timing.rewarmSec} s of re-warm; which runs first alternates; not at the same time: two busy servers on two cores also compete for the caches, and the one with the larger working set loses more than its code costs: Express, strict with the live cache, 0.84 of the ceiling at the same time vs 0.93 alone, the twin 0.98 vs 1.00), then two more at a time while the 95 % interval of their median (the sign test's, distribution-free) straddles the case's minimum, up to ${timing.sharePairsMax} pairs; share = median over the pairs of the case's req/CPU-s ÷ the limit from the ceiling's (or twin's) run beside it; the control: the twin against the ceiling in ${timing.sharePairs} such pairs must come out within 1 ± ${CONTROL_TOLERANCE}, else a process running at a speed of its own skews the shares: then both are restarted (started, probed and warmed up anew) and the control measured again, up to ${CONTROL_ATTEMPTS} pairs of processes, the shares measured against the last (the control's check reports every attempt); for the other rows, the same over the rounds (each round's run ÷ that round's limit).`,
      `Peer leads are measured head to head after a framework's rounds: ${timing.duelPairs} pairs of simultaneous runs of ${timing.duelSec} s, each server under its own autocannon instance (after ${timing.rewarmSec} s of re-warm of both; express-session against strict on Redis, both waiting on Redis, one after the other, the order alternating), lead = median of the pairs' ratios of req per CPU-second. The rounds alone put every other case of the framework between a case and its peer's next run, and this machine's speed swings by more than the leads at stake from one second to the next; two servers loaded at the same moment see the same machine. Peer leads must be >= ${LEAD}x per CPU-second in each of ${HISTORY_RUNS} full runs; where ${LEAD}x the peer would pass the limit, being ahead of it at >= ${NEAR_LIMIT_SHARE} of the limit passes too. The shares are against the no-auth limit: on Express and Hono our cases guard the route as one handler (\`withSession\`), while the peers are middleware and pay the framework's middleware layer (the no-op middleware row).`,
      "vs ceiling = median over rounds of (case / same framework without auth, same round). req/CPU-s = requests served per second of the server process's CPU time (user + system, all threads) during the measured run: the cost of a request, which depends far less than req/s on what else the machine runs. Latency: autocannon whole-millisecond percentiles, median over rounds.",
      'Every JWT case verifies the same HS256 token (jwt-sessions checks typ, kid/alg and claims; @fastify/jwt = fast-jwt, express-jwt = jsonwebtoken, both checking signature and exp). express-session: resave false, saveUninitialized false, so each request is one Redis GET plus connect-redis touch (EXPIRE).',
      `Strict (Redis): one session read per request, the reads of one event-loop turn sent as one script call whose reply is one JSON text of the short fields plus each session's data as a bulk string (a lone read is one HMGET); with the live cache, an in-process lookup kept coherent by pub/sub invalidations. Redis keys under a unique prefix (${redisPrefix}), deleted afterwards.`,
    );

    const table: Table = {
      title: 'GET /api/me, requests/s (median of rounds)',
      columns: [
        'framework',
        'auth',
        'req/s',
        'spread',
        'vs ceiling',
        'req/CPU-s',
        'CPU vs ceiling',
        'limit (req/CPU-s)',
        'share of limit',
        'p50',
        'p99',
        'errors',
        'non-2xx',
      ],
      rows,
    };
    const historyTable: Table = {
      title: `Peer leads per CPU-second, last ${HISTORY_RUNS} full runs (bench/results/http-runs.json)`,
      columns: ['comparison', ...shown.map((run) => `${run.date.slice(0, 10)} ${run.commit ?? ''}`.trim())],
      rows: historyRows,
    };
    return {
      name: 'http',
      title: 'HTTP: authenticated GET /api/me',
      description:
        'autocannon on loopback against one server process per case; the same route, token and user in every case.',
      tables: [table, historyTable],
      checks,
      notes,
      data: { records: Object.fromEntries(records), wall, perCpu, floorSec, floors, leads },
    };
  },
});

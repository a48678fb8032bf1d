/**
 * The HTTP cost of DPoP (issue 16, "Must show"): an authenticated `GET /api/me` on Fastify with a
 * DPoP-bound token (`Authorization: DPoP` + a fresh ES256 proof with `ath`, verified and recorded
 * in the memory store's replay cache) beside the same request with a bearer token of an unbound
 * session, in one run; plus the bearer request on an app with DPoP off, which shows that an unbound
 * session pays nothing for DPoP being enabled.
 *
 * Requests go through Fastify's full pipeline in process (`app.inject`, no sockets), so the
 * numbers are the framework's and the library's work per request, without a load generator
 * sharing the machine. Every DPoP request carries its own proof (one proof is accepted once),
 * made before the timed rounds: signing is the client's cost, not the server's.
 */
import { generateKeyPairSync } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { jwtSessionRoutes, jwtSessions } from '../src/adapters/fastify.js';
import type { DpopHttpOptions } from '../src/http/dpop.js';
import { createSessions } from '../src/session/engine.js';
import { MemoryStore } from '../src/stores/memory.js';
import { createDpopProof } from '../src/tokens/index.js';
import {
  type BenchCase,
  type Check,
  compare,
  defineBenchmark,
  formatRatio,
  pairedRatio,
} from './lib/harness.js';

const ORIGIN = 'https://api.example.com';
const USER = { login: 'bench@example.com', password: 'bench-password' };

async function buildApp(dpop: DpopHttpOptions | undefined): Promise<FastifyInstance> {
  const sessions = createSessions({
    keys: { signing: { alg: 'HS256', key: 'a benchmark HMAC secret of 32+ bytes!' } },
    store: new MemoryStore(),
  });
  const app = Fastify({ logger: false });
  await app.register(jwtSessions, { sessions, ...(dpop !== undefined && { dpop }) });
  await app.register(jwtSessionRoutes, {
    prefix: '/auth',
    authenticate: ({ login, password }) =>
      login === USER.login && password === USER.password
        ? { payload: { sub: 'u1', name: 'Bench User' }, namespace: 'u1' }
        : null,
  });
  app.get('/api/me', { onRequest: app.requireAccess() }, async (request) => request.jwtSession!.claims);
  await app.ready();
  return app;
}

async function login(app: FastifyInstance, proof?: string): Promise<string> {
  const reply = await app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: proof === undefined ? {} : { dpop: proof },
    payload: USER,
  });
  if (reply.statusCode !== 200) throw new Error(`login failed: ${reply.statusCode} ${reply.body}`);
  return reply.json().access_token as string;
}

export default defineBenchmark({
  name: 'dpop',
  description: 'HTTP cost of a DPoP-bound GET vs a bearer GET (Fastify, in process)',
  async run(ctx) {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const proofFor = (method: string, path: string, accessToken?: string) =>
      createDpopProof({
        privateKey: key,
        alg: 'ES256',
        method,
        url: `${ORIGIN}${path}`,
        ...(accessToken !== undefined && { accessToken }),
      });

    const withDpop = await buildApp({ mode: 'optional', origin: ORIGIN });
    const withoutDpop = await buildApp(undefined);
    const boundToken = await login(withDpop, proofFor('POST', '/auth/login'));
    const bearerToken = await login(withDpop);
    const bearerTokenOff = await login(withoutDpop);

    // One proof per request; enough for warm-up and every round (the runner calibrates batches).
    const options = ctx.quick
      ? { rounds: 5, roundMs: 150, warmupMs: 150 }
      : { rounds: 9, roundMs: 400, warmupMs: 300 };
    const needed = Math.ceil(((options.rounds * options.roundMs + options.warmupMs) / 1000) * 12_000);
    ctx.log(`making ${needed} proofs`);
    const proofs = Array.from({ length: needed }, () => proofFor('GET', '/api/me', boundToken));
    let next = 0;

    const get = async (app: FastifyInstance, headers: Record<string, string>) => {
      const reply = await app.inject({ method: 'GET', url: '/api/me', headers });
      if (reply.statusCode !== 200) throw new Error(`GET /api/me: ${reply.statusCode} ${reply.body}`);
      return reply;
    };
    // Each case must pass before it is measured (no error path is timed).
    await get(withDpop, { authorization: `Bearer ${bearerToken}` });
    await get(withoutDpop, { authorization: `Bearer ${bearerTokenOff}` });

    const cases: BenchCase[] = [
      {
        label: 'bearer GET, DPoP off',
        async: true,
        fn: () => get(withoutDpop, { authorization: `Bearer ${bearerTokenOff}` }),
      },
      {
        label: 'bearer GET (unbound session), DPoP optional',
        async: true,
        fn: () => get(withDpop, { authorization: `Bearer ${bearerToken}` }),
      },
      {
        label: 'DPoP-bound GET (proof + ath + replay cache)',
        async: true,
        fn: () => {
          const proof = proofs[next++];
          if (proof === undefined) throw new Error('ran out of pre-made proofs');
          return get(withDpop, { authorization: `DPoP ${boundToken}`, dpop: proof });
        },
      },
    ];
    ctx.log('Fastify GET /api/me: bearer vs DPoP-bound');
    const m = await compare(cases, options);
    const off = m[cases[0]!.label]!;
    const bearer = m[cases[1]!.label]!;
    const bound = m[cases[2]!.label]!;
    const boundRatio = pairedRatio(bound, bearer);
    const unboundRatio = pairedRatio(bearer, off);
    const checks: Check[] = [
      {
        name: 'an unbound bearer request costs the same with DPoP enabled (>= 0.9x DPoP off)',
        pass: unboundRatio >= 0.9,
        detail: formatRatio(unboundRatio),
      },
    ];
    await withDpop.close();
    await withoutDpop.close();
    return {
      name: 'dpop',
      title: 'DPoP: HTTP cost of a bound request (Fastify)',
      description: 'GET /api/me through Fastify (app.inject), strict verify on the memory store.',
      tables: [
        {
          title: 'Fastify GET /api/me (requests/s, median of rounds)',
          columns: ['case', 'req/s', 'spread', 'vs bearer (DPoP optional)'],
          rows: [
            [
              off.label,
              off.opsPerSec,
              `±${off.spreadPct.toFixed(0)}%`,
              formatRatio(pairedRatio(off, bearer)),
            ],
            [bearer.label, bearer.opsPerSec, `±${bearer.spreadPct.toFixed(0)}%`, '1.00x'],
            [bound.label, bound.opsPerSec, `±${bound.spreadPct.toFixed(0)}%`, formatRatio(boundRatio)],
          ],
        },
      ],
      checks,
      notes: [
        `A DPoP-bound request runs at ${formatRatio(boundRatio)} of a bearer request: one ES256 signature verification, the ath hash and one replay-cache insert per request on top.`,
        'Proofs are made before the timed rounds (one per request); the memory store keeps the replay entries.',
      ],
      data: { measurements: m, boundVsBearer: boundRatio, bearerVsOff: unboundRatio },
    };
  },
});

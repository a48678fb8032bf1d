/**
 * Token sign/verify throughput: this library against a raw node:crypto floor, jose, fast-jwt and
 * jsonwebtoken, for HS256, ES256, EdDSA and RS256, with the same typical access-token claims.
 *
 * The floor is the least work any verifier must do with node:crypto and a cached KeyObject, without
 * the strictness checks: find the two dots, check the signature (HMAC: createHmac + digest, decode
 * the signature, timingSafeEqual; others: crypto.verify), base64url-decode and JSON.parse the
 * payload, check `exp`. It does not even parse the header (one fixed key). Sign floor:
 * JSON.stringify + base64url + MAC or crypto.sign with a precomputed header segment.
 *
 * Checks (PASS/FAIL lines, issue "Must show"): HS256 verify >= 0.9x the floor and >= 10x jose;
 * ES256, EdDSA and RS256 verify >= 0.9x the floor.
 *
 * Every verifier is given the same token (ours) and its best-case key form (jose: a CryptoKey
 * imported once; fast-jwt/jsonwebtoken: cached KeyObjects or secrets; fast-jwt's cache is off).
 * jose is async (WebCrypto): measured as sequential awaits, as a request handler would call it.
 */
import { Buffer } from 'node:buffer';
import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
  randomBytes,
  type SignKeyObjectInput,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { importJWK, importPKCS8, importSPKI, jwtVerify, SignJWT } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import {
  type Algorithm,
  accessTokenHash,
  createDpopProof,
  generateKey,
  JwtCodec,
  verifyDpopProof,
} from '../src/tokens/index.js';
import { hmacFloorVerifier, hmacTextFloorVerifier, signatureFloorVerifier } from './lib/floor.js';
import {
  type BenchCase,
  type Check,
  compare,
  defineBenchmark,
  formatRatio,
  type Measurement,
  pairedRatio,
  type Table,
} from './lib/harness.js';

const ALGS: Algorithm[] = ['HS256', 'ES256', 'EdDSA', 'RS256'];
const IMPLS = [
  'node:crypto floor',
  'floor, text compare',
  'jwt-sessions',
  'jose',
  'fast-jwt',
  'jsonwebtoken',
] as const;
type Impl = (typeof IMPLS)[number];
const ISS = 'https://auth.example.com';
const AUD = 'api';

function typicalClaims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: '1234567890',
    sid: 'Yk3vX1s9b2QpL0aZr8TuWg',
    jti: 'c0a8f3e4b1d24a7e9f6e5d4c3b2a1908',
    name: 'Jane Doe',
    roles: ['user'],
    iat: now,
    exp: now + 3600,
  };
}

interface Contestants {
  sign: Partial<Record<Impl, BenchCase>>;
  verify: Partial<Record<Impl, BenchCase>>;
  tokenBytes: number;
}

async function contestants(alg: Algorithm): Promise<Contestants> {
  const claims = typicalClaims();
  const fullClaims = { ...claims, iss: ISS, aud: AUD };
  const hmac = alg.startsWith('HS');
  const generated = generateKey(alg);
  const secret = hmac ? randomBytes(32) : undefined;
  const privateKey: KeyObject = hmac ? generated.privateKey : createPrivateKey(generated.privatePem!);
  const publicKey: KeyObject = hmac ? generated.privateKey : createPublicKey(generated.publicPem!);

  const codec = new JwtCodec({
    keys: { signing: { alg, key: hmac ? secret! : privateKey } },
    issuer: ISS,
    audience: AUD,
    // The verification itself is compared (fast-jwt's cache is off too): no verified-token cache.
    verifiedCacheSize: 0,
  });
  const kid = codec.keys.signingKid;
  const token = codec.sign('at+jwt', claims);

  // --- raw node:crypto floor -----------------------------------------------------------------
  const hash = alg === 'EdDSA' ? null : 'sha256';
  const secretKey = hmac ? createSecretKey(secret!) : undefined;
  const signParams: SignKeyObjectInput | KeyObject =
    alg === 'ES256'
      ? { key: privateKey, dsaEncoding: 'ieee-p1363' }
      : alg === 'RS256'
        ? { key: privateKey, padding: constants.RSA_PKCS1_PADDING }
        : privateKey;
  const verifyParams: VerifyKeyObjectInput | KeyObject =
    alg === 'ES256'
      ? { key: publicKey, dsaEncoding: 'ieee-p1363' }
      : alg === 'RS256'
        ? { key: publicKey, padding: constants.RSA_PKCS1_PADDING }
        : publicKey;
  const headerSegment = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url');
  const floorVerify = hmac ? hmacFloorVerifier(secretKey!) : signatureFloorVerifier(hash, verifyParams);
  // HS256 only: the floor with this library's trick (compare the digest's base64url text with the
  // signature text in constant time, so the signature is never decoded), for transparency.
  const floorVerifyText = hmacTextFloorVerifier(secretKey ?? createSecretKey(Buffer.alloc(32)));
  const floorSign = () => {
    const input = `${headerSegment}.${Buffer.from(JSON.stringify(fullClaims)).toString('base64url')}`;
    const sig = hmac
      ? createHmac('sha256', secretKey!).update(input).digest('base64url')
      : cryptoSign(hash, Buffer.from(input), signParams).toString('base64url');
    return `${input}.${sig}`;
  };

  // --- jose: CryptoKeys imported once ---------------------------------------------------------
  const joseSignKey = hmac
    ? await importJWK({ kty: 'oct', k: secret!.toString('base64url') }, alg)
    : await importPKCS8(generated.privatePem!, alg);
  const joseVerifyKey = hmac ? joseSignKey : await importSPKI(generated.publicPem!, alg);
  const joseOptions = { algorithms: [alg], issuer: ISS, audience: AUD, typ: 'at+jwt' };

  // --- fast-jwt ----------------------------------------------------------------------------------
  const fjKey = hmac ? secret! : generated.privatePem!;
  const fjSign = createSigner({ key: fjKey, algorithm: alg, kid, header: { alg, typ: 'at+jwt' } });
  const fjVerify = createVerifier({
    key: hmac ? secret! : generated.publicPem!,
    algorithms: [alg],
    allowedIss: ISS,
    allowedAud: AUD,
    cache: false,
  });

  // --- jsonwebtoken (no EdDSA support) -----------------------------------------------------------
  const jwtSupported = alg !== 'EdDSA';
  const jwtSignKey = hmac ? secret! : privateKey;
  const jwtVerifyKey = hmac ? secret! : publicKey;

  // Sanity: every verifier accepts our token and reads the same claims; every signer's token
  // verifies in our codec when it carries our header shape.
  const expectSub = (p: { sub?: unknown }) => {
    if (p.sub !== claims.sub) throw new Error(`${alg}: wrong claims`);
  };
  expectSub(floorVerify(token));
  if (hmac) expectSub(floorVerifyText(token));
  expectSub(codec.verify(token, { typ: 'at+jwt' }).payload);
  expectSub((await jwtVerify(token, joseVerifyKey, joseOptions)).payload);
  expectSub(fjVerify(token) as { sub: string });
  if (jwtSupported)
    expectSub(
      jsonwebtoken.verify(token, jwtVerifyKey, {
        algorithms: [alg as 'HS256'],
        issuer: ISS,
        audience: AUD,
      }) as { sub: string },
    );
  codec.verify(floorSign(), { typ: 'at+jwt' });
  codec.verify(fjSign(fullClaims), { typ: 'at+jwt' });

  const c: Contestants = {
    tokenBytes: token.length,
    sign: {
      'node:crypto floor': { label: `${alg} sign floor`, fn: floorSign },
      'jwt-sessions': { label: `${alg} sign jwt-sessions`, fn: () => codec.sign('at+jwt', claims) },
      jose: {
        label: `${alg} sign jose`,
        async: true,
        fn: () => new SignJWT(fullClaims).setProtectedHeader({ alg, typ: 'at+jwt', kid }).sign(joseSignKey),
      },
      'fast-jwt': { label: `${alg} sign fast-jwt`, fn: () => fjSign(fullClaims) },
    },
    verify: {
      'node:crypto floor': { label: `${alg} verify floor`, fn: () => floorVerify(token) },
      ...(hmac && {
        'floor, text compare': {
          label: `${alg} verify floor, text compare`,
          fn: () => floorVerifyText(token),
        },
      }),
      'jwt-sessions': {
        label: `${alg} verify jwt-sessions`,
        fn: () => codec.verify(token, { typ: 'at+jwt' }),
      },
      jose: {
        label: `${alg} verify jose`,
        async: true,
        fn: () => jwtVerify(token, joseVerifyKey, joseOptions),
      },
      'fast-jwt': { label: `${alg} verify fast-jwt`, fn: () => fjVerify(token) },
    },
  };
  if (jwtSupported) {
    c.sign.jsonwebtoken = {
      label: `${alg} sign jsonwebtoken`,
      fn: () =>
        jsonwebtoken.sign(fullClaims, jwtSignKey, {
          algorithm: alg as 'HS256',
          keyid: kid,
          header: { alg, typ: 'at+jwt' },
        }),
    };
    c.verify.jsonwebtoken = {
      label: `${alg} verify jsonwebtoken`,
      fn: () =>
        jsonwebtoken.verify(token, jwtVerifyKey, {
          algorithms: [alg as 'HS256'],
          issuer: ISS,
          audience: AUD,
        }),
    };
  }
  return c;
}

/**
 * DPoP proof verification (issue 16): `verifyDpopProof` (every RFC 9449 §4.3 check, `ath`
 * included, the proof key cached) beside the raw node:crypto verify of the same proof's signature
 * with a cached KeyObject: the difference is what the checks cost on top of one signature check.
 */
async function dpopProofTable(
  ctx: { quick: boolean },
  checks: Check[],
): Promise<{ table: Table; data: Record<string, Measurement> }> {
  const rows: (string | number)[][] = [];
  const data: Record<string, Measurement> = {};
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const { privateKey, publicKey } = generateKey(alg);
    const url = 'https://api.example.com/v1/items';
    const accessToken = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl';
    const iat = Math.floor(Date.now() / 1000);
    const proof = createDpopProof({ privateKey, alg, method: 'GET', url, accessToken, iat });
    const dot = proof.lastIndexOf('.');
    const signingInput = Buffer.from(proof.slice(0, dot));
    const verifyKey: VerifyKeyObjectInput | KeyObject =
      alg === 'ES256' ? { key: publicKey!, dsaEncoding: 'ieee-p1363' } : publicKey!;
    const hash = alg === 'ES256' ? 'sha256' : null;
    const raw = () => {
      if (!cryptoVerify(hash, signingInput, verifyKey, Buffer.from(proof.slice(dot + 1), 'base64url'))) {
        throw new Error('bad signature');
      }
    };
    const options = { method: 'GET', url, accessToken, now: iat };
    raw();
    if (verifyDpopProof(proof, options).htu !== url || accessTokenHash(accessToken).length !== 43) {
      throw new Error(`${alg}: proof does not verify`);
    }
    const cases: BenchCase[] = [
      { label: `${alg} proof: raw node:crypto verify`, fn: raw },
      { label: `${alg} proof: verifyDpopProof`, fn: () => verifyDpopProof(proof, options) },
    ];
    // Many short alternating rounds (as the verify head-to-head): a load burst on the shared
    // machine spoils few pairs, and the median of the paired ratios ignores them.
    const m = await compare(
      cases,
      ctx.quick ? { rounds: 31, roundMs: 25, warmupMs: 100 } : { rounds: 61, roundMs: 60, warmupMs: 200 },
    );
    const rawM = m[cases[0]!.label]!;
    const ours = m[cases[1]!.label]!;
    Object.assign(data, m);
    rows.push([alg, 'raw node:crypto verify', rawM.opsPerSec, `±${rawM.spreadPct.toFixed(0)}%`, '1.00x']);
    const ratio = pairedRatio(ours, rawM);
    rows.push([alg, 'verifyDpopProof', ours.opsPerSec, `±${ours.spreadPct.toFixed(0)}%`, formatRatio(ratio)]);
    checks.push({
      name: `${alg} DPoP proof verify >= 0.8x one raw signature verify`,
      pass: ratio >= 0.8,
      detail: `${formatRatio(ratio)} (${Math.round(ours.opsPerSec)} vs ${Math.round(rawM.opsPerSec)} ops/s, ${proof.length} B proof)`,
    });
  }
  return {
    table: {
      title: 'DPoP proof verify (ops/s, median of rounds)',
      columns: ['alg', 'implementation', 'ops/s', 'spread', 'vs raw verify'],
      rows,
    },
    data,
  };
}

export default defineBenchmark({
  name: 'tokens',
  description: 'JWT sign/verify ops/s: jwt-sessions vs raw node:crypto, jose, fast-jwt, jsonwebtoken',
  async run(ctx) {
    const tables: Table[] = [];
    const checks: Check[] = [];
    const data: Record<string, Record<string, Record<string, Measurement>>> = {};
    const base = ctx.quick ? ctx.options : { rounds: 5, roundMs: 300, warmupMs: 200 };
    const tokenSizes: string[] = [];
    for (const op of ['verify', 'sign'] as const) {
      const rows: (string | number)[][] = [];
      for (const alg of ALGS) {
        const c = await contestants(alg);
        if (op === 'verify') tokenSizes.push(`${alg} ${c.tokenBytes} B`);
        const cases = IMPLS.map((impl) => c[op][impl]).filter((x): x is BenchCase => x !== undefined);
        // The HS256 verify ratio is the tightest requirement: give it more rounds. Quick runs too get
        // enough (shorter) rounds for a stable median of the paired ratios the checks use.
        const options =
          op === 'verify'
            ? ctx.quick
              ? { rounds: 9, roundMs: 60, warmupMs: 100 }
              : { rounds: alg === 'HS256' ? 21 : 11, roundMs: 150, warmupMs: 200 }
            : base;
        ctx.log(`${alg} ${op}: ${cases.length} implementations`);
        const m = await compare(cases, options);
        data[op] ??= {};
        data[op][alg] = m;
        const get = (impl: Impl) => {
          const cs = c[op][impl];
          return cs ? m[cs.label] : undefined;
        };
        const floor = get('node:crypto floor')!;
        const jose = get('jose')!;
        for (const impl of IMPLS) {
          const r = get(impl);
          if (!r) {
            if (impl !== 'floor, text compare') rows.push([alg, impl, 'n/a', '', '', '']);
            continue;
          }
          rows.push([
            alg,
            impl,
            r.opsPerSec,
            `±${r.spreadPct.toFixed(0)}%`,
            formatRatio(pairedRatio(r, floor)),
            formatRatio(pairedRatio(r, jose)),
          ]);
        }
        if (op === 'verify') {
          const ours = get('jwt-sessions')!;
          // The floor check gets a head-to-head of its own: only the two cases, many short alternating
          // rounds, so a burst of load on the shared machine spoils few pairs and the median of the
          // paired ratios ignores them (the table's ratios come from fewer, longer rounds).
          const duelCases = [c.verify['node:crypto floor']!, c.verify['jwt-sessions']!];
          const duel = await compare(
            duelCases,
            ctx.quick
              ? { rounds: 31, roundMs: 25, warmupMs: 100 }
              : { rounds: 61, roundMs: 60, warmupMs: 200 },
          );
          data['verify head-to-head'] ??= {};
          data['verify head-to-head'][alg] = duel;
          const duelFloor = duel[duelCases[0]!.label]!;
          const duelOurs = duel[duelCases[1]!.label]!;
          const vsFloor = pairedRatio(duelOurs, duelFloor);
          checks.push({
            name: `${alg} verify >= 0.9x the raw node:crypto floor`,
            pass: vsFloor >= 0.9,
            detail: `${formatRatio(vsFloor)} (${Math.round(duelOurs.opsPerSec)} vs ${Math.round(duelFloor.opsPerSec)} ops/s, median of ${duelOurs.perRound.length} paired rounds)`,
          });
          if (alg === 'HS256') {
            const vsJose = pairedRatio(ours, jose);
            checks.push({
              name: 'HS256 verify >= 10x jose',
              pass: vsJose >= 10,
              detail: `${formatRatio(vsJose)} (${Math.round(ours.opsPerSec)} vs ${Math.round(jose.opsPerSec)} ops/s)`,
            });
          }
        }
      }
      tables.push({
        title: `${op} (ops/s, median of rounds)`,
        columns: ['alg', 'implementation', 'ops/s', 'spread', 'vs floor', 'vs jose'],
        rows,
      });
    }
    ctx.log('DPoP proof verify: ES256, EdDSA');
    const dpop = await dpopProofTable(ctx, checks);
    tables.push(dpop.table);
    data['dpop proof verify'] = { all: dpop.data };
    return {
      name: 'tokens',
      title: 'Token sign/verify throughput',
      description:
        'Same typical access-token claims (sub, sid, jti, name, roles, iat, exp, iss, aud) for every implementation; every verifier checks the same token. jwt-sessions verify includes all of its strictness checks (canonical base64url, UTF-8, duplicate names, kid/alg/typ, exp/nbf/iat/iss/aud).',
      tables,
      checks,
      notes: [
        `Token sizes: ${tokenSizes.join(', ')}.`,
        'Floor = find dots, check the signature with node:crypto and a cached KeyObject (HMAC: digest, decode the signature, timingSafeEqual), decode + JSON.parse the payload, check exp; no header parsing, no other claim checks. The checks compare with this floor.',
        '"floor, text compare" (HS256, no check): the same floor comparing the digest as base64url text with the signature text, which is how jwt-sessions checks an HMAC; shown so the margin from that technique is visible.',
        'jose is async (WebCrypto) and measured as sequential awaits; jose keys are CryptoKeys imported once. fast-jwt cache disabled, and so is the verified-token cache of jwt-sessions (verifiedCacheSize: 0): every call verifies. jsonwebtoken has no EdDSA.',
        'Cases of one (alg, op) group are interleaved round by round; ratios are medians of per-round ratios (pairedRatio), so they share the same machine conditions. Spread = (max - min) / median over rounds: on a busy machine, read the ratios, not the absolute numbers.',
        "DPoP proof verify: verifyDpopProof runs every RFC 9449 §4.3 check (strict segments and JSON, typ, alg allowlist, public jwk and its thumbprint, signature, htm, normalised htu, iat window, jti, ath) on a proof whose key is in its cache, against crypto.verify of the same signature with a cached KeyObject; the replay-cache round trip is the store's and not included.",
        'The "verify >= 0.9x floor" checks use a separate head-to-head of jwt-sessions and the floor alone (many short alternating rounds, median of paired ratios), which is far less sensitive to load bursts than the table; the raw rounds are in the JSON under "verify head-to-head".',
      ],
      data,
    };
  },
});

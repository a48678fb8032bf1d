/**
 * The bad-input corpus: tokens, Authorization headers, Cookie headers and JSON bodies that must all
 * be refused with a typed error, change nothing and finish in bounded time. Each case names the
 * SECURITY.md rule it exercises (T*, H*). The library suite (library.test.ts) feeds the tokens to
 * the engine; the HTTP suite (http.test.ts) sends everything through every adapter.
 *
 * Tokens that need a valid signature to reach the check under test are signed with the engine's
 * real key (crafted with test/tokens/helpers.ts, independent of the codec), so the signature check
 * does not mask the rule being tested.
 */
import { Buffer } from 'node:buffer';
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { ErrorCode } from '../../src/errors.js';
import type { GeneratedKey } from '../../src/tokens/index.js';
import { refreshSecretOf } from '../support/refresh-key.js';
import { b64, craft, rawSign } from '../tokens/helpers.js';
import { TOKEN_REFUSED_CODES } from './support.js';

export interface TokenCase {
  name: string;
  /** The SECURITY.md rule the case exercises. */
  rule: string;
  token: string;
  /** The codes the library may answer with (the first is the expected one when unambiguous). */
  codes: readonly ErrorCode[];
}

export interface HeaderCase {
  name: string;
  rule: string;
  /** Raw header value (latin-1 bytes on the wire). */
  value: string;
  /**
   * Not a valid HTTP field value (control characters): Node's HTTP parser answers 400 before any
   * application code runs, with its own body. The contract still holds: 4xx, no stack, no change.
   */
  invalidHttp?: boolean;
  /** Only meaningful where a refresh token is read (the access routes ignore the refresh cookie). */
  refreshOnly?: boolean;
}

export interface BodyCase {
  name: string;
  rule: string;
  contentType: string | null;
  body: string | Uint8Array;
}

/** What the token corpus is built from: the engine's signing key and tokens of a live session. */
export interface CorpusContext {
  /** The engine's ES256 signing key (its private key signs the "valid signature" cases). */
  key: GeneratedKey;
  /** A live session's current access and refresh tokens. */
  access: string;
  refresh: string;
  /** The live session's id. */
  sessionId: string;
  /** Engine clock, seconds. */
  now: number;
  /** The engine's configured access and refresh lifetimes, seconds. */
  accessTtl: number;
  refreshTtl: number;
}

/** Order of the P-256 group: (r, n - s) is the malleated twin of a signature (r, s). */
export const P256_ORDER = Buffer.from(
  'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551',
  'hex',
);

function segments(token: string): [string, string, string] {
  const [h, p, s] = token.split('.');
  return [h!, p!, s!];
}

function decodeJson(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes in a non-canonical spelling: the last character's unused low bits set. Only
 * possible when the length is not a multiple of 4 (there are unused bits); null otherwise.
 */
export function nonCanonical(segment: string): string | null {
  if (segment.length % 4 === 0 || segment.length % 4 === 1) return null;
  const last = ALPHABET.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + ALPHABET[last | 1]!;
}

/** The low-S/high-S twin of an IEEE P1363 P-256 signature: (r, n − s). Valid for the same input. */
export function malleate(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const n = BigInt(`0x${P256_ORDER.toString('hex')}`);
  const twin = Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex');
  return Buffer.concat([bytes.subarray(0, 32), twin]).toString('base64url');
}

export function buildTokenCorpus(ctx: CorpusContext): TokenCase[] {
  const { key, access, refresh, now } = ctx;
  const priv = key.privateKey;
  const [ah, ap, as] = segments(access);
  const [rh, rp] = segments(refresh);
  const accessHeader = decodeJson(ah);
  const accessClaims = decodeJson(ap);
  const refreshClaims = decodeJson(rp);
  const pem = key.publicPem!;
  const jwkText = JSON.stringify(key.publicJwk);
  const spkiDer = key.publicKey!.export({ format: 'der', type: 'spki' });
  const cases: TokenCase[] = [];
  const add = (
    rule: string,
    name: string,
    token: string,
    codes: readonly ErrorCode[] = TOKEN_REFUSED_CODES,
  ) => cases.push({ rule, name, token, codes });

  /** A token with the engine's real key over an arbitrary header/payload (objects or raw JSON). */
  const signed = (header: object | string, payload: object | string) =>
    craft({ header, payload, alg: 'ES256', key: priv });
  const hmacWith = (secret: string | Buffer, header: object, payload: object) => {
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const withSig = (signature: string) => `${ah}.${ap}.${signature}`;

  // [T1] size caps before parsing
  add(
    'T1',
    '8 KiB + 1 byte of valid-looking JWT',
    `${ah}.${'A'.repeat(8193 - ah.length - 2 - as.length)}.${as}`,
    ['token_too_large'],
  );
  add('T1', '1 MB token', `${ah}.${'A'.repeat(1_000_000)}.${as}`, ['token_too_large']);

  // [T2] exactly three canonical base64url segments
  add('T2', 'two segments', `${ah}.${ap}`, ['token_malformed']);
  add('T2', 'four segments', `${access}.${as}`, ['token_malformed']);
  add('T2', 'JWE compact (five segments)', `${ah}.AAAA.AAAA.${ap}.${as}`, ['token_malformed']);
  add('T2', 'dots only', '..', ['token_malformed']);
  add('T2', 'empty header segment', `.${ap}.${as}`, ['token_malformed']);
  add('T2', 'empty payload segment', `${ah}..${as}`, ['token_malformed']);
  add('T2', 'padding in the payload', `${ah}.${ap}==.${as}`, ['token_malformed']);
  add(
    'T2',
    'standard base64 alphabet (+ and /)',
    `${ah}.${ap}.${as.replaceAll('-', '+').replaceAll('_', '/')}+/`,
    ['token_malformed', 'signature_invalid'],
  );
  add('T2', 'whitespace inside a segment', `${ah}.${ap.slice(0, 5)} ${ap.slice(5)}.${as}`, [
    'token_malformed',
  ]);
  add('T2', 'leading whitespace', ` ${access}`, ['token_malformed']);
  add('T2', 'trailing newline', `${access}\n`, ['token_malformed', 'signature_invalid']);
  add('T2', 'JWS JSON serialization', JSON.stringify({ payload: ap, protected: ah, signature: as }), [
    'token_malformed',
  ]);
  add(
    'T2',
    'JSON-serialized JWS smuggled as a segment',
    `${ah}.${b64(JSON.stringify({ payload: ap }))}.${as}`,
  );
  const ncSig = nonCanonical(as);
  if (ncSig !== null)
    add('T2', 'non-canonical base64url signature (same bytes)', withSig(ncSig), ['token_malformed']);
  const ncPayload = nonCanonical(ap);
  if (ncPayload !== null) {
    add('T2', 'non-canonical base64url payload (same bytes)', `${ah}.${ncPayload}.${as}`, [
      'token_malformed',
    ]);
  }
  add('T2', 'non-ASCII characters', `${ah}.${ap}é.${as}`, ['token_malformed']);

  // [T3] header and payload: JSON objects, valid UTF-8, no duplicate names
  const goodHeader = { alg: 'ES256', typ: 'at+jwt', kid: key.kid };
  for (const [label, json] of [
    ['array', '[1,2]'],
    ['number', '42'],
    ['string', '"at+jwt"'],
    ['null', 'null'],
    ['true', 'true'],
    ['not JSON', '{alg:ES256}'],
    ['empty', ''],
  ] as const) {
    add('T3', `header is ${label}`, signed(json, accessClaims), ['token_malformed', 'alg_not_allowed']);
    add('T3', `payload is ${label}`, signed(goodHeader, json), ['token_malformed']);
  }
  add(
    'T3',
    'duplicate alg in the header',
    signed(`{"alg":"ES256","typ":"at+jwt","kid":${JSON.stringify(key.kid)},"alg":"none"}`, accessClaims),
    ['token_malformed'],
  );
  add(
    'T3',
    'duplicate sid in the payload',
    signed(goodHeader, `${JSON.stringify(accessClaims).slice(0, -1)},"sid":"someone-else"}`),
    ['token_malformed'],
  );
  add(
    'T3',
    'duplicate exp in the payload (escaped name)',
    signed(goodHeader, `${JSON.stringify(accessClaims).slice(0, -1)},"\\u0065xp":99999999999}`),
    ['token_malformed'],
  );
  add(
    'T3',
    'invalid UTF-8 in the payload',
    signed(goodHeader, { raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) } as never),
    ['token_malformed'],
  );
  add('T3', 'UTF-8 BOM before the payload', signed(goodHeader, `\uFEFF${JSON.stringify(accessClaims)}`), [
    'token_malformed',
  ]);
  add(
    'T3',
    'deeply nested payload (3000 levels)',
    signed(goodHeader, `${'['.repeat(3000)}${']'.repeat(3000)}`),
    ['token_malformed', 'token_too_large'],
  );
  add(
    'T3',
    'deeply nested object claim (1500 levels)',
    signed(goodHeader, `{"exp":${now + 60},"x":${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}}`),
    ['token_malformed', 'token_too_large'],
  );

  // [T4] signature before claims
  const expiredClaims = { ...accessClaims, iat: now - 7200, exp: now - 3600 };
  add(
    'T4',
    'expired token with a bad signature reports the signature',
    `${b64(JSON.stringify(accessHeader))}.${b64(JSON.stringify(expiredClaims))}.${as}`,
    ['signature_invalid'],
  );

  // [T5] algorithm from the key, never from the token
  for (const none of ['none', 'None', 'NONE', 'nOnE']) {
    const header = b64(JSON.stringify({ ...accessHeader, alg: none }));
    add('T5', `alg ${none}, empty signature`, `${header}.${ap}.`, ['alg_not_allowed', 'signature_invalid']);
    add('T5', `alg ${none}, original signature kept`, `${header}.${ap}.${as}`, ['alg_not_allowed']);
  }
  add('T5', 'alg missing', signed({ typ: 'at+jwt', kid: key.kid }, accessClaims), ['alg_not_allowed']);
  add('T5', 'alg as an array', signed({ ...goodHeader, alg: ['ES256'] }, accessClaims), ['alg_not_allowed']);
  add(
    'T5',
    'alg RS256 on the ES256 key',
    `${b64(JSON.stringify({ ...accessHeader, alg: 'RS256' }))}.${ap}.${as}`,
    ['alg_not_allowed'],
  );
  add(
    'T5',
    'alg ES512 on the ES256 key',
    `${b64(JSON.stringify({ ...accessHeader, alg: 'ES512' }))}.${ap}.${as}`,
    ['alg_not_allowed'],
  );
  add('T5', 'empty signature', `${ah}.${ap}.`, ['signature_invalid']);
  const hsHeader = { ...accessHeader, alg: 'HS256' };
  add('T5', 'key confusion: HS256 keyed with the public PEM', hmacWith(pem, hsHeader, accessClaims), [
    'alg_not_allowed',
  ]);
  add(
    'T5',
    'key confusion: HS256 keyed with the PEM, no trailing newline',
    hmacWith(pem.trim(), hsHeader, accessClaims),
    ['alg_not_allowed'],
  );
  add(
    'T5',
    'key confusion: HS256 keyed with the public JWK text',
    hmacWith(jwkText, hsHeader, accessClaims),
    ['alg_not_allowed'],
  );
  add('T5', 'key confusion: HS256 keyed with the SPKI DER', hmacWith(spkiDer, hsHeader, accessClaims), [
    'alg_not_allowed',
  ]);
  add('T5', 'key confusion: HS256 keyed with the kid', hmacWith(key.kid, hsHeader, accessClaims), [
    'alg_not_allowed',
  ]);

  // [T6] kid is an exact lookup; jku/x5u/jwk/x5c never select a key; crit and b64 refused
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
  const byAttacker = (header: object, payload: object = accessClaims) =>
    craft({ header, payload, alg: 'ES256', key: attacker.privateKey as KeyObject });
  add('T6', 'unknown kid', byAttacker({ ...goodHeader, kid: 'attacker' }), ['kid_unknown']);
  add('T6', 'kid path traversal', byAttacker({ ...goodHeader, kid: '../../../../dev/null' }), [
    'kid_unknown',
  ]);
  add('T6', 'kid SQL injection', byAttacker({ ...goodHeader, kid: "x' UNION SELECT 'secret" }), [
    'kid_unknown',
  ]);
  add('T6', 'kid as a prefix of the real kid', byAttacker({ ...goodHeader, kid: key.kid.slice(0, -1) }), [
    'kid_unknown',
  ]);
  add('T6', 'kid with a trailing space', byAttacker({ ...goodHeader, kid: `${key.kid} ` }), ['kid_unknown']);
  add('T6', 'kid as a number', byAttacker({ ...goodHeader, kid: 1 }), ['kid_unknown']);
  add('T6', 'kid "__proto__"', byAttacker({ ...goodHeader, kid: '__proto__' }), ['kid_unknown']);
  add('T6', 'kid "constructor"', byAttacker({ ...goodHeader, kid: 'constructor' }), ['kid_unknown']);
  add('T6', 'kid missing', byAttacker({ alg: 'ES256', typ: 'at+jwt' }), ['kid_unknown']);
  add(
    'T6',
    'embedded jwk of the attacker, no kid',
    byAttacker({ alg: 'ES256', typ: 'at+jwt', jwk: attackerJwk }),
    ['token_malformed', 'kid_unknown'],
  );
  add(
    'T6',
    'embedded jwk of the attacker with the real kid',
    byAttacker({ ...goodHeader, jwk: attackerJwk }),
    ['token_malformed', 'signature_invalid'],
  );
  for (const member of ['jku', 'x5u'] as const) {
    add(
      'T6',
      `${member} pointing at the attacker`,
      byAttacker({ ...goodHeader, [member]: 'https://attacker.example/jwks' }),
      ['token_malformed', 'signature_invalid'],
    );
  }
  add('T6', 'x5c chain of the attacker', byAttacker({ ...goodHeader, x5c: ['MIIBszCCAVmgAwIBAgIU'] }), [
    'token_malformed',
    'signature_invalid',
  ]);
  add(
    'T6',
    'crit with an unknown extension (real key)',
    signed({ ...goodHeader, crit: ['exp'], exp: 1 }, accessClaims),
    ['token_malformed'],
  );
  add('T6', 'empty crit (real key)', signed({ ...goodHeader, crit: [] }, accessClaims), ['token_malformed']);
  add('T6', 'b64 false (real key)', signed({ ...goodHeader, b64: false, crit: ['b64'] }, accessClaims), [
    'token_malformed',
  ]);
  add('T6', 'b64 false without crit (real key)', signed({ ...goodHeader, b64: false }, accessClaims), [
    'token_malformed',
  ]);

  // [T7] ECDSA: exact P1363 length, no zero r or s ("psychic signatures", CVE-2022-21449)
  const zero32 = Buffer.alloc(32);
  const realSig = Buffer.from(as, 'base64url');
  add('T7', 'psychic signature r = s = 0', withSig(Buffer.alloc(64).toString('base64url')), [
    'signature_invalid',
  ]);
  add('T7', 'r = 0, s kept', withSig(Buffer.concat([zero32, realSig.subarray(32)]).toString('base64url')), [
    'signature_invalid',
  ]);
  add(
    'T7',
    's = 0, r kept',
    withSig(Buffer.concat([realSig.subarray(0, 32), zero32]).toString('base64url')),
    ['signature_invalid'],
  );
  add(
    'T7',
    'r = s = n (group order)',
    withSig(Buffer.concat([P256_ORDER, P256_ORDER]).toString('base64url')),
    ['signature_invalid'],
  );
  add(
    'T7',
    'psychic signature of the DER length (8 bytes of zero)',
    withSig(Buffer.from('3006020100020100', 'hex').toString('base64url')),
    ['signature_invalid'],
  );
  const der = sign('sha256', Buffer.from(`${ah}.${ap}`), { key: priv, dsaEncoding: 'der' });
  add('T7', 'valid signature in DER encoding', withSig(der.toString('base64url')), ['signature_invalid']);
  add(
    'T7',
    'signature with one extra byte',
    withSig(Buffer.concat([realSig, Buffer.from([0])]).toString('base64url')),
    ['signature_invalid'],
  );
  add('T7', 'signature one byte short', withSig(realSig.subarray(1).toString('base64url')), [
    'signature_invalid',
  ]);

  // [T9] claims, with a valid signature: exp, iat/nbf, lifetime, typ (type confusion)
  const header = (typ: string) => ({ ...goodHeader, typ });
  const claimCases: [string, Record<string, unknown>, readonly ErrorCode[]][] = [
    ['exp missing', { ...accessClaims, exp: undefined }, ['claim_invalid']],
    ['exp as a string', { ...accessClaims, exp: String(now + 60) }, ['claim_invalid']],
    ['exp fractional', { ...accessClaims, exp: now + 60.5 }, ['claim_invalid']],
    ['exp in the past', { ...accessClaims, exp: now - 10 }, ['token_expired']],
    ['nbf in the future', { ...accessClaims, nbf: now + 600 }, ['token_not_yet_valid']],
    ['iat in the future', { ...accessClaims, iat: now + 600 }, ['token_not_yet_valid', 'claim_invalid']],
    ['iat as a string', { ...accessClaims, iat: String(now) }, ['claim_invalid']],
    [
      'exp - iat beyond the access lifetime',
      { ...accessClaims, exp: now + ctx.accessTtl * 10 },
      ['claim_invalid'],
    ],
    ['sid missing', { ...accessClaims, sid: undefined }, ['session_not_found']],
    ['sid a number', { ...accessClaims, sid: 12345 }, ['session_not_found']],
    ['sid an object', { ...accessClaims, sid: { $ne: null } }, ['session_not_found']],
    [
      'sid 10 000 characters',
      { ...accessClaims, sid: 'x'.repeat(10_000) },
      ['session_not_found', 'token_too_large'],
    ],
    ['jti missing', { ...accessClaims, jti: undefined }, ['session_not_found']],
    [
      'jti of another token (forged current id)',
      { ...accessClaims, jti: 'AAAAAAAAAAAAAAAAAAAAAA' },
      ['access_revoked'],
    ],
  ];
  for (const [name, payload, codes] of claimCases) add('T9', name, signed(header('at+jwt'), payload), codes);
  add('T9', 'typ missing', signed({ alg: 'ES256', kid: key.kid }, accessClaims), ['token_type_mismatch']);
  add('T9', 'typ "JWT"', signed(header('JWT'), accessClaims), ['token_type_mismatch']);
  add('T9', 'typ "AT+JWT" (case)', signed(header('AT+JWT'), accessClaims), ['token_type_mismatch']);
  add('T9', 'typ as an array', signed({ ...goodHeader, typ: ['at+jwt', 'rt+jwt'] }, accessClaims), [
    'token_type_mismatch',
  ]);

  // [T10] prototype keys in a payload (attacker-signed: refused; and they pollute nothing either way)
  add(
    'T10',
    '__proto__ in the payload (attacker key)',
    byAttacker(goodHeader, JSON.parse(`{"__proto__":{"admin":true},"sid":"x","jti":"y","exp":${now + 60}}`)),
    ['kid_unknown', 'signature_invalid'],
  );
  add(
    'T10',
    '__proto__ / constructor in the payload (real key)',
    signed(
      goodHeader,
      `{"__proto__":{"admin":true},"constructor":{"prototype":{"polluted":1}},"sid":"nope","jti":"j","iat":${now},"exp":${now + 60}}`,
    ),
    ['session_not_found', 'token_malformed', 'claim_invalid'],
  );

  void rh;
  void refreshClaims;
  return cases;
}

/** The session's genuine refresh token where an access token is expected (type confusion). */
export function accessConfusion(ctx: CorpusContext): TokenCase[] {
  return [
    {
      rule: 'T9',
      name: 'type confusion: refresh token as an access token',
      token: ctx.refresh,
      codes: ['token_type_mismatch'],
    },
  ];
}

/**
 * Tokens that are refused where a refresh token is expected: the session's access token (type
 * confusion) and refresh-typed forgeries. Used by the refresh paths in addition to the corpus.
 */
export function refreshConfusion(ctx: CorpusContext): TokenCase[] {
  const [refreshHeader, refreshPayload] = segments(ctx.refresh);
  const refreshClaims = decodeJson(refreshPayload);
  // Refresh tokens are HS256 under the key derived from the signing key (SPEC §1).
  const goodHeader = decodeJson(refreshHeader);
  const signed = (payload: object) =>
    craft({ header: goodHeader, payload, alg: 'HS256', key: refreshSecretOf(ctx.key.privateKey) });
  return [
    {
      rule: 'T9',
      name: 'type confusion: access token as a refresh token',
      token: ctx.access,
      codes: ['token_type_mismatch'],
    },
    {
      rule: 'T9',
      name: 'refresh token signed with the access key (what a resource server could mint)',
      token: craft({
        header: { alg: 'ES256', typ: 'rt+jwt', kid: ctx.key.kid },
        payload: refreshClaims,
        alg: 'ES256',
        key: ctx.key.privateKey,
      }),
      codes: ['token_type_mismatch'],
    },
    {
      rule: 'T9',
      name: 'refresh token living beyond the refresh lifetime',
      token: signed({ ...refreshClaims, exp: ctx.now + ctx.refreshTtl * 10 }),
      codes: ['claim_invalid'],
    },
    {
      rule: 'R1',
      name: 'refresh token of a forged generation id',
      token: signed({ ...refreshClaims, jti: 'AAAAAAAAAAAAAAAAAAAAAA', sid: 'not-a-session-id-at-all' }),
      codes: ['session_not_found'],
    },
  ];
}

/** `Authorization` header values that are refused (or read as absent) — never a 500, never slow. */
export function authorizationCorpus(token: string): HeaderCase[] {
  const spaces = ' '.repeat(100_000);
  return [
    { rule: 'H7', name: '100 KB of spaces after Bearer', value: `Bearer${spaces}` },
    { rule: 'H7', name: '100 KB of spaces then a token then x', value: `Bearer${spaces}${token} x` },
    { rule: 'H7', name: '100 KB of tabs and spaces', value: `Bearer ${'\t '.repeat(50_000)}.` },
    { rule: 'H7', name: '100 KB of dots', value: `Bearer ${'.'.repeat(100_000)}` },
    { rule: 'H7', name: '100 KB scheme', value: 'B'.repeat(100_000) },
    { rule: 'T1', name: '64 KB bearer token', value: `Bearer ${'a.'.repeat(32_000)}b` },
    { rule: 'H7', name: 'Bearer with nothing', value: 'Bearer' },
    { rule: 'H7', name: 'Bearer and spaces only', value: 'Bearer    ' },
    { rule: 'H7', name: 'two tokens', value: `Bearer ${token} ${token}` },
    {
      rule: 'H7',
      name: 'two Bearer credentials, comma-separated',
      value: `Bearer ${token}, Bearer ${token}`,
    },
    { rule: 'H7', name: 'token with a quote', value: `Bearer "${token}"` },
    { rule: 'H7', name: 'unknown scheme', value: `Token ${token}` },
    { rule: 'H7', name: 'scheme with a non-ASCII letter', value: `Béarer ${token}` },
    { rule: 'H7', name: 'latin-1 bytes in the token', value: `Bearer ${token}\u00e9` },
    { rule: 'H7', name: 'control characters', value: `Bearer \u0001\u0002${token}`, invalidHttp: true },
    {
      rule: 'T5',
      name: 'alg none token',
      value: `Bearer ${b64('{"alg":"none","typ":"at+jwt"}')}.${b64('{"sid":"a","jti":"b","exp":9999999999}')}.`,
    },
    { rule: 'T2', name: 'garbage', value: 'Bearer !!!' },
  ];
}

/** `Cookie` header values that are refused (cookie tossing, oversize, malformed tokens). */
export function cookieCorpus(access: string, refresh: string): HeaderCase[] {
  return [
    {
      rule: 'H4',
      name: 'cookie tossing: jwt_access twice',
      value: `jwt_access=${access}; jwt_access=${access}`,
    },
    {
      rule: 'H4',
      name: 'cookie tossing: a forged jwt_access first',
      value: `jwt_access=x.y.z; jwt_access=${access}`,
    },
    {
      rule: 'H4',
      name: 'cookie tossing: refresh twice',
      value: `jwt_access=${access}; jwt_refresh=${refresh}; jwt_refresh=a.b.c`,
      refreshOnly: true,
    },
    {
      rule: 'H4',
      name: 'cookie tossing: the same name with spaces around',
      value: `jwt_access=${access};  jwt_access =${access}`,
    },
    {
      rule: 'T1',
      name: 'oversized cookie header (200 KB)',
      value: `a=${'b'.repeat(200_000)}; jwt_access=${access}`,
    },
    { rule: 'T1', name: '16 KB jwt_access cookie', value: `jwt_access=${'a'.repeat(16_384)}` },
    { rule: 'H7', name: '100 KB of semicolons and spaces', value: `${'; '.repeat(50_000)}jwt_access=a.b.c` },
    { rule: 'T2', name: 'percent-encoded token', value: `jwt_access=${encodeURIComponent(`${access}=`)}` },
    {
      rule: 'T2',
      name: 'token with a space',
      value: `jwt_access=${access.slice(0, 10)} ${access.slice(10)}`,
    },
    {
      rule: 'T9',
      name: 'type confusion: refresh token in the access cookie',
      value: `jwt_access=${refresh}`,
    },
    { rule: 'T2', name: 'latin-1 bytes in the value', value: `jwt_access=${access}\u00ff` },
    {
      rule: 'T5',
      name: 'alg none in the cookie',
      value: `jwt_access=${b64('{"alg":"none","typ":"at+jwt"}')}.${b64('{"sid":"a","jti":"b","exp":9999999999}')}.`,
    },
  ];
}

const enc = (text: string) => Buffer.from(text, 'utf8');

/** JSON bodies for the login and refresh routes: all must be refused (401/4xx), none may log in. */
export function bodyCorpus(login: string, password: string): BodyCase[] {
  const json = 'application/json';
  const creds = JSON.stringify({ login, password });
  return [
    {
      rule: 'T10',
      name: '__proto__ carrying the credentials',
      contentType: json,
      body: `{"__proto__":${creds}}`,
    },
    {
      rule: 'T10',
      name: 'constructor.prototype carrying the credentials',
      contentType: json,
      body: `{"constructor":{"prototype":${creds}}}`,
    },
    {
      rule: 'T10',
      name: '__proto__ beside wrong credentials',
      contentType: json,
      body: `{"login":"${login}","password":"nope","__proto__":{"admin":true}}`,
    },
    {
      rule: 'T3',
      name: 'duplicate password, the wrong one last',
      contentType: json,
      body: `{"login":"${login}","password":"${password}","password":"wrong"}`,
    },
    { rule: 'T3', name: 'a JSON array', contentType: json, body: `[${creds}]` },
    { rule: 'T3', name: 'a JSON string', contentType: json, body: JSON.stringify(creds) },
    { rule: 'T3', name: 'a JSON number', contentType: json, body: '42' },
    { rule: 'T3', name: 'JSON null', contentType: json, body: 'null' },
    { rule: 'T3', name: 'JSON true', contentType: json, body: 'true' },
    { rule: 'T3', name: 'truncated JSON', contentType: json, body: creds.slice(0, -3) },
    { rule: 'T3', name: 'trailing garbage', contentType: json, body: `${creds}x` },
    {
      rule: 'T3',
      name: 'invalid UTF-8',
      contentType: json,
      body: Buffer.concat([enc('{"login":"'), Buffer.from([0xc3, 0x28, 0xff]), enc('","password":"x"}')]),
    },
    { rule: 'T3', name: 'UTF-16 body', contentType: json, body: Buffer.from(creds, 'utf16le') },
    {
      rule: 'T3',
      name: 'login as an array',
      contentType: json,
      body: JSON.stringify({ login: [login], password }),
    },
    {
      rule: 'T3',
      name: 'password as an object',
      contentType: json,
      body: JSON.stringify({ login, password: { $ne: '' } }),
    },
    {
      rule: 'T3',
      name: 'login 1 MB long',
      contentType: json,
      body: JSON.stringify({ login: 'a'.repeat(1_000_000), password }),
    },
    {
      rule: 'T3',
      name: 'deeply nested (100 000 levels)',
      contentType: json,
      body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    },
    {
      rule: 'T3',
      name: 'deeply nested field (5 000 levels)',
      contentType: json,
      body: `{"login":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"password":"x"}`,
    },
    {
      rule: 'T3',
      name: 'transport of an unknown kind',
      contentType: json,
      body: JSON.stringify({ login, password: 'wrong', transport: 'url' }),
    },
    { rule: 'H5', name: 'text/plain with valid credentials', contentType: 'text/plain', body: creds },
    {
      rule: 'H5',
      name: 'form-encoded credentials',
      contentType: 'application/x-www-form-urlencoded',
      body: `login=${encodeURIComponent(login)}&password=${encodeURIComponent(password)}`,
    },
    {
      rule: 'H5',
      name: 'multipart credentials',
      contentType: 'multipart/form-data; boundary=x',
      body: `--x\r\nContent-Disposition: form-data; name="login"\r\n\r\n${login}\r\n--x--\r\n`,
    },
    { rule: 'H5', name: 'no content type with valid credentials', contentType: null, body: creds },
    {
      rule: 'H5',
      name: 'application/json-patch+json lookalike',
      contentType: 'application/jsonx',
      body: creds,
    },
  ];
}

/** Re-export for suites that sign with the engine key directly. */
export { rawSign };

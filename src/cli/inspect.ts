/**
 * `jwt-sessions inspect <token|-> [--key FILE | --secret S] [--alg ALG] [--json]`: decodes a token,
 * shows its header and claims with times in human terms, and verifies it when given a key.
 *
 * Verification goes through the library's own codec (strict parsing, algorithm bound to the key,
 * `typ` required); the key takes the token's `kid` so only the signature and the claims decide.
 */
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  type JsonWebKey as NodeJsonWebKey,
  randomBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isJwtSessionsError } from '../errors.js';
import {
  ALGORITHMS,
  type Algorithm,
  isAlgorithm,
  JwtCodec,
  type KeyMaterial,
  KeyRing,
} from '../tokens/index.js';
import { parseCommandArgs } from './args.js';
import { CliError, humanDuration, type Io, isoSeconds, json, relative, UsageError } from './output.js';

export const INSPECT_HELP = `Usage: jwt-sessions inspect <token | -> [--key FILE | --secret SECRET] [--alg ALG] [--json]

Decodes a jwt-sessions token (access "at+jwt" or refresh "rt+jwt"), shows its header and
claims with times in human terms ("expires in 4 min"), and verifies the signature and claims
when a key is given. "-" reads the token from standard input.

Options:
  --key FILE       verify with a key file: PEM (private or public), a JWK, or a JWKS
                   (the key whose kid matches the token's)
  --secret SECRET  verify with an HMAC secret (as the server's JWT_SECRET)
  --alg ALG        the key's algorithm when it cannot be told from the key
                   (one of ${ALGORITHMS.join(', ')})
  --json           print one JSON object
  -h, --help       show this help

Exit codes: 0 decoded (and, with a key, verified and not expired); 1 malformed, bad
signature, failed claim or expired; 2 usage error.

Examples:
  jwt-sessions inspect eyJhbGciOi...
  jwt-sessions inspect "$TOKEN" --secret "$JWT_SECRET"
  curl -s localhost:3000/.well-known/jwks.json > jwks.json
  jwt-sessions inspect "$TOKEN" --key jwks.json --json`;

const TYPE_NAMES: Record<string, string> = { 'at+jwt': 'access token', 'rt+jwt': 'refresh token' };
const CLAIM_NOTES: Record<string, string> = {
  sid: 'session id',
  jti: 'token id',
  ns: 'namespace',
  sub: 'subject',
  iss: 'issuer',
  aud: 'audience',
};
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf']);

interface VerifyKey {
  alg: Algorithm;
  material: KeyMaterial;
  source: string;
}

function algFromKeyObject(key: KeyObject, headerAlg: unknown): Algorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    throw new CliError(`unsupported EC curve ${curve ?? '?'}`);
  }
  if (type === 'rsa') {
    return typeof headerAlg === 'string' && /^(RS|PS)(256|384|512)$/.test(headerAlg)
      ? (headerAlg as Algorithm)
      : 'RS256';
  }
  throw new CliError(`unsupported key type ${type ?? key.type}`);
}

function algFromJwk(jwk: JsonWebKey, headerAlg: unknown): Algorithm {
  if (typeof jwk.alg === 'string') {
    if (!isAlgorithm(jwk.alg))
      throw new CliError(`the JWK's alg ${JSON.stringify(jwk.alg)} is not supported`);
    return jwk.alg;
  }
  if (jwk.kty === 'oct') {
    return typeof headerAlg === 'string' && /^HS(256|384|512)$/.test(headerAlg)
      ? (headerAlg as Algorithm)
      : 'HS256';
  }
  try {
    const input = { key: jwk as NodeJsonWebKey, format: 'jwk' as const };
    const key = typeof jwk.d === 'string' ? createPrivateKey(input) : createPublicKey(input);
    return algFromKeyObject(key, headerAlg);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read the JWK: ${(error as Error).message}`);
  }
}

function keyFromFile(file: string, header: Record<string, unknown>, alg: Algorithm | undefined): VerifyKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new CliError(`key file ${file} is not valid JSON`);
    }
    const document = parsed as JsonWebKey & { kid?: unknown; keys?: unknown };
    const isSet = Array.isArray(document.keys);
    const keys = (isSet ? document.keys : [document]) as (JsonWebKey & { kid?: unknown })[];
    // A key is used only when its kid is the token's, or when one of the two has none and the
    // file holds a single key: a lone key with another kid is not the token's key. A refresh
    // token's kid names the derived refresh key, never a published one: a lone key is tried, so
    // the report says why it cannot verify (see inspectToken).
    const isRefresh = header.typ === 'rt+jwt';
    const match =
      keys.find((k) => k.kid !== undefined && k.kid === header.kid) ??
      (keys.length === 1 && (isRefresh || keys[0]?.kid === undefined || header.kid === undefined)
        ? keys[0]
        : undefined);
    if (match === undefined) {
      const kids = keys.map((k) => JSON.stringify(k?.kid)).join(', ');
      throw new CliError(
        `no key with kid ${JSON.stringify(header.kid)} in the ${isSet ? 'JWKS' : 'JWK'} ${file} ` +
          `(${keys.length} key${keys.length === 1 ? '' : 's'}: ${kids})`,
      );
    }
    const jwk = match;
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') {
      throw new CliError(`key file ${file} is neither a JWK nor a JWKS`);
    }
    return { alg: alg ?? algFromJwk(jwk, header.alg), material: jwk, source: file };
  }
  if (trimmed.includes('-----BEGIN')) {
    if (alg !== undefined) return { alg, material: trimmed, source: file };
    let key: KeyObject;
    try {
      key = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)
        ? createPrivateKey(trimmed)
        : createPublicKey(trimmed);
    } catch (error) {
      throw new CliError(`cannot read the PEM key in ${file}: ${(error as Error).message}`);
    }
    return { alg: algFromKeyObject(key, header.alg), material: trimmed, source: file };
  }
  // Anything else is a raw secret (one line, as JWT_SECRET).
  const secret = text.replace(/\r?\n$/, '');
  return { alg: alg ?? hmacAlg(header.alg), material: secret, source: file };
}

function hmacAlg(headerAlg: unknown): Algorithm {
  return typeof headerAlg === 'string' && /^HS(256|384|512)$/.test(headerAlg)
    ? (headerAlg as Algorithm)
    : 'HS256';
}

export interface InspectResult {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  type: string | null;
  /** null when no key was given. */
  verified: boolean | null;
  key?: { alg: Algorithm; source: string };
  error?: { code: string; message: string };
  expired: boolean | null;
  expires_at: string | null;
  /** Seconds; negative once expired. */
  expires_in: number | null;
}

function validKid(kid: unknown): kid is string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return typeof kid === 'string' && kid.length > 0 && kid.length <= 256 && !/[\u0000-\u001f\u007f]/.test(kid);
}

export function inspectToken(
  token: string,
  options: { key?: VerifyKey | ((header: Record<string, unknown>) => VerifyKey); now: number },
): InspectResult {
  // A throwaway codec for decoding: decodeUnverified checks format only, never trusts the key.
  const decoder = new JwtCodec({ keys: { signing: { alg: 'HS256', key: randomBytes(32) } } });
  let decoded: { header: Record<string, unknown>; payload: Record<string, unknown> };
  try {
    decoded = decoder.decodeUnverified(token);
  } catch (error) {
    if (isJwtSessionsError(error)) throw new CliError(`not a valid token: ${error.message} (${error.code})`);
    throw error;
  }
  const { header, payload } = decoded;
  const exp = typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp : null;
  const result: InspectResult = {
    header,
    payload,
    type: typeof header.typ === 'string' ? header.typ : null,
    verified: null,
    expired: exp === null ? null : options.now >= exp,
    expires_at: exp === null ? null : new Date(exp * 1000).toISOString(),
    expires_in: exp === null ? null : Math.round(exp - options.now),
  };
  if (options.key === undefined) return result;
  const key = typeof options.key === 'function' ? options.key(header) : options.key;
  result.key = { alg: key.alg, source: key.source };
  try {
    const typ = header.typ === 'rt+jwt' ? 'rt+jwt' : 'at+jwt';
    // A refresh token is signed with a key derived from the private signing material (never the
    // key itself): the ring derives it, under its own kid, from the key given here.
    const kid = typ === 'at+jwt' && validKid(header.kid) ? { kid: header.kid } : {};
    const ring = KeyRing.from({
      signing: { alg: 'HS256', key: randomBytes(32), kid: `inspect-${randomBytes(9).toString('base64url')}` },
      previous: [{ alg: key.alg, key: key.material, ...kid }],
    });
    new JwtCodec({ keys: ring, maxTokenBytes: 64 * 1024 }).verify(token, {
      typ,
      now: options.now,
      ignoreExpiration: true,
    });
    result.verified = true;
    if (result.expired) result.error = { code: 'token_expired', message: 'token has expired' };
  } catch (error) {
    if (!isJwtSessionsError(error)) throw error;
    if (error.code === 'configuration_invalid') throw new CliError(`unusable key: ${error.message}`);
    result.verified = false;
    result.error =
      header.typ === 'rt+jwt' && error.code === 'kid_unknown'
        ? {
            code: error.code,
            message:
              'refresh tokens are signed with a key derived from the private signing key or secret (never published): verify with that, not a public key or JWKS',
          }
        : { code: error.code, message: error.message };
  }
  return result;
}

function formatValue(name: string, value: unknown, now: number): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    const when = relative(value, now);
    const words = name === 'exp' ? (value > now ? `expires ${when}` : `expired ${when}`) : when;
    return `${value}  ${isoSeconds(value)} (${words})`;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return CLAIM_NOTES[name] ? `${text}  (${CLAIM_NOTES[name]})` : text;
}

/** The status word by `verified`: only a checked signature makes a token valid. */
const STATUS: Record<string, string> = {
  true: 'valid',
  false: 'not trusted',
  null: 'signature not checked (no key given)',
};

export function formatInspect(result: InspectResult, now: number): string {
  const pad = (entries: [string, string][]) => {
    const width = Math.max(0, ...entries.map(([k]) => k.length));
    return entries.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  };
  const headerEntries = Object.entries(result.header).map(([k, v]): [string, string] => [
    k,
    k === 'typ' && typeof v === 'string' && TYPE_NAMES[v]
      ? `${v} (${TYPE_NAMES[v]})`
      : typeof v === 'string'
        ? v
        : JSON.stringify(v),
  ]);
  const claimEntries = Object.entries(result.payload).map(([k, v]): [string, string] => [
    k,
    formatValue(k, v, now),
  ]);
  const lines = ['Header', ...pad(headerEntries), '', 'Claims', ...pad(claimEntries), ''];
  if (result.verified === null) lines.push('Signature: not verified (give --key FILE or --secret to verify)');
  else if (result.verified)
    lines.push(`Signature: valid (${result.key!.alg}, key from ${result.key!.source})`);
  else lines.push(`Signature/claims: INVALID — ${result.error!.message} (${result.error!.code})`);
  if (result.expires_in !== null) {
    lines.push(
      result.expired
        ? `Status: expired ${humanDuration(result.expires_in)} ago`
        : `Status: ${STATUS[String(result.verified)]}, expires in ${humanDuration(result.expires_in)}`,
    );
  } else {
    lines.push('Status: no exp claim');
  }
  return lines.join('\n');
}

export async function inspectCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    key: { type: 'string' },
    secret: { type: 'string' },
    alg: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(INSPECT_HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError('a token is required (or "-" to read it from standard input)', 'inspect');
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`, 'inspect');
  if (values.key !== undefined && values.secret !== undefined) {
    throw new UsageError('give either --key or --secret, not both', 'inspect');
  }
  if (values.alg !== undefined && !isAlgorithm(values.alg)) {
    throw new UsageError(
      `--alg must be one of ${ALGORITHMS.join(', ')}; got ${JSON.stringify(values.alg)}`,
      'inspect',
    );
  }
  if (values.secret === '') throw new UsageError('--secret must not be empty', 'inspect');
  const alg = values.alg as Algorithm | undefined;
  let token = positionals[0]!;
  if (token === '-') token = await io.stdin();
  token = token.trim().replace(/^Bearer\s+/i, '');

  let key: ((header: Record<string, unknown>) => VerifyKey) | undefined;
  if (values.secret !== undefined) {
    const secret = values.secret;
    if (alg !== undefined && !alg.startsWith('HS'))
      throw new UsageError(`--secret is for HS* algorithms, not ${alg}`, 'inspect');
    key = (header) => ({ alg: alg ?? hmacAlg(header.alg), material: secret, source: '--secret' });
  } else if (values.key !== undefined) {
    const file = values.key;
    key = (header) => keyFromFile(file, header, alg);
  }
  const now = io.now();
  const result = inspectToken(token, { ...(key !== undefined && { key }), now });
  io.out(values.json ? json(result) : formatInspect(result, now));
  if (result.verified === false) return 1;
  if (result.verified === true && result.expired) return 1;
  return 0;
}

/**
 * `jwt-sessions keygen [--alg ALG] [--json]`: a fresh signing key.
 *
 * HS*: a random secret string (as many random bytes as the hash output, base64url) to use as is,
 * e.g. as the server's JWT_SECRET; its JWK is the same key (`k` = the string's bytes).
 * Other algorithms: a key pair as PEM (PKCS#8 private, SPKI public), JWK and a JWKS document.
 */
import { ALGORITHMS, type Algorithm, generateKey, isAlgorithm, type Jwk, KeyRing } from '../tokens/index.js';
import { parseCommandArgs } from './args.js';
import { type Io, json, UsageError } from './output.js';

export const KEYGEN_HELP = `Usage: jwt-sessions keygen [--alg ALG] [--kid ID] [--json]

Generates a signing key.

  HS256, HS384, HS512   a random secret (use it as JWT_SECRET)
  RS*, PS*, ES*, EdDSA  a key pair: PEM (PKCS#8 / SPKI), JWK and JWKS (use the
                        private PEM as JWT_PRIVATE_KEY)

Options:
  --alg ALG   one of ${ALGORITHMS.join(', ')} (default ES256)
  --kid ID    key id (default: the RFC 7638 thumbprint, or a hash for secrets)
  --json      print one JSON object
  -h, --help  show this help

Examples:
  jwt-sessions keygen --alg HS256
  jwt-sessions keygen --alg EdDSA --json > key.json
  jwt-sessions keygen --alg ES256 --json | jq -r .private_pem > private.pem`;

export interface KeygenResult {
  alg: Algorithm;
  kid: string;
  secret?: string;
  private_pem?: string;
  public_pem?: string;
  private_jwk: Jwk;
  public_jwk?: Jwk;
  jwks?: { keys: Jwk[] };
}

export function keygen(alg: Algorithm, kid?: string): KeygenResult {
  const generated = generateKey(alg);
  if (generated.secret !== undefined) {
    // The secret is used as a string (UTF-8 bytes), exactly as the server reads JWT_SECRET.
    const secret = generated.secret;
    const ring = KeyRing.from({ signing: { alg, key: secret, ...(kid !== undefined && { kid }) } });
    return {
      alg,
      kid: ring.signingKid,
      secret,
      private_jwk: {
        kty: 'oct',
        k: Buffer.from(secret, 'utf8').toString('base64url'),
        kid: ring.signingKid,
        alg,
        use: 'sig',
      },
    };
  }
  const id = kid ?? generated.kid;
  const publicJwk: Jwk = { ...generated.publicJwk!, kid: id };
  return {
    alg,
    kid: id,
    private_pem: generated.privatePem!,
    public_pem: generated.publicPem!,
    private_jwk: { ...generated.privateJwk, kid: id },
    public_jwk: publicJwk,
    jwks: { keys: [publicJwk] },
  };
}

export async function keygenCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    alg: { type: 'string' },
    kid: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(KEYGEN_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'keygen');
  const alg = values.alg ?? 'ES256';
  if (!isAlgorithm(alg)) {
    throw new UsageError(
      `--alg must be one of ${ALGORITHMS.join(', ')}; got ${JSON.stringify(alg)}`,
      'keygen',
    );
  }
  if (values.kid !== undefined && values.kid.trim() === '')
    throw new UsageError('--kid must not be empty', 'keygen');
  const result = keygen(alg, values.kid);
  if (values.json) {
    io.out(json(result));
    return 0;
  }
  const lines = [`Algorithm: ${result.alg}`, `Key id:    ${result.kid}`, ''];
  if (result.secret !== undefined) {
    lines.push(
      'Secret (use as is, e.g. JWT_SECRET):',
      result.secret,
      '',
      'JWK (the same secret):',
      JSON.stringify(result.private_jwk),
    );
  } else {
    lines.push(
      'Private key (PEM, PKCS#8; e.g. JWT_PRIVATE_KEY — keep it secret):',
      result.private_pem!.trimEnd(),
      '',
      'Public key (PEM, SPKI):',
      result.public_pem!.trimEnd(),
      '',
      'Private JWK (keep it secret):',
      JSON.stringify(result.private_jwk),
      '',
      'Public JWKS (publish it, e.g. at /.well-known/jwks.json):',
      JSON.stringify(result.jwks),
    );
  }
  io.out(lines.join('\n'));
  return 0;
}

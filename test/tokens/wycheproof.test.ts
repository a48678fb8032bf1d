/**
 * SECURITY.md T14: "The signature layer passes the Wycheproof vectors": every `valid` case accepted,
 * every `invalid` case refused, `acceptable` either way. Driven through every form of the verifier:
 * over signature bytes (`createVerifier`, `verifySignature`: false, never an exception), over the
 * base64url text (`createCompactVerifier`), and through the codec's own signature step
 * (`assertCompactSignature` on the verifier a `KeyRing` prepares from the vector's PEM key), which
 * must refuse every invalid case with a typed `TokenFormatError`.
 *
 * HMAC: JWS uses full-length tags only, so groups with truncated tags are skipped (counted in the
 * test names). Vector keys may be shorter than the hash output: that is the key ring's weak-key
 * rule, so the raw primitive is tested here, not the ring.
 */
import { Buffer } from 'node:buffer';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JwtSessionsError, TokenFormatError } from '../../src/errors.js';
import { type Algorithm, KeyRing } from '../../src/tokens/index.js';
import { keyRingInternals } from '../../src/tokens/keys.js';
import {
  assertCompactSignature,
  type CompactVerifier,
  createCompactVerifier,
  createVerifier,
  verifySignature,
} from '../../src/tokens/signature.js';

interface TestCase {
  tcId: number;
  comment: string;
  msg: string;
  sig?: string;
  tag?: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
}
interface TestGroup {
  publicKeyPem?: string;
  publicKeyJwk?: JsonWebKey;
  keySize?: number;
  tagSize?: number;
  sha?: string;
  sLen?: number;
  tests: (TestCase & { key?: string })[];
}
interface VectorFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: TestGroup[];
}

const FIXTURES = new URL('../fixtures/wycheproof/', import.meta.url);

function load(name: string): VectorFile {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as VectorFile;
}

/**
 * The compact verifier the codec would use for this key: prepared by a `KeyRing` (PEM import and
 * every configuration check) when the key is one the ring accepts. HMAC vector keys shorter than
 * the hash output are weak keys the ring refuses (T8): for those, the raw compact verifier.
 */
function codecVerifier(alg: Algorithm, pem: string | undefined, secret: KeyObject): CompactVerifier {
  if (pem === undefined && (secret.symmetricKeySize ?? 0) < Number(alg.slice(2)) / 8) {
    return createCompactVerifier(alg, secret);
  }
  const ring = KeyRing.from({
    signing: { alg: 'HS512', key: Buffer.alloc(64, 1) },
    previous: [{ alg, key: pem ?? secret, kid: 'vector' }],
  });
  return keyRingInternals(ring).byKid.get('vector')!.verifyCompact;
}

/** The codec's signature step: `true` when it returns, `false` for a typed refusal; rethrows anything else. */
function codecStep(verify: CompactVerifier, msg: Uint8Array, text: string): boolean {
  try {
    assertCompactSignature(verify, msg, text, 0);
    return true;
  } catch (error) {
    if (error instanceof TokenFormatError && error.code === 'signature_invalid') return false;
    throw error;
  }
}

interface Outcome {
  accepted: boolean;
  error?: unknown;
}

/** Runs one case through a verifier, never letting an untyped exception pass silently. */
function run(fn: () => boolean): Outcome {
  try {
    return { accepted: fn() };
  } catch (error) {
    return { accepted: false, error };
  }
}

/** Counts for the test name (cheap, at collection time). */
function count(file: string, alg: Algorithm) {
  const data = load(file);
  let total = 0;
  let skipped = 0;
  const tally = { valid: 0, invalid: 0, acceptable: 0 };
  for (const group of data.testGroups) {
    if (alg.startsWith('HS') && group.tagSize !== Number(alg.slice(2))) {
      skipped += group.tests.length;
      continue;
    }
    for (const tc of group.tests) {
      total++;
      tally[tc.result]++;
    }
  }
  return { total, skipped, tally };
}

function check(file: string, alg: Algorithm) {
  const data = load(file);
  let total = 0;
  let skipped = 0;
  const tally = { valid: 0, invalid: 0, acceptable: 0 };
  const failures: string[] = [];
  for (const group of data.testGroups) {
    const hmac = alg.startsWith('HS');
    if (hmac && group.tagSize !== Number(alg.slice(2))) {
      skipped += group.tests.length;
      continue;
    }
    let key: KeyObject | undefined;
    let groupVerifier: CompactVerifier | undefined;
    if (!hmac) {
      key = createPublicKey(group.publicKeyPem!);
      groupVerifier = codecVerifier(alg, group.publicKeyPem!, key);
    }
    for (const tc of group.tests) {
      total++;
      tally[tc.result]++;
      const msg = Buffer.from(tc.msg, 'hex');
      const sig = Buffer.from((tc.sig ?? tc.tag)!, 'hex');
      const k = hmac ? createSecretKey(Buffer.from(tc.key!, 'hex')) : key!;
      const outcomes = [
        run(() => createVerifier(alg, k)(msg, sig)),
        run(() => createCompactVerifier(alg, k)(msg, sig.toString('base64url'), 0)),
        run(() => verifySignature(k, alg, msg, sig)),
        // The compact form inside a longer text (as in a token: the signature is the last segment).
        run(() => createCompactVerifier(alg, k)(msg, `x.y.${sig.toString('base64url')}`, 4)),
        // The codec's step on the ring-prepared verifier: accepted, or a typed signature_invalid.
        run(() =>
          codecStep(groupVerifier ?? codecVerifier(alg, undefined, k), msg, sig.toString('base64url')),
        ),
      ];
      for (const [i, o] of outcomes.entries()) {
        if (o.error !== undefined && !(o.error instanceof JwtSessionsError)) {
          failures.push(`tc ${tc.tcId} (${tc.comment}) form ${i}: untyped ${String(o.error)}`);
        } else if (tc.result === 'valid' && !o.accepted) {
          failures.push(`tc ${tc.tcId} (${tc.comment}) form ${i}: valid case refused`);
        } else if (tc.result === 'invalid' && o.accepted) {
          failures.push(`tc ${tc.tcId} (${tc.comment}) form ${i}: invalid case accepted`);
        }
      }
      if (hmac) {
        // Base64url text of the tag that is not canonical is refused by the compact form.
        const text = sig.toString('base64url');
        if (text.length % 4 !== 0 && tc.result === 'valid') {
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const last = alphabet.indexOf(text.at(-1)!);
          const sneaky = `${text.slice(0, -1)}${alphabet[last | 1]}`;
          if (sneaky !== text && createCompactVerifier(alg, k)(msg, sneaky, 0)) {
            failures.push(`tc ${tc.tcId}: non-canonical tag text accepted`);
          }
        }
      }
    }
  }
  return { data, total, skipped, tally, failures };
}

const FILES: [string, Algorithm][] = [
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'ES256'],
  ['ecdsa_secp384r1_sha384_p1363_test.json', 'ES384'],
  ['ecdsa_secp521r1_sha512_p1363_test.json', 'ES512'],
  ['ed25519_test.json', 'EdDSA'],
  ['rsa_signature_2048_sha256_test.json', 'RS256'],
  ['rsa_pss_2048_sha256_mgf1_32_test.json', 'PS256'],
];

const HMAC_FILES: [string, Algorithm][] = [
  ['hmac_sha256_test.json', 'HS256'],
  ['hmac_sha384_test.json', 'HS384'],
  ['hmac_sha512_test.json', 'HS512'],
];

describe('[T14] Wycheproof signature vectors', () => {
  it('[T14] every vector file in test/fixtures/wycheproof is run, with the licence beside them', () => {
    const present = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    const used = [...FILES, ...HMAC_FILES].map(([file]) => file);
    expect([...present].sort()).toEqual([...used].sort());
    expect(readdirSync(FIXTURES)).toContain('LICENSE');
    for (const file of present) expect(load(file).numberOfTests).toBeGreaterThan(0);
  });

  for (const [file, alg] of FILES) {
    const n = count(file, alg);
    it(`[T14] ${alg} (${file}): ${n.total} cases — ${n.tally.valid} valid accepted, ${n.tally.invalid} invalid refused, ${n.tally.acceptable} acceptable`, () => {
      const result = check(file, alg);
      expect(result.failures).toEqual([]);
      expect(result.total).toBe(result.data.numberOfTests);
      expect(result.tally.valid).toBeGreaterThan(0);
      expect(result.tally.invalid).toBeGreaterThan(0);
    }, 90_000); // P-521: ~2000 verifications, slow on a loaded 2-core machine
  }

  for (const [file, alg] of HMAC_FILES) {
    const n = count(file, alg);
    it(`[T14] ${alg} (${file}): ${n.total} full-length-tag cases pass; ${n.skipped} cases with other tag sizes skipped (truncated or over-long; JWS uses full-length tags only)`, () => {
      const result = check(file, alg);
      expect(result.failures).toEqual([]);
      expect(result.total + result.skipped).toBe(result.data.numberOfTests);
      expect(result.total).toBeGreaterThan(0);
      expect(result.skipped).toBeGreaterThan(0);
      // Truncated tags are refused by our verifier anyway (exact length): check that too.
      const data = result.data;
      let refused = 0;
      for (const group of data.testGroups) {
        if (group.tagSize === Number(alg.slice(2))) continue;
        for (const tc of group.tests) {
          const k = createSecretKey(Buffer.from(tc.key!, 'hex'));
          const ok = createVerifier(alg, k)(Buffer.from(tc.msg, 'hex'), Buffer.from(tc.tag!, 'hex'));
          if (!ok) refused++;
          else expect(group.tagSize).toBe(Number(alg.slice(2))); // never reached
        }
      }
      expect(refused).toBe(result.skipped);
    });
  }
});

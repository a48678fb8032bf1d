/**
 * SECURITY.md: "The signature layer passes the Wycheproof vectors": every `valid` case accepted,
 * every `invalid` case refused (false, or a typed error — never another exception), `acceptable`
 * either way. Both forms of the verifier are driven: over signature bytes (`createVerifier`) and
 * over base64url signature text (`createCompactVerifier`, the codec's hot path).
 *
 * HMAC: JWS uses full-length tags only, so groups with truncated tags are skipped (counted in the
 * test names). Vector keys may be shorter than the hash output: that is the key ring's weak-key
 * rule, so the raw primitive is tested here, not the ring.
 */
import { Buffer } from 'node:buffer';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JwtSessionsError } from '../../src/errors.js';
import type { Algorithm } from '../../src/tokens/index.js';
import { createCompactVerifier, createVerifier, verifySignature } from '../../src/tokens/signature.js';

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

function load(name: string): VectorFile {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/wycheproof/${name}`, import.meta.url), 'utf8'),
  ) as VectorFile;
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
    if (!hmac) key = createPublicKey(group.publicKeyPem!);
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

describe('Wycheproof signature vectors', () => {
  for (const [file, alg] of FILES) {
    const n = count(file, alg);
    it(`${alg} (${file}): ${n.total} cases — ${n.tally.valid} valid accepted, ${n.tally.invalid} invalid refused, ${n.tally.acceptable} acceptable`, () => {
      const result = check(file, alg);
      expect(result.failures).toEqual([]);
      expect(result.total).toBe(result.data.numberOfTests);
      expect(result.tally.valid).toBeGreaterThan(0);
      expect(result.tally.invalid).toBeGreaterThan(0);
    });
  }

  for (const [file, alg] of [
    ['hmac_sha256_test.json', 'HS256'],
    ['hmac_sha384_test.json', 'HS384'],
    ['hmac_sha512_test.json', 'HS512'],
  ] as const) {
    const n = count(file, alg);
    it(`${alg} (${file}): ${n.total} full-length-tag cases pass; ${n.skipped} cases with other tag sizes skipped (truncated or over-long; JWS uses full-length tags only)`, () => {
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

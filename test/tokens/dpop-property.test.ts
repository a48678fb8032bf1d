/**
 * Mutation / fuzz (fast-check): a valid proof with any byte of its text changed, any segment
 * replaced or truncated, or any claim or header member altered is refused with a typed DpopError,
 * never accepted and never another exception; arbitrary strings are refused the same way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DpopError } from '../../src/errors.js';
import { accessTokenHash, verifyDpopProof } from '../../src/tokens/index.js';
import { NOW, rawProof, URL_ } from './dpop-support.js';

const request = { method: 'POST', url: URL_, now: NOW, accessToken: 'the-token' };
const ATH = accessTokenHash(request.accessToken);

function outcome(proof: unknown): 'accepted' | 'dpop' | string {
  try {
    verifyDpopProof(proof, request);
    return 'accepted';
  } catch (error) {
    return error instanceof DpopError ? 'dpop' : String(error);
  }
}

describe('tampered proofs are refused with a typed error', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
    const valid = rawProof({ alg, claims: { ath: ATH } });
    const allowed = { ...request, allowedAlgorithms: [alg] };

    it(`${alg}: the untampered proof is accepted (baseline)`, () => {
      expect(verifyDpopProof(valid, allowed).alg).toBe(alg);
    });

    it(`${alg}: any single character changed`, () => {
      fc.assert(
        fc.property(
          fc.nat({ max: valid.length - 1 }),
          fc.integer({ min: 0x20, max: 0x7e }),
          (index, code) => {
            const replacement = String.fromCharCode(code);
            fc.pre(valid[index] !== replacement);
            const tampered = valid.slice(0, index) + replacement + valid.slice(index + 1);
            let result: string;
            try {
              verifyDpopProof(tampered, allowed);
              result = 'accepted';
            } catch (error) {
              result = error instanceof DpopError ? 'dpop' : String(error);
            }
            // A change in the last character's unused bits cannot verify either: canonical base64url.
            expect(result).toBe('dpop');
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('any claim changed or removed (re-signed by another key or not re-signed)', () => {
    const claimNames = ['jti', 'htm', 'htu', 'iat', 'ath'];
    const values = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(fc.constantFrom(...claimNames), values, (name, value) => {
        const original: Record<string, unknown> = {
          jti: 'a1b2c3d4e5f6g7h8i9j0k1',
          htm: 'POST',
          htu: URL_,
          iat: NOW,
          ath: ATH,
        };
        fc.pre(
          value !== original[name] &&
            !(name === 'jti' && typeof value === 'string' && value.length > 0 && value.length <= 256),
        );
        const signed = rawProof({ claims: { ath: ATH, [name]: value } });
        expect(outcome(signed)).toBe('dpop');
        // the same claims spliced into the original signature
        const original_ = rawProof({ claims: { ath: ATH } });
        const [h, , s] = original_.split('.');
        const [, p] = signed.split('.');
        expect(outcome(`${h}.${p}.${s}`)).toBe('dpop');
      }),
      { numRuns: 200 },
    );
  });

  it('any header member changed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('typ', 'alg', 'jwk', 'crit', 'jku', 'x5c'),
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string())),
        (name, value) => {
          expect(outcome(rawProof({ claims: { ath: ATH }, headerExtra: { [name]: value } }))).toBe('dpop');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary strings and values', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/),
          fc.anything(),
        ),
        (input) => {
          const result = outcome(input);
          expect(['dpop']).toContain(result);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * The verification floor: the least work any JWT verifier must do with node:crypto and a cached
 * KeyObject, without the strictness checks (find the two dots, check the signature, decode and
 * JSON.parse the payload, check `exp`; no header parsing, one fixed key). The token bench compares
 * verifiers with it; the HTTP bench measures its CPU cost to compute each framework's limit.
 */
import { Buffer } from 'node:buffer';
import {
  createHmac,
  createSecretKey,
  verify as cryptoVerify,
  type KeyObject,
  timingSafeEqual,
  type VerifyKeyObjectInput,
} from 'node:crypto';

export type FloorPayload = { exp: number; sub?: unknown; [claim: string]: unknown };

/** What every verifier must do after the signature: decode and parse the payload, check exp. */
function parseFloorPayload(t: string, d1: number, d2: number): FloorPayload {
  const payload = JSON.parse(Buffer.from(t.slice(d1 + 1, d2), 'base64url').toString());
  if (!(payload.exp > Date.now() / 1000)) throw new Error('expired');
  return payload;
}

/** The HMAC-SHA256 floor: createHmac + digest, decode the signature, timingSafeEqual. */
export function hmacFloorVerifier(secret: KeyObject | Buffer | string): (token: string) => FloorPayload {
  const key = typeof secret === 'object' && 'type' in secret ? secret : createSecretKey(Buffer.from(secret));
  return (t) => {
    const d1 = t.indexOf('.');
    const d2 = t.indexOf('.', d1 + 1);
    const mac = createHmac('sha256', key).update(t.slice(0, d2)).digest();
    const sig = Buffer.from(t.slice(d2 + 1), 'base64url');
    if (sig.length !== mac.length || !timingSafeEqual(mac, sig)) throw new Error('bad signature');
    return parseFloorPayload(t, d1, d2);
  };
}

/** The public-key floor: crypto.verify with a cached KeyObject (hash null for EdDSA). */
export function signatureFloorVerifier(
  hash: string | null,
  verifyParams: VerifyKeyObjectInput | KeyObject,
): (token: string) => FloorPayload {
  return (t) => {
    const d1 = t.indexOf('.');
    const d2 = t.indexOf('.', d1 + 1);
    const ok = cryptoVerify(
      hash,
      Buffer.from(t.slice(0, d2)),
      verifyParams,
      Buffer.from(t.slice(d2 + 1), 'base64url'),
    );
    if (!ok) throw new Error('bad signature');
    return parseFloorPayload(t, d1, d2);
  };
}

/** HS256 only: the floor comparing the digest's base64url text with the signature text (this library's technique). */
export function hmacTextFloorVerifier(secretKey: KeyObject): (token: string) => FloorPayload {
  return (t) => {
    const d1 = t.indexOf('.');
    const d2 = t.indexOf('.', d1 + 1);
    const mac = createHmac('sha256', secretKey).update(t.slice(0, d2)).digest('base64url');
    let diff = mac.length ^ (t.length - d2 - 1);
    for (let i = 0; i < mac.length; i++) diff |= mac.charCodeAt(i) ^ t.charCodeAt(d2 + 1 + i);
    if (diff !== 0) throw new Error('bad signature');
    return parseFloorPayload(t, d1, d2);
  };
}

/**
 * CPU seconds one call of `verify(token)` costs, measured with process.cpuUsage over `rounds`
 * rounds of `roundMs` each (median per-call cost), after a warm-up.
 */
export function floorCpuSeconds(
  verify: (token: string) => unknown,
  token: string,
  { rounds = 7, roundMs = 100, warmupMs = 100 } = {},
): number {
  const spin = (ms: number) => {
    let n = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) verify(token);
      n += 100;
    }
    return n;
  };
  spin(warmupMs);
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const before = process.cpuUsage();
    const n = spin(roundMs);
    const { user, system } = process.cpuUsage(before);
    perCall.push((user + system) / 1e6 / n);
  }
  perCall.sort((a, b) => a - b);
  return perCall[perCall.length >> 1]!;
}

/**
 * The strict JSON and base64url helpers, checked against simple reference implementations with
 * random inputs: duplicate detection through whitespace, escapes and nesting; canonical base64url.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64url, encodeBase64url, isCanonicalBase64url } from '../../src/tokens/base64url.js';
import { MAX_JSON_DEPTH, parseJsonObjectBytes, parseJsonObjectText } from '../../src/tokens/json.js';

/** A tiny seeded PRNG so one fast-check integer drives all the formatting choices. */
function rng(seed: number) {
  let x = seed | 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const WS = ['', '', '', ' ', '\n', '\t', '\r\n  '];

/** Serialises with random whitespace, random \u escapes in names, and maybe duplicate names. */
function emit(value: unknown, pick: (n: number) => number, state: { dup: boolean }): string {
  const ws = () => WS[pick(WS.length)]!;
  const name = (k: string) => {
    if (pick(4) !== 0) return JSON.stringify(k);
    // the same name spelled with escapes
    return `"${[...k].map((c) => (pick(2) === 0 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c).slice(1, -1))).join('')}"`;
  };
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => emit(v, pick, state)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const members = entries.map(([k, v]) => `${name(k)}${ws()}:${ws()}${emit(v, pick, state)}`);
    if (entries.length > 0 && pick(8) === 0) {
      const [k] = entries[pick(entries.length)]!;
      members.splice(pick(members.length + 1), 0, `${name(k)}${ws()}:${ws()}${pick(2) ? '1' : '"x:\\"y"'}`);
      state.dup = true;
    }
    return `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(value);
}

describe('strict JSON objects', () => {
  it('[T3] detects duplicate names exactly (random documents, whitespace, escapes, nesting)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 }),
        fc.integer(),
        (doc, seed) => {
          const state = { dup: false };
          const text = emit(doc, rng(seed), state);
          const parsed = parseJsonObjectText(text);
          if (state.dup) {
            expect(parsed, text).toBeUndefined();
          } else {
            expect(parsed, text).toEqual(JSON.parse(text));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('[T3] strings full of quotes, colons and backslashes are not duplicates', () => {
    const tricky = ['":', '\\', '\\"', '\\\\":', ' : ', '"a":1,"a":2', '{"k":1}', 'x\\":"y'];
    for (const s of tricky) {
      const doc = { a: s, b: { a: s, c: [s, { a: s }] }, [s]: s };
      expect(parseJsonObjectText(JSON.stringify(doc))).toEqual(doc);
      expect(parseJsonObjectText(JSON.stringify(doc, null, 1))).toEqual(doc);
      expect(parseJsonObjectText(`${JSON.stringify(doc).slice(0, -1)},"a":0}`)).toBeUndefined();
    }
  });

  it('[T3] only objects, only bounded nesting', () => {
    for (const t of [
      '[]',
      '1',
      '"s"',
      'null',
      'true',
      '',
      ' ',
      '{',
      '{}x',
      '{"a":1,}',
      "{'a':1}",
      '{"a":01}',
      '{"a":NaN}',
    ]) {
      expect(parseJsonObjectText(t), t).toBeUndefined();
    }
    expect(parseJsonObjectText('{}')).toEqual({});
    const nest = (n: number) => `{"a":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    expect(parseJsonObjectText(nest(MAX_JSON_DEPTH))).toBeDefined();
    expect(parseJsonObjectText(nest(MAX_JSON_DEPTH + 1))).toBeUndefined();
    expect(parseJsonObjectText(nest(4000))).toBeUndefined();
  });

  it('[T3] UTF-8 must be well-formed; a real U+FFFD is fine', () => {
    expect(parseJsonObjectBytes(Buffer.from('{"a":"\ufffd"}'))).toEqual({ a: '\ufffd' });
    expect(
      parseJsonObjectBytes(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d])),
    ).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        const raw = Buffer.concat([Buffer.from('{"a":"'), bytes, Buffer.from('"}')]);
        const result = parseJsonObjectBytes(raw);
        const wellFormed = (() => {
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(raw);
            return true;
          } catch {
            return false;
          }
        })();
        if (!wellFormed) expect(result).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('canonical base64url', () => {
  it('[T2] accepts exactly the encodings of byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(isCanonicalBase64url(text)).toBe(true);
        expect(decodeBase64url(text)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12, unit: fc.constantFrom(...'ABab09-_+/= \n.é'.split('')) }),
        (text) => {
          const canonical =
            Buffer.from(text, 'base64url').toString('base64url') === text && /^[A-Za-z0-9_-]*$/.test(text);
          expect(isCanonicalBase64url(text), text).toBe(canonical);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('[T2] the fast decoder agrees exactly with the reference on valid encodings with one character changed or inserted', () => {
    // Every character Node's lenient decoder might skip, accept or misread: all of ASCII, Latin-1,
    // U+0141 (read as "A" by some decoders), a surrogate pair, and the other base64 spellings.
    const odd = [
      ...Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)),
      '\u0141',
      '\u2028',
      '\ufeff',
      '😀',
    ];
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 70 }),
        fc.constantFrom(...odd),
        fc.nat(),
        fc.boolean(),
        (bytes, ch, at, insert) => {
          const valid = encodeBase64url(bytes);
          const i = valid.length === 0 ? 0 : at % (valid.length + (insert ? 1 : 0));
          const text = `${valid.slice(0, i)}${ch}${valid.slice(insert ? i : i + 1)}`;
          const reference =
            /^[A-Za-z0-9_-]*$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
          expect(isCanonicalBase64url(text), JSON.stringify(text)).toBe(reference);
          const decoded = decodeBase64url(text);
          expect(decoded !== undefined, JSON.stringify(text)).toBe(reference);
          if (decoded !== undefined) expect(decoded).toEqual(Buffer.from(text, 'base64url'));
        },
      ),
      { numRuns: 20000 },
    );
  });
});

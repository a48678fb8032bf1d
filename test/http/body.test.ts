/**
 * JSON bodies of the ready-made routes: JSON content types only (415 for the simple ones a
 * cross-site form can send, SECURITY.md H5), a size cap before and while reading (413), strict
 * UTF-8 and JSON (400 invalid_json), an object only (400 bad_request).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RequestError } from '../../src/errors.js';
import {
  checkContentLength,
  isJsonContentType,
  readJsonBody,
  readNodeStream,
  readWebStream,
} from '../../src/http/body.js';
import { type FakeRequestInit, fakeRequest } from './request.js';

const LIMIT = 64;
const JSON_TYPE = { 'content-type': 'application/json' };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    return (error as RequestError).code;
  }
  throw new Error('expected a RequestError');
}

const read = (init: FakeRequestInit) => readJsonBody(fakeRequest({ method: 'POST', ...init }), LIMIT);

describe('isJsonContentType', () => {
  it('application/json and +json, with no charset or a UTF-8 one', () => {
    for (const type of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json; charset=utf8; foo=bar',
      'application/vnd.api+json',
      ' application/json ',
    ]) {
      expect(isJsonContentType(type), type).toBe(true);
    }
  });

  it('[H5] the simple content types and everything else are not JSON', () => {
    for (const type of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/json',
      'application/jsonp',
      'application/+json',
      'application/json; charset=latin1',
      'json',
      '',
    ]) {
      expect(isJsonContentType(type), type).toBe(false);
    }
  });
});

describe('checkContentLength', () => {
  const check = (value: string) => () =>
    checkContentLength(fakeRequest({ headers: { 'content-length': value } }), LIMIT);

  it('passes a declared length within the limit (or none)', () => {
    expect(check('64')).not.toThrow();
    expect(check(' 0 ')).not.toThrow();
    expect(() => checkContentLength(fakeRequest(), LIMIT)).not.toThrow();
  });

  it('refuses an oversized declaration before reading (413) and a malformed one (400)', () => {
    expect(check('65')).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
    expect(check('99999999999999999')).toThrow(expect.objectContaining({ code: 'bad_request' }));
    for (const value of ['-1', '1e3', '0x10', '', '12, 12', 'abc']) {
      expect(check(value), value).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });
});

describe('readJsonBody', () => {
  it('an object body is returned; no body or an empty one is {}', async () => {
    expect(await read({ headers: JSON_TYPE, body: '{"login":"a","n":1}' })).toEqual({ login: 'a', n: 1 });
    expect(await read({})).toEqual({});
    expect(await read({ headers: JSON_TYPE, body: '' })).toEqual({});
    expect(await read({ headers: JSON_TYPE, body: '\ufeff{"a":1}' })).toEqual({ a: 1 });
  });

  it('[H5] text/plain, form-encoded and multipart are 415 before a byte is read', async () => {
    let reads = 0;
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const request = fakeRequest({ method: 'POST', headers: { 'content-type': type }, body: '{"a":1}' });
      const readBody = request.readBody!;
      request.readBody = (limit) => {
        reads++;
        return readBody(limit);
      };
      expect(await codeOf(readJsonBody(request, LIMIT))).toBe('unsupported_media_type');
    }
    expect(reads).toBe(0);
  });

  it('[H5] a body without a content type is 415', async () => {
    expect(await codeOf(read({ body: '{"a":1}' }))).toBe('unsupported_media_type');
  });

  it('over the limit: 413, by Content-Length or by the bytes read', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(LIMIT) });
    expect(
      await codeOf(read({ headers: { ...JSON_TYPE, 'content-length': String(big.length) }, body: big })),
    ).toBe('payload_too_large');
    expect(await codeOf(read({ headers: JSON_TYPE, body: big }))).toBe('payload_too_large');
  });

  it('invalid UTF-8 or JSON: 400 invalid_json', async () => {
    expect(await codeOf(read({ headers: JSON_TYPE, body: '{"a":' }))).toBe('invalid_json');
    expect(await codeOf(read({ headers: JSON_TYPE, body: new Uint8Array([0x7b, 0xff, 0x7d]) }))).toBe(
      'invalid_json',
    );
    expect(
      await codeOf(read({ headers: JSON_TYPE, body: new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]) })),
    ).toBe('invalid_json');
  });

  it('a repeated member name, at any depth, is 400 invalid_json: two readers could disagree', async () => {
    for (const body of [
      '{"password":"wrong","password":"right"}',
      '{"a":{"b":1,"b":2}}',
      '{"a":[{"x":1,"x":1}]}',
    ]) {
      expect(await codeOf(read({ headers: JSON_TYPE, body })), body).toBe('invalid_json');
    }
    // A name that merely appears inside a string value is not a repeat.
    expect(await read({ headers: JSON_TYPE, body: '{"a":"\\"a\\":1","b":"a :"}' })).toEqual({
      a: '"a":1',
      b: 'a :',
    });
  });

  it('JSON that is not an object: 400 bad_request', async () => {
    for (const body of ['[]', '[{"a":1}]', 'null', '42', '"text"', 'true']) {
      expect(await codeOf(read({ headers: JSON_TYPE, body })), body).toBe('bad_request');
    }
    expect(await codeOf(read({ headers: JSON_TYPE, body: { parsed: [1] } }))).toBe('bad_request');
  });

  it('a value a framework body parser produced is used as is', async () => {
    expect(await read({ headers: JSON_TYPE, body: { parsed: { a: 1 } } })).toEqual({ a: 1 });
    expect(await read({ headers: JSON_TYPE, body: { parsed: undefined } })).toEqual({});
  });

  it('a __proto__ member stays an own property and pollutes nothing', async () => {
    const body = await read({ headers: JSON_TYPE, body: '{"__proto__":{"polluted":true}}' });
    expect(Object.hasOwn(body, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('readNodeStream', () => {
  it('concatenates the chunks', async () => {
    const bytes = await readNodeStream(Readable.from([Buffer.from('ab'), 'cd', Buffer.from('e')]), LIMIT);
    expect(Buffer.from(bytes).toString()).toBe('abcde');
  });

  it('stops at the limit with 413', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(10, 0x20));
    expect(await codeOf(readNodeStream(Readable.from(chunks), LIMIT))).toBe('payload_too_large');
  });

  it('a failing or interrupted stream is 400, never an unhandled error', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    expect(await codeOf(readNodeStream(failing, LIMIT))).toBe('bad_request');
    const interrupted = new Readable({
      read() {
        this.push('partial');
        this.destroy();
      },
    });
    expect(await codeOf(readNodeStream(interrupted, LIMIT))).toBe('bad_request');
  });
});

describe('readWebStream', () => {
  const stream = (chunks: Uint8Array[], fail = false) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        if (fail) controller.error(new Error('reset'));
        else controller.close();
      },
    });

  it('null for no body; the bytes otherwise', async () => {
    expect(await readWebStream(null, LIMIT)).toBeNull();
    const bytes = await readWebStream(stream([new Uint8Array([1, 2]), new Uint8Array([3])]), LIMIT);
    expect([...bytes!]).toEqual([1, 2, 3]);
  });

  it('413 past the limit; 400 for a stream that errors', async () => {
    expect(await codeOf(readWebStream(stream([new Uint8Array(40), new Uint8Array(40)]), LIMIT))).toBe(
      'payload_too_large',
    );
    expect(await codeOf(readWebStream(stream([new Uint8Array(4)], true), LIMIT))).toBe('bad_request');
  });
});

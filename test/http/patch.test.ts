/** `patchIsEmpty`: adapters skip applying a response patch only when it adds nothing. */
import { describe, expect, it } from 'vitest';
import { emptyPatch, patchIsEmpty } from '../../src/http/authorize.js';

describe('patchIsEmpty', () => {
  it('is true for a fresh empty patch only', () => {
    expect(patchIsEmpty(emptyPatch())).toBe(true);
    expect(patchIsEmpty({ headers: { 'cache-control': 'no-store' }, cookies: [] })).toBe(false);
    expect(patchIsEmpty({ headers: {}, cookies: ['a=b; Path=/'] })).toBe(false);
  });
});

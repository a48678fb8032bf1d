/** The whole scenario suite on Express 4 (installed as the `express4` alias): the adapter needs no Express 5 API. */
import { createRequire } from 'node:module';
import express4 from 'express4';
import { expect, it } from 'vitest';
import { startExpressOn } from './apps.js';
import { defineScenarios } from './scenarios.js';

it('the express4 alias really is Express 4', () => {
  const { version } = createRequire(import.meta.url)('express4/package.json') as { version: string };
  expect(version.split('.')[0]).toBe('4');
});

defineScenarios('express 4', startExpressOn(express4));

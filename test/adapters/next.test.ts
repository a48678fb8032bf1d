import { beforeAll } from 'vitest';
import { startNext } from './apps-next.js';
import { ensureNextBuild, NEXT_BUILD_TIMEOUT_MS } from './next-server.js';
import { defineScenarios } from './scenarios.js';

beforeAll(ensureNextBuild, NEXT_BUILD_TIMEOUT_MS);

defineScenarios('next', startNext);

import { startFastify } from './apps.js';
import { defineScenarios } from './scenarios.js';

defineScenarios('fastify', startFastify);

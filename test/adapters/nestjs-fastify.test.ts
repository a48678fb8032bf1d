import { startNestFastify } from './apps-nest.js';
import { defineScenarios } from './scenarios.js';

defineScenarios('nestjs (fastify platform)', startNestFastify);

import { startNestExpress } from './apps-nest.js';
import { defineScenarios } from './scenarios.js';

defineScenarios('nestjs (express platform)', startNestExpress);

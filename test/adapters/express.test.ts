import { startExpress } from './apps.js';
import { defineScenarios } from './scenarios.js';

defineScenarios('express', startExpress);

import { startHono } from './apps.js';
import { defineScenarios } from './scenarios.js';

defineScenarios('hono', startHono);

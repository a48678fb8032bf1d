import { startKoa } from './apps-koa.js';
import { defineScenarios } from './scenarios.js';

defineScenarios('koa', startKoa);

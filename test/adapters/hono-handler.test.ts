import { startHonoHandlers } from './apps.js';
import { defineScenarios } from './scenarios.js';

// The whole HTTP contract again, every guarded route a single `auth.withSession(handler)`.
defineScenarios('hono (withSession)', startHonoHandlers);

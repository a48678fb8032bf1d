/**
 * The reference server's HTTP contract (SPEC §5) on every STORE_URL form: memory, sqlite, Redis,
 * Redis Cluster, PostgreSQL and MariaDB. Missing services: a loud counted skip (a failure under CI).
 */
import { describe } from 'vitest';
import { describeWithService } from '../support/services.js';
import { serverContract } from './contract.js';
import { storeTargets } from './support.js';

const targets = await storeTargets('srv');

describe('reference server HTTP contract', () => {
  for (const target of targets) {
    describeWithService(target.available)(`STORE_URL=${target.name}`, () => serverContract(target));
  }
});

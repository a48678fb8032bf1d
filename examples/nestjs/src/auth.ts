// NestJS quickstart: the demo user check and the session engine.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { createSessions, MemoryStore } from 'jwt-sessions';

// A demo user; keep real users in your database with a password hash like this one.
const hash = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;
const salt = randomBytes(16);
const users = new Map([
  ['demo@example.com', { id: 'u_demo', passwordHash: hash('correct horse battery staple', salt, 32) }],
]);

export async function authenticate({ login, password }: { login: string; password: string }) {
  const user = users.get(login);
  const candidate = await hash(password, salt, 32);
  if (user === undefined || !timingSafeEqual(candidate, await user.passwordHash)) return null;
  return { payload: { user_id: user.id }, namespace: user.id };
}

export const sessions = createSessions({
  // Use a fixed secret (32+ bytes) from your environment so sessions survive a restart.
  keys: { signing: { alg: 'HS256', key: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url') } },
  store: new MemoryStore(), // or a Redis/PostgreSQL/MySQL/SQLite store
  accessTtl: 15 * 60,
  refreshTtl: 7 * 24 * 3600,
  slidingRenewAfter: 0.5, // past half its life, an access token comes back renewed
});

// Koa quickstart: `PORT=3000 npx tsx koa.ts`
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import Router from '@koa/router';
import { createSessions, MemoryStore } from 'jwt-sessions';
import { type JwtSessionState, koaSessions } from 'jwt-sessions/koa';
import Koa from 'koa';

// A demo user; keep real users in your database with a password hash like this one.
const hash = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;
const salt = randomBytes(16);
const users = new Map([
  ['demo@example.com', { id: 'u_demo', passwordHash: await hash('correct horse battery staple', salt, 32) }],
]);

const sessions = createSessions({
  // Use a fixed secret (32+ bytes) from your environment so sessions survive a restart.
  keys: { signing: { alg: 'HS256', key: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url') } },
  store: new MemoryStore(), // or a Redis/PostgreSQL/MySQL/SQLite store
  accessTtl: 15 * 60,
  refreshTtl: 7 * 24 * 3600,
  slidingRenewAfter: 0.5, // past half its life, an access token comes back renewed
});
const auth = koaSessions(sessions);

const app = new Koa<JwtSessionState>();
app.use(auth.errorHandler()); // the library's errors (and Koa's own 4xx) as {error, code} JSON

// POST /auth/login, /auth/refresh, /auth/logout, GET /auth/sessions, DELETE /auth/sessions/:id
app.use(
  auth.routes({
    prefix: '/auth',
    async authenticate({ login, password }) {
      const user = users.get(login);
      const candidate = await hash(password, salt, 32);
      if (user === undefined || !timingSafeEqual(candidate, user.passwordHash)) return null;
      return { payload: { user_id: user.id }, namespace: user.id };
    },
  }),
);

// A protected route: Authorization: Bearer <access token>, or the access cookie (+ X-CSRF-Token on POST).
const router = new Router<JwtSessionState>();
router.get('/api/me', auth.requireAccess(), (ctx) => {
  ctx.body = { user_id: ctx.state.jwtSession.claims.user_id, session_id: ctx.state.jwtSession.sessionId };
});
app.use(router.routes());

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${port}`));

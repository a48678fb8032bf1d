// Express quickstart: `PORT=3000 npx tsx express.ts`
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import express from 'express';
import { createSessions, MemoryStore } from 'jwt-sessions';
import { expressSessions } from 'jwt-sessions/express';

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
const auth = expressSessions(sessions);

const app = express();

// POST /auth/login, /auth/refresh, /auth/logout, GET /auth/sessions, DELETE /auth/sessions/:id
app.use(
  '/auth',
  auth.routes({
    async authenticate({ login, password }) {
      const user = users.get(login);
      const candidate = await hash(password, salt, 32);
      if (user === undefined || !timingSafeEqual(candidate, user.passwordHash)) return null;
      return { payload: { user_id: user.id }, namespace: user.id };
    },
  }),
);

// A protected route: Authorization: Bearer <access token>, or the access cookie (+ X-CSRF-Token on POST).
// One handler (no extra Express layer); `auth.requireAccess()` is the middleware form.
app.get(
  '/api/me',
  auth.withSession((_req, res, session) => {
    res.json({ user_id: session.claims.user_id, session_id: session.sessionId });
  }),
);

app.use(auth.errorHandler());

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${port}`));

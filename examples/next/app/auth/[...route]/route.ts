// POST /auth/login, /auth/refresh, /auth/logout, GET /auth/sessions, DELETE /auth/sessions/:id
import { auth, authenticate } from '../../../lib/auth';

export const { GET, POST, DELETE, OPTIONS } = auth.routeHandlers({ prefix: '/auth', authenticate });

// A protected route: Authorization: Bearer <access token>, or the access cookie (+ X-CSRF-Token on POST).
import { auth } from '../../../lib/auth';

export const GET = auth.withSession((_request, session) =>
  Response.json({ user_id: session.claims.user_id, session_id: session.sessionId }),
);

// Optional (Next 16 `proxy`, Node.js runtime): refuse requests to /api without a valid token
// before any route runs (route handlers that need the claims still use auth.withSession), and
// answer malformed URLs under /auth in the JSON error shape (Next's own answer is a 500 page).
import { NextResponse } from 'next/server';
import { auth } from './lib/auth';

export const proxy = auth.middleware({
  next: () => NextResponse.next(),
  mode: 'stateless',
  protect: (request) => new URL(request.url).pathname.startsWith('/api/'),
});

export const config = { matcher: ['/auth/:path*', '/api/:path*'] };

/**
 * The demo SPA's HTTP client for the reference server's JSON routes (SPEC §5). It knows the two
 * transports: header mode sends `Authorization: Bearer <access>` (and the refresh token in
 * `X-Refresh-Token`); cookie mode relies on the HttpOnly cookies and sends `X-CSRF-Token` on
 * unsafe methods. It never stores anything: auth.ts owns the state.
 */

export type Mode = 'header' | 'cookie';

/** The session as one tab knows it. Tokens are present in header mode only. */
export interface AuthState {
  mode: Mode;
  sessionId: string;
  csrf: string;
  /** Epoch milliseconds. */
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** When this generation was received (epoch ms): the start of the countdown bar. */
  receivedAt: number;
  accessToken?: string;
  refreshToken?: string;
  /** Random id of this generation, so tabs can tell whether they hold the same one. */
  stamp: string;
  /** Which tab obtained it (shown in the activity log). */
  origin: string;
}

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  csrf: string;
  access_expires_at: string;
  refresh_expires_at: string;
  session_id: string;
}

export interface SessionRow {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function randomStamp(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function stateFrom(body: TokenResponse, mode: Mode, origin: string): AuthState {
  const state: AuthState = {
    mode,
    sessionId: body.session_id,
    csrf: body.csrf,
    accessExpiresAt: Date.parse(body.access_expires_at),
    refreshExpiresAt: Date.parse(body.refresh_expires_at),
    receivedAt: Date.now(),
    stamp: randomStamp(),
    origin,
  };
  if (mode === 'header') {
    if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
      throw new ApiError(500, 'bad_response', 'the server sent no tokens for header mode');
    }
    state.accessToken = body.access_token;
    state.refreshToken = body.refresh_token;
  }
  return state;
}

interface CallOptions {
  body?: unknown;
  /** Adds the credentials of this state for its transport. */
  auth?: AuthState;
  /** Header mode refresh: send the refresh token instead of the access token. */
  useRefresh?: boolean;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const auth = options.auth;
  if (auth !== undefined) {
    if (auth.mode === 'header') {
      if (options.useRefresh) headers['X-Refresh-Token'] = auth.refreshToken ?? '';
      else headers.Authorization = `Bearer ${auth.accessToken ?? ''}`;
    } else if (UNSAFE.has(method)) {
      headers['X-CSRF-Token'] = auth.csrf;
    }
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      // Cookie mode needs the cookies; header mode must not send them (it would mix transports).
      credentials: auth === undefined || auth.mode === 'cookie' ? 'same-origin' : 'omit',
      cache: 'no-store',
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'the server cannot be reached');
  }
  let body: unknown = null;
  const text = await response.text();
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const error = body as { error?: unknown; code?: unknown } | null;
    throw new ApiError(
      response.status,
      typeof error?.code === 'string' ? error.code : `http_${response.status}`,
      typeof error?.error === 'string' ? error.error : response.statusText || 'request failed',
    );
  }
  return body as T;
}

export function login(email: string, password: string, mode: Mode): Promise<TokenResponse> {
  return call<TokenResponse>('POST', '/auth/login', { body: { login: email, password, transport: mode } });
}

export function refresh(state: AuthState): Promise<TokenResponse> {
  // Header mode: the refresh token in X-Refresh-Token. Cookie mode: the refresh cookie + X-CSRF-Token.
  return call<TokenResponse>('POST', '/auth/refresh', { auth: state, useRefresh: true, body: {} });
}

export function logout(state: AuthState, everywhere: boolean): Promise<{ revoked: number }> {
  return call<{ revoked: number }>('POST', '/auth/logout', {
    auth: state,
    body: everywhere ? { refresh_token: 'all' } : {},
  });
}

export function me(state: AuthState): Promise<Record<string, unknown>> {
  return call<Record<string, unknown>>('GET', '/api/me', { auth: state });
}

export function sessions(state: AuthState): Promise<{ sessions: SessionRow[] }> {
  return call<{ sessions: SessionRow[] }>('GET', '/auth/sessions', { auth: state });
}

export function revokeSession(state: AuthState, id: string): Promise<{ revoked: number }> {
  return call<{ revoked: number }>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`, { auth: state });
}

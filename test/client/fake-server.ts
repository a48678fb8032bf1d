import { DpopError } from '../../src/errors.js';
import { assertProofUnused, type VerifiedDpopProof, verifyDpopProof } from '../../src/tokens/dpop.js';

/**
 * An in-process stand-in for the reference server's session routes, as a `fetch` function: enough
 * of SPEC §5 to drive the client's state machine through every path (rotation with reuse
 * detection, CSRF, expiry, sliding renewal, outages), and a count of every request it received.
 */

export interface FakeSession {
  id: string;
  generation: number;
  access: string;
  refresh: string;
  /** The rotated-out refresh token, accepted again while `graceUntil` (epoch ms) lasts. */
  previousRefresh: string | null;
  graceUntil: number;
  csrf: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** DPoP: the thumbprint of the key the session is bound to, or null. */
  jkt: string | null;
}

export interface FakeServerOptions {
  /** Access token lifetime in ms. Default 60 s. */
  accessTtl?: number;
  /** Reuse grace in ms (0: a rotated-out refresh token revokes the session). Default 0. */
  grace?: number;
  /**
   * DPoP as the contract says, with the project's own verifier: a login with a proof binds the
   * session; a bound session needs proofs (same key, `ath` in the header transport); every jti
   * once. `nonce`: proofs must carry the current `DPoP-Nonce`. Default: DPoP headers ignored.
   */
  dpop?: { nonce?: boolean };
}

/** A verified proof and the request it came with. */
export interface SeenProof {
  method: string;
  path: string;
  proof: VerifiedDpopProof;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let counter = 0;

export class FakeServer {
  readonly sessions = new Map<string, FakeSession>();
  /** `METHOD path` → how many requests arrived. */
  readonly counts = new Map<string, number>();
  /** Every request as received: method, path, headers. */
  readonly requests: Array<{ method: string; path: string; headers: Headers; credentials?: string }> = [];
  accessTtl: number;
  grace: number;
  /** When true, every request fails as if the server were unreachable. */
  down = false;
  /** Status + code to answer the next refreshes with (e.g. 503 store_unavailable). */
  refreshFailure: { status: number; code: string } | null = null;
  /** A renewed access token is sent in the `Authorization` response header of the next API call. */
  slideNext = false;
  /** Resolves a held refresh (see `holdRefresh`). */
  #held: Array<() => void> = [];
  holdRefresh = false;
  readonly dpop: { nonce?: boolean } | undefined;
  /** Every proof that passed verification, in order. */
  readonly proofs: SeenProof[] = [];
  /** Every DPoP refusal, by code. */
  readonly dpopRefusals: string[] = [];
  /** The nonce proofs must carry (when `dpop.nonce`); `rotateNonce` makes it stale. */
  nonce = `n${++counter}`;
  /** True: the nonce changes before every check, so the client's is always stale (a misbehaving server). */
  alwaysNewNonce = false;
  readonly #usedProofs = new Map<string, number>();

  constructor(options: FakeServerOptions = {}) {
    this.accessTtl = options.accessTtl ?? 60_000;
    this.grace = options.grace ?? 0;
    this.dpop = options.dpop;
  }

  rotateNonce(): void {
    this.nonce = `n${++counter}`;
  }

  count(method: string, path: string): number {
    return this.counts.get(`${method} ${path}`) ?? 0;
  }

  releaseRefreshes(): void {
    for (const release of this.#held.splice(0)) release();
  }

  /** Makes every live access token expired (as the server sees it; the client is not told). */
  expireAccess(): void {
    for (const session of this.sessions.values()) session.accessExpiresAt = Date.now() - 1;
  }

  #token(sid: string, kind: string, exp: number): string {
    return `${encode({ alg: 'HS256', typ: kind })}.${encode({ sid, jti: `j${++counter}`, exp: Math.floor(exp / 1000), email: 'demo@example.com' })}.sig`;
  }

  #issue(session: FakeSession): void {
    session.generation++;
    session.accessExpiresAt = Date.now() + this.accessTtl;
    session.access = this.#token(session.id, 'at+jwt', session.accessExpiresAt);
    session.refresh = this.#token(session.id, 'rt+jwt', session.refreshExpiresAt);
    session.csrf = `csrf${++counter}`;
  }

  #body(session: FakeSession, cookie: boolean): Record<string, unknown> {
    return {
      ...(!cookie && { access_token: session.access, refresh_token: session.refresh }),
      csrf: session.csrf,
      session_id: session.id,
      access_expires_at: new Date(session.accessExpiresAt).toISOString(),
      refresh_expires_at: new Date(session.refreshExpiresAt).toISOString(),
      token_type: session.jkt === null ? 'Bearer' : 'DPoP',
      jkt: session.jkt,
    };
  }

  /** The session a cookie jar would name: the browser keeps one cookie pair per origin. */
  cookieSession: string | null = null;

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(
      input instanceof Request ? input : new URL(String(input), 'http://app.test'),
      init,
    );
    const path = new URL(request.url).pathname;
    const key = `${request.method} ${path}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.requests.push({
      method: request.method,
      path,
      headers: request.headers,
      credentials: init?.credentials ?? (input instanceof Request ? input.credentials : undefined),
    });
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.down) throw new TypeError('fetch failed');
    const body =
      request.method === 'GET' || request.method === 'HEAD' ? {} : await request.json().catch(() => ({}));
    const proof = await this.#verifyProof(request, path);
    if (proof instanceof Response) return proof;
    const response = await this.#route(request, path, body as Record<string, unknown>, proof);
    if (proof && this.dpop?.nonce) response.headers.set('dpop-nonce', this.nonce);
    return response;
  };

  /** The request's DPoP proof verified (a refusal response if it is bad); undefined when absent or ignored. */
  async #verifyProof(request: Request, path: string): Promise<VerifiedDpopProof | Response | undefined> {
    const header = request.headers.get('dpop');
    if (this.dpop === undefined || header === null) return undefined;
    // Whatever nonce the client holds is stale by now.
    if (this.alwaysNewNonce) this.rotateNonce();
    const dpopToken = request.headers.get('authorization')?.match(/^DPoP (.+)$/)?.[1];
    try {
      const proof = verifyDpopProof(header, {
        method: request.method,
        url: request.url,
        ...(dpopToken !== undefined && { accessToken: dpopToken }),
        ...(this.dpop.nonce && { nonce: this.nonce }),
      });
      await assertProofUnused(
        {
          markProofUsed: async (key, until) =>
            !this.#usedProofs.has(key) && !!this.#usedProofs.set(key, until),
        },
        proof,
      );
      this.proofs.push({ method: request.method, path, proof });
      return proof;
    } catch (error) {
      if (!(error instanceof DpopError)) throw error;
      this.dpopRefusals.push(error.code);
      if (error.code === 'dpop_nonce_required') {
        return this.#json(401, { error: error.message, code: error.code }, { 'dpop-nonce': this.nonce });
      }
      return this.#error(401, error.code);
    }
  }

  /** A bound session's rule: a proof by its key (`ath` was checked when a token came with it). */
  #binding(session: FakeSession, proof: VerifiedDpopProof | undefined): Response | undefined {
    if (session.jkt === null) return undefined;
    const code =
      proof === undefined ? 'dpop_proof_missing' : proof.jkt !== session.jkt ? 'dpop_key_mismatch' : null;
    if (code === null) return undefined;
    this.dpopRefusals.push(code);
    return this.#error(401, code);
  }

  #json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  }

  #error(status: number, code: string): Response {
    return this.#json(status, { error: code.replace(/_/g, ' '), code });
  }

  /** The session of the access token (header) or the access cookie; an error response otherwise. */
  #access(request: Request, proof: VerifiedDpopProof | undefined): FakeSession | Response {
    const authorization = request.headers.get('authorization');
    const bearer = authorization?.replace(/^(Bearer|DPoP) /, '');
    const session = bearer
      ? [...this.sessions.values()].find((s) => s.access === bearer)
      : this.cookieSession !== null && request.credentials === 'include'
        ? this.sessions.get(this.cookieSession)
        : undefined;
    if (bearer === undefined && this.cookieSession === null) return this.#error(401, 'token_missing');
    if (session === undefined) {
      const sid = bearer ? JSON.parse(Buffer.from(bearer.split('.')[1]!, 'base64url').toString()).sid : null;
      return this.#error(401, this.sessions.has(sid) ? 'access_revoked' : 'session_not_found');
    }
    if (session.accessExpiresAt <= Date.now()) return this.#error(401, 'token_expired');
    if (session.jkt !== null && bearer !== undefined && !authorization?.startsWith('DPoP ')) {
      this.dpopRefusals.push('dpop_bound_token');
      return this.#error(401, 'dpop_bound_token');
    }
    const unbound = this.#binding(session, proof);
    if (unbound) return unbound;
    if (bearer === undefined && !['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      if (request.headers.get('x-csrf-token') !== session.csrf) return this.#error(403, 'csrf_invalid');
    }
    return session;
  }

  async #route(
    request: Request,
    path: string,
    body: Record<string, unknown>,
    proof: VerifiedDpopProof | undefined,
  ): Promise<Response> {
    const cookie = body.transport === 'cookie';
    switch (`${request.method} ${path}`) {
      case 'POST /auth/login': {
        if (body.password !== 'pw') return this.#error(401, 'invalid_credentials');
        const session: FakeSession = {
          id: `s${++counter}`,
          generation: 0,
          access: '',
          refresh: '',
          previousRefresh: null,
          graceUntil: 0,
          csrf: '',
          accessExpiresAt: 0,
          refreshExpiresAt: Date.now() + 3600_000,
          jkt: proof?.jkt ?? null,
        };
        this.#issue(session);
        this.sessions.set(session.id, session);
        if (cookie) this.cookieSession = session.id;
        return this.#json(200, this.#body(session, cookie));
      }
      case 'POST /auth/refresh': {
        if (this.holdRefresh) await new Promise<void>((resolve) => this.#held.push(resolve));
        if (this.refreshFailure) return this.#error(this.refreshFailure.status, this.refreshFailure.code);
        const token = request.headers.get('x-refresh-token');
        if (token === null) {
          const session = this.cookieSession === null ? undefined : this.sessions.get(this.cookieSession);
          if (session === undefined) return this.#error(401, 'token_missing');
          if (request.headers.get('x-csrf-token') !== session.csrf) return this.#error(403, 'csrf_invalid');
          const unbound = this.#binding(session, proof);
          if (unbound) return unbound;
          this.#issue(session);
          return this.#json(200, this.#body(session, true));
        }
        const session = [...this.sessions.values()].find(
          (s) => s.refresh === token || s.previousRefresh === token,
        );
        if (session === undefined) return this.#error(401, 'session_not_found');
        const unbound = this.#binding(session, proof);
        if (unbound) return unbound;
        if (session.refresh !== token) {
          if (Date.now() < session.graceUntil) return this.#json(200, this.#body(session, false));
          this.sessions.delete(session.id);
          return this.#error(401, 'refresh_reused');
        }
        session.previousRefresh = token;
        session.graceUntil = Date.now() + this.grace;
        this.#issue(session);
        return this.#json(200, this.#body(session, false));
      }
      case 'GET /auth/session': {
        const session = this.#access(request, proof);
        if (session instanceof Response) {
          const byCookie = this.cookieSession !== null ? this.sessions.get(this.cookieSession) : undefined;
          if (byCookie === undefined) return session;
          return this.#json(200, { ...this.#body(byCookie, true), claims: null, access_expires_at: null });
        }
        return this.#json(200, {
          ...this.#body(session, true),
          claims: { sid: session.id, email: 'demo@example.com' },
        });
      }
      case 'POST /auth/logout': {
        const session = this.#access(request, proof);
        if (session instanceof Response) return session;
        const ended = body.refresh_token === 'all' ? this.sessions.size : 1;
        if (body.refresh_token === 'all') this.sessions.clear();
        else this.sessions.delete(session.id);
        if (this.cookieSession === session.id) this.cookieSession = null;
        return this.#json(200, { revoked: ended });
      }
      case 'GET /auth/sessions': {
        const session = this.#access(request, proof);
        if (session instanceof Response) return session;
        return this.#json(200, {
          sessions: [...this.sessions.values()].map((s) => ({
            id: s.id,
            current: s.id === session.id,
            jkt: s.jkt,
          })),
        });
      }
      default: {
        if (request.method === 'DELETE' && path.startsWith('/auth/sessions/')) {
          const session = this.#access(request, proof);
          if (session instanceof Response) return session;
          const id = decodeURIComponent(path.slice('/auth/sessions/'.length));
          if (!this.sessions.delete(id)) return this.#error(404, 'not_found');
          return this.#json(200, { revoked: 1 });
        }
        if (path.startsWith('/api/')) {
          const session = this.#access(request, proof);
          if (session instanceof Response) return session;
          const headers: Record<string, string> = {};
          if (this.slideNext && request.headers.has('authorization')) {
            this.slideNext = false;
            session.accessExpiresAt = Date.now() + this.accessTtl;
            session.access = this.#token(session.id, 'at+jwt', session.accessExpiresAt);
            headers.authorization = `Bearer ${session.access}`;
          }
          return this.#json(200, { ok: true, sid: session.id, method: request.method }, headers);
        }
        return this.#error(404, 'not_found');
      }
    }
  }
}

/**
 * The demo SPA, built on the public browser client (`jwt-sessions/client`) and nothing else: sign
 * in (header or cookie transport, remembered), a live access-token countdown (the client refreshes
 * single-flight across tabs), a protected call, the signed-in devices with revoke buttons, sign out
 * and sign out everywhere, and why a session ended. Plain DOM, no framework.
 */
import {
  createSessionClient,
  type SessionClient,
  SessionClientError,
  type SessionEvent,
  type SessionRow,
  type SessionState,
  type Transport,
} from '../../client/index.js';
import { clockTime, countdown, dateTime, deviceName, relativeTime, spokenDuration } from './format.js';

const TRANSPORT_KEY = 'jwt-sessions-demo:transport';
/** '1': sessions are bound to this browser's DPoP key (the client must then be a `dpop: true` one). */
const DPOP_KEY = 'jwt-sessions-demo:dpop';
const SESSIONS_POLL_MS = 5000;

function $(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} missing from index.html`);
  return element;
}

function $input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

/** A preference of this browser (not a secret), null when unset or storage is disabled. */
function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage disabled: the choice lasts as long as the page.
  }
}

/** How this browser last signed in: the transport, and whether the session was bound (DPoP). */
function storedChoice(): { transport: Transport; dpop: boolean } {
  return {
    transport: stored(TRANSPORT_KEY) === 'cookie' ? 'cookie' : 'header',
    dpop: stored(DPOP_KEY) === '1',
  };
}

/** Why the session ended, in words, from the client's `reason` (the server's code or `logout`). */
function endedMessage(reason: string): string {
  switch (reason) {
    case 'logout':
      return 'You signed out.';
    case 'session_not_found':
      return 'Your session was ended: revoked from another device, signed out everywhere, or expired.';
    case 'session_expired':
    case 'token_expired':
      return 'Your session expired.';
    case 'refresh_reused':
      return 'Your session was ended for safety: an old refresh token was presented again (possible token theft).';
    case 'signature_invalid':
    case 'kid_unknown':
      return 'The server no longer accepts your session (it restarted with new keys).';
    case 'access_revoked':
      return 'Your access was revoked.';
    case 'token_missing':
      return 'Your session cookies are gone (signed out in another tab or cleared).';
    default:
      return 'Your session ended.';
  }
}

class App {
  client: SessionClient;
  #unsubscribe: (() => void) | undefined;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  /** When the current access token was first seen here (the countdown bar's start). */
  #since = 0;
  #sinceFor = 0;
  #lastSpoken = 0;
  #shownSession = '';
  /** Whether the current client makes DPoP proofs. */
  #dpop = false;
  /** What to say on the sign-in screen after this tab's own "sign out everywhere". */
  #farewell = '';

  constructor() {
    const { transport, dpop } = storedChoice();
    this.client = this.#connect(transport, dpop);
  }

  #connect(transport: Transport, dpop: boolean): SessionClient {
    this.#unsubscribe?.();
    this.#dpop = dpop;
    const client = createSessionClient({
      baseUrl: '/auth',
      transport,
      dpop,
      onEvent: (event) => this.#onEvent(event),
    });
    this.#unsubscribe = client.subscribe((state) => this.#render(state));
    return client;
  }

  /** Switches to a client of the other transport or DPoP choice (only while signed out). */
  async #use(transport: Transport, dpop: boolean): Promise<void> {
    if (this.transport === transport && this.#dpop === dpop) return;
    this.client.close();
    this.client = this.#connect(transport, dpop);
    this.#render(await this.client.ready);
  }

  get transport(): Transport {
    return this.client.transport;
  }

  async start(): Promise<void> {
    this.#wireLogin();
    this.#wireSession();
    this.#checkRadio(storedChoice().transport);
    $input('bound').checked = storedChoice().dpop;
    $('locks').textContent =
      'locks' in navigator
        ? 'single-flight across tabs (Web Locks), the result shared with every tab (BroadcastChannel)'
        : 'single-flight in this tab (no Web Locks in this browser)';
    // Another tab signed in with the other transport: follow it while signed out here.
    window.addEventListener('storage', (event) => {
      if (
        (event.key === TRANSPORT_KEY || event.key === DPOP_KEY) &&
        this.client.state.status === 'signed-out'
      ) {
        const choice = storedChoice();
        this.#checkRadio(choice.transport);
        $input('bound').checked = choice.dpop;
        void this.#use(choice.transport, choice.dpop);
      }
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.client.state.status === 'signed-in')
        void this.loadSessions();
    });
    this.#render(await this.client.ready);
  }

  #checkRadio(transport: Transport): void {
    const radio = document.querySelector<HTMLInputElement>(`input[name="transport"][value="${transport}"]`);
    if (radio) radio.checked = true;
  }

  // ---- sign in ---------------------------------------------------------------------------------

  #wireLogin(): void {
    const form = $('login-form') as HTMLFormElement;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const email = $input('email').value.trim();
      const password = $input('password').value;
      const transport = (new FormData(form).get('transport') as Transport | null) ?? 'header';
      $('login-error').hidden = true;
      if (email === '' || password === '') {
        this.#showLoginError('Enter an e-mail address and a password.');
        return;
      }
      const button = $('login-button') as HTMLButtonElement;
      button.disabled = true;
      button.textContent = 'Signing in…';
      try {
        const dpop = $input('bound').checked;
        await this.#use(transport, dpop);
        await this.client.login({ login: email, password });
        remember(TRANSPORT_KEY, transport);
        remember(DPOP_KEY, dpop ? '1' : '0');
        $input('password').value = '';
      } catch (error) {
        this.#showLoginError(
          error instanceof SessionClientError && error.code === 'invalid_credentials'
            ? 'Wrong e-mail address or password.'
            : `Sign-in failed: ${(error as Error).message}`,
        );
      } finally {
        button.disabled = false;
        button.textContent = 'Sign in';
      }
    });
    for (const button of document.querySelectorAll<HTMLButtonElement>('.demo-accounts button[data-email]')) {
      button.addEventListener('click', () => {
        $input('email').value = button.dataset.email ?? '';
        $input('password').value = button.dataset.password ?? '';
        $input('password').focus();
      });
    }
  }

  #showLoginError(message: string): void {
    const error = $('login-error');
    error.textContent = message;
    error.hidden = false;
    $input('password').focus();
  }

  // ---- signed in -------------------------------------------------------------------------------

  #wireSession(): void {
    $('refresh-button').addEventListener('click', () => {
      this.client.refresh().catch((error: Error) => this.log(`Refresh failed: ${error.message}`, 'error'));
    });
    $('me-button').addEventListener('click', () => void this.callMe());
    $('sessions-button').addEventListener('click', () => void this.loadSessions());
    $('logout-button').addEventListener('click', () => void this.#logout(false));
    const confirm = $('logout-all-confirm');
    const ask = $('logout-all-button');
    const showConfirm = (open: boolean) => {
      confirm.hidden = !open;
      ask.setAttribute('aria-expanded', String(open));
      (open ? $('logout-all-cancel') : ask).focus();
    };
    ask.addEventListener('click', () => showConfirm(confirm.hidden));
    $('logout-all-cancel').addEventListener('click', () => showConfirm(false));
    $('logout-all-yes').addEventListener('click', () => {
      confirm.hidden = true;
      ask.setAttribute('aria-expanded', 'false');
      void this.#logout(true);
    });
    $('sessions-table').addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-revoke]');
      if (button) void this.#revoke(button.dataset.revoke!, button);
    });
  }

  async callMe(): Promise<void> {
    const status = $('me-status');
    const output = $('me-output');
    status.textContent = 'Calling /api/me…';
    status.classList.remove('error');
    try {
      const response = await this.client.fetch('/api/me', { headers: { accept: 'application/json' } });
      const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
      if (!response.ok) {
        throw new SessionClientError(
          typeof body?.code === 'string' ? body.code : `http_${response.status}`,
          typeof body?.error === 'string' ? body.error : response.statusText,
          response.status,
        );
      }
      const bound = this.client.state.status === 'signed-in' && this.client.state.jkt !== null;
      $('me-sent').textContent =
        (this.transport === 'header'
          ? `Sent with Authorization: ${bound ? 'DPoP' : 'Bearer'} … (the token lives only in this page’s memory)`
          : 'Sent with the jwt_access cookie (HttpOnly: this page’s JavaScript cannot read it)') +
        (bound ? ', and a fresh DPoP proof signed by this browser’s key' : '');
      status.textContent = `200 OK at ${clockTime(Date.now())}: the access token's verified claims`;
      output.textContent = JSON.stringify(body, null, 2);
      output.hidden = false;
      if (typeof body?.email === 'string') {
        $('who').textContent = typeof body.name === 'string' ? `${body.name} <${body.email}>` : body.email;
      }
    } catch (error) {
      const e = error as Partial<SessionClientError>;
      status.classList.add('error');
      status.textContent = `${e.status || 'Error'} ${e.code ?? ''}: ${e.message}`;
      output.hidden = true;
    }
  }

  async loadSessions(): Promise<void> {
    if (this.client.state.status !== 'signed-in') return;
    try {
      this.#renderSessions(await this.client.listSessions());
    } catch (error) {
      if (this.client.state.status === 'signed-in')
        this.log(`Could not load the sessions: ${(error as Error).message}`, 'error');
    }
  }

  async #revoke(id: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await this.client.revokeSession(id);
      if (this.client.state.status === 'signed-in') {
        this.log(`Revoked session ${id.slice(0, 8)}…`);
        await this.loadSessions();
      }
    } catch (error) {
      this.log(`Revoke failed: ${(error as Error).message}`, 'error');
      button.disabled = false;
    }
  }

  async #logout(everywhere: boolean): Promise<void> {
    try {
      if (everywhere) {
        const revoked = await this.client.logoutAll();
        this.#farewell = `You signed out everywhere: ${revoked} session${revoked === 1 ? '' : 's'} ended.`;
        this.#render(this.client.state);
        this.log(`Signed out everywhere (${revoked} sessions ended)`);
      } else {
        await this.client.logout();
      }
    } catch (error) {
      this.log(`Sign-out failed: ${(error as Error).message}`, 'error');
    }
  }

  #onEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'refresh': {
        const state = this.client.state;
        const until = state.status === 'signed-in' ? clockTime(state.accessExpiresAt) : '?';
        this.log(
          event.shared
            ? `Tokens refreshed by another tab: using them (valid until ${until})`
            : `Refreshed the tokens; new access token valid until ${until}`,
        );
        break;
      }
      case 'renewed':
        this.log('Sliding expiration: picked up a renewed access token');
        break;
      case 'signed-in':
        this.log(
          event.by === 'login'
            ? `Signed in (${this.transport} mode)`
            : event.by === 'resume'
              ? 'Resumed the cookie-mode session of this browser'
              : 'Joined the session of another open tab',
        );
        break;
      case 'signed-out':
        this.log(`Session ended: ${event.reason}`, event.reason === 'logout' ? 'info' : 'warn');
        break;
      case 'offline':
        this.log(
          `Cannot reach the server (${event.error}): retrying in ${Math.round(event.retryIn / 1000)} s`,
          'error',
        );
        break;
    }
  }

  // ---- rendering -------------------------------------------------------------------------------

  #render(state: SessionState): void {
    const loginView = $('login-view');
    const sessionView = $('session-view');
    const status = $('status');
    if (state.status === 'loading') return;
    if (state.status === 'signed-out') {
      clearInterval(this.#tickTimer);
      clearInterval(this.#pollTimer);
      this.#tickTimer = this.#pollTimer = undefined;
      const wasSignedIn = !sessionView.hidden;
      loginView.hidden = false;
      sessionView.hidden = true;
      status.textContent = 'Signed out';
      status.className = 'status';
      this.#shownSession = '';
      document.title = 'jwt-sessions demo';
      $('me-output').hidden = true;
      $('me-status').textContent = 'Not called yet.';
      $('me-status').classList.remove('error');
      $('me-sent').textContent = '';
      $('sessions-table').querySelector('tbody')!.replaceChildren();
      const ended = $('ended');
      ended.hidden = state.reason === 'no_session';
      ended.className = state.reason === 'logout' ? 'ended info' : 'ended';
      ended.textContent =
        state.reason === 'logout' && this.#farewell !== ''
          ? this.#farewell
          : `${endedMessage(state.reason)}${state.reason === 'logout' ? '' : ` (${state.reason})`}`;
      this.#farewell = '';
      this.#checkRadio(this.transport);
      if (wasSignedIn) $('login-title').focus();
      return;
    }
    const newSession = state.sessionId !== this.#shownSession;
    this.#shownSession = state.sessionId;
    $('ended').hidden = true;
    loginView.hidden = true;
    sessionView.hidden = false;
    status.className = `status ${state.status}`;
    status.textContent =
      state.status === 'offline'
        ? `Offline · retrying at ${clockTime(state.retryAt)}`
        : `Signed in · ${this.transport} mode`;
    $('mode-badge').textContent =
      this.transport === 'header' ? 'Authorization header' : 'HttpOnly cookies + CSRF';
    $('session-id').textContent = state.sessionId;
    $('session-jkt').textContent = state.jkt ?? 'not bound (a stolen token works anywhere until it expires)';
    void this.client.dpopThumbprint().then(
      (thumbprint) => {
        $('page-jkt').textContent = thumbprint ?? 'none (not requested at sign-in)';
      },
      () => {
        $('page-jkt').textContent = 'unavailable (no WebCrypto here)';
      },
    );
    $('access-at').textContent = `until ${clockTime(state.accessExpiresAt)}`;
    $('refresh-at').textContent = dateTime(state.refreshExpiresAt);
    const email = state.claims?.email;
    if (newSession && typeof email === 'string') $('who').textContent = email;
    if (this.#sinceFor !== state.accessExpiresAt) {
      this.#since = Date.now();
      this.#sinceFor = state.accessExpiresAt;
    }
    this.#tick();
    this.#tickTimer ??= setInterval(() => this.#tick(), 250);
    this.#pollTimer ??= setInterval(() => void this.loadSessions(), SESSIONS_POLL_MS);
    if (newSession) {
      $('session-title').focus();
      void this.callMe();
      void this.loadSessions();
    }
  }

  #tick(): void {
    const state = this.client.state;
    if (state.status !== 'signed-in' && state.status !== 'offline') return;
    const now = Date.now();
    const left = state.accessExpiresAt - now;
    const life = Math.max(1, state.accessExpiresAt - this.#since);
    const clock = $('countdown');
    clock.textContent = left > 0 ? countdown(left) : 'expired';
    clock.className = `clock${left <= 0 ? ' expired' : left < Math.min(30_000, life / 2) ? ' low' : ''}`;
    const percent = Math.max(0, Math.min(100, Math.round((left / life) * 100)));
    const bar = $('countdown-bar');
    bar.setAttribute('aria-valuenow', String(percent));
    // Screen readers get words, updated at most every 15 s rather than every tick.
    if (now - this.#lastSpoken > 15_000 || left <= 0) {
      bar.setAttribute('aria-valuetext', left > 0 ? `${spokenDuration(left)} left` : 'expired');
      this.#lastSpoken = now;
    }
    (bar.firstElementChild as HTMLElement).style.width = `${percent}%`;
    document.title = left > 0 ? `${countdown(left)} · jwt-sessions demo` : 'expired · jwt-sessions demo';
  }

  #renderSessions(rows: SessionRow[]): void {
    const body = $('sessions-table').querySelector('tbody')!;
    const now = Date.now();
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = row.id;
      if (row.current) tr.className = 'current';
      const device = document.createElement('td');
      device.textContent = deviceName(row.user_agent);
      device.title = row.user_agent ?? '';
      if (row.current) {
        const here = document.createElement('span');
        here.className = 'badge here';
        here.textContent = 'this device';
        device.append(here);
      }
      const cells = [
        row.ip ?? '—',
        relativeTime(Date.parse(row.created_at), now),
        relativeTime(Date.parse(row.last_used_at), now),
        relativeTime(Date.parse(row.expires_at), now),
      ].map((text) => {
        const td = document.createElement('td');
        td.textContent = text;
        return td;
      });
      const actions = document.createElement('td');
      actions.className = 'actions';
      const revoke = document.createElement('button');
      revoke.type = 'button';
      revoke.className = 'small-button danger';
      revoke.dataset.revoke = row.id;
      revoke.textContent = row.current ? 'Sign out' : 'Revoke';
      revoke.setAttribute(
        'aria-label',
        `${row.current ? 'Sign out this device' : 'Revoke'}: ${deviceName(row.user_agent)}, signed in ${relativeTime(Date.parse(row.created_at), now)}`,
      );
      actions.append(revoke);
      tr.append(device, ...cells, actions);
      fragment.append(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 6;
      td.textContent = 'No live sessions.';
      tr.append(td);
      fragment.append(tr);
    }
    body.replaceChildren(fragment);
  }

  log(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    const list = $('log');
    const item = document.createElement('li');
    if (level !== 'info') item.className = level;
    const time = document.createElement('time');
    time.dateTime = new Date().toISOString();
    time.textContent = clockTime(Date.now());
    item.append(time, document.createTextNode(message));
    list.prepend(item);
    while (list.children.length > 50) list.lastElementChild?.remove();
  }
}

const app = new App();
// For the browser tests and the curious: `window.demo.client.state`.
(window as unknown as { demo: App }).demo = app;
void app.start();

/**
 * The demo SPA: sign in (header or cookie transport), a live access-token countdown with automatic
 * refresh (single-flight across tabs, see auth.ts), a protected call, the signed-in devices with
 * revoke buttons, sign out and sign out everywhere. Plain DOM, no framework.
 */
import { ApiError, type AuthState, type Mode, me, revokeSession, type SessionRow, sessions } from './api.js';
import { Auth } from './auth.js';
import { clockTime, countdown, dateTime, deviceName, relativeTime, spokenDuration } from './format.js';

function $(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} missing from index.html`);
  return element;
}

function $input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

/** Time before expiry at which the access token is refreshed: a fifth of its life, 1–30 s. */
function refreshLead(state: AuthState): number {
  const life = state.accessExpiresAt - state.receivedAt;
  return Math.min(30_000, Math.max(1000, life * 0.2));
}

const SESSIONS_POLL_MS = 5000;

class App {
  readonly auth = new Auth();
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #who = '';
  #lastSpoken = 0;

  async start(): Promise<void> {
    this.#wireLogin();
    this.#wireSession();
    this.auth.on((event) => {
      if (event.type === 'log') this.log(event.message, event.level);
      else this.#render(event.state, event.cause);
    });
    $('tab-id').textContent = this.auth.tabId;
    $('locks').textContent = this.auth.crossTabLocks
      ? '(Web Locks: single-flight refresh across tabs)'
      : '(no Web Locks in this browser)';
    await this.auth.restore();
    if (this.auth.state === null) this.#render(null, 'restore');
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.auth.state !== null) void this.loadSessions();
    });
  }

  // ---- sign in ---------------------------------------------------------------------------------

  #wireLogin(): void {
    const form = $('login-form') as HTMLFormElement;
    const error = $('login-error');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const email = $input('email').value.trim();
      const password = $input('password').value;
      const mode = (new FormData(form).get('transport') as Mode | null) ?? 'header';
      error.hidden = true;
      if (email === '' || password === '') {
        this.#showLoginError('Enter an e-mail address and a password.');
        return;
      }
      const button = $('login-button') as HTMLButtonElement;
      button.disabled = true;
      button.textContent = 'Signing in…';
      try {
        await this.auth.login(email, password, mode);
        $input('password').value = '';
      } catch (err) {
        this.#showLoginError(
          err instanceof ApiError && err.code === 'invalid_credentials'
            ? 'Wrong e-mail address or password.'
            : `Sign-in failed: ${(err as Error).message}`,
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
      void this.auth.refresh('button');
    });
    $('me-button').addEventListener('click', () => void this.callMe());
    $('sessions-button').addEventListener('click', () => void this.loadSessions());
    $('logout-button').addEventListener('click', () => void this.#logout(false));
    $('logout-all-button').addEventListener('click', () => void this.#logout(true));
    $input('auto-refresh').addEventListener('change', () => {
      this.log(
        $input('auto-refresh').checked
          ? 'Automatic refresh on'
          : 'Automatic refresh off: watch the token expire',
      );
      this.#schedule();
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
    try {
      let sent = '';
      const claims = await this.auth.authed((state) => {
        sent =
          state.mode === 'header'
            ? `Sent with Authorization: Bearer ${state.accessToken?.slice(0, 24) ?? ''}… (the token lives in this tab's memory)`
            : "Sent with the jwt_access cookie (HttpOnly: this page's JavaScript cannot read it)";
        return me(state);
      });
      $('me-sent').textContent = sent;
      status.textContent = `200 OK at ${clockTime(Date.now())}: the access token's verified claims`;
      output.textContent = JSON.stringify(claims, null, 2);
      output.hidden = false;
      if (typeof claims.email === 'string') this.#setWho(claims.email, claims.name);
    } catch (error) {
      const e = error as ApiError;
      status.textContent = `${e.status || 'Error'} ${e.code ?? ''}: ${e.message}`;
      output.hidden = true;
    }
  }

  async loadSessions(): Promise<void> {
    if (this.auth.state === null) return;
    try {
      const { sessions: rows } = await this.auth.authed((state) => sessions(state));
      this.#renderSessions(rows);
    } catch (error) {
      if (this.auth.state !== null)
        this.log(`Could not load the sessions: ${(error as Error).message}`, 'error');
    }
  }

  async #revoke(id: string, button: HTMLButtonElement): Promise<void> {
    const current = id === this.auth.state?.sessionId;
    button.disabled = true;
    try {
      await this.auth.authed((state) => revokeSession(state, id));
      if (current) {
        this.auth.end('this session was revoked', false);
      } else {
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
      await this.auth.logout(everywhere);
    } catch (error) {
      // The session is gone either way for this tab.
      this.auth.end(`sign-out failed: ${(error as Error).message}`);
    }
  }

  // ---- rendering -------------------------------------------------------------------------------

  #render(state: AuthState | null, cause: string): void {
    const loginView = $('login-view');
    const sessionView = $('session-view');
    const status = $('status');
    clearTimeout(this.#refreshTimer);
    clearInterval(this.#tickTimer);
    clearInterval(this.#pollTimer);
    if (state === null) {
      const wasSignedIn = !sessionView.hidden;
      loginView.hidden = false;
      sessionView.hidden = true;
      status.textContent = 'Signed out';
      status.className = 'status';
      this.#who = '';
      $('me-output').hidden = true;
      $('me-status').textContent = 'Not called yet.';
      $('me-sent').textContent = '';
      if (wasSignedIn) $('login-title').focus();
      return;
    }
    const wasSignedOut = sessionView.hidden;
    loginView.hidden = true;
    sessionView.hidden = false;
    status.className = 'status signed-in';
    status.textContent = `Signed in · ${state.mode} mode`;
    $('mode-badge').textContent =
      state.mode === 'header' ? 'Authorization header' : 'HttpOnly cookies + CSRF';
    $('session-id').textContent = state.sessionId;
    $('access-at').textContent = `until ${clockTime(state.accessExpiresAt)}`;
    $('refresh-at').textContent = dateTime(state.refreshExpiresAt);
    this.#tick();
    this.#tickTimer = setInterval(() => this.#tick(), 250);
    this.#pollTimer = setInterval(() => {
      // With automatic refresh off, let the token expire visibly instead of refreshing it here.
      const current = this.auth.state;
      if (current !== null && ($input('auto-refresh').checked || current.accessExpiresAt > Date.now())) {
        void this.loadSessions();
      }
    }, SESSIONS_POLL_MS);
    this.#schedule();
    if (wasSignedOut || cause === 'login') {
      if (cause === 'login') $('session-title').focus();
      void this.callMe();
    }
    void this.loadSessions();
  }

  #setWho(email: string, name: unknown): void {
    this.#who = typeof name === 'string' ? `${name} <${email}>` : email;
    $('who').textContent = this.#who;
  }

  #schedule(): void {
    clearTimeout(this.#refreshTimer);
    const state = this.auth.state;
    if (state === null || !$input('auto-refresh').checked) return;
    const due = state.accessExpiresAt - refreshLead(state) - Date.now();
    this.#refreshTimer = setTimeout(
      () => {
        void this.auth.refresh('automatic, before expiry');
      },
      Math.max(0, due),
    );
  }

  #tick(): void {
    const state = this.auth.state;
    if (state === null) return;
    const now = Date.now();
    const left = state.accessExpiresAt - now;
    const life = Math.max(1, state.accessExpiresAt - state.receivedAt);
    const clock = $('countdown');
    clock.textContent = left > 0 ? countdown(left) : 'expired';
    clock.className = `clock${left <= 0 ? ' expired' : left < refreshLead(state) ? ' low' : ''}`;
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
// For the browser tests and the curious: `window.demo.auth.state`.
(window as unknown as { demo: App }).demo = app;
void app.start();

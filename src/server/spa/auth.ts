/**
 * The SPA's session state, shared by every tab of the browser, and the single-flight refresh.
 *
 * Design (and its trade-offs, see docs/server.md):
 * - Header mode keeps the tokens in memory only — never in localStorage/sessionStorage, where any
 *   script (or a later XSS) could read them at rest. Tabs share them over a BroadcastChannel: a new
 *   tab asks the open ones ("hello") and adopts their pair. Closing the last tab ends the session
 *   on this device (the refresh token is gone with the memory); that is the price of not storing it.
 * - Cookie mode has nothing secret to keep: the tokens are HttpOnly cookies the browser shares
 *   between tabs. The CSRF token and the expiry times are kept in localStorage so that a reload
 *   resumes the session; the CSRF token alone cannot authenticate anything.
 * - Refresh is single-flight: within a tab one promise, across tabs a Web Lock
 *   (`navigator.locks.request`). The tab that gets the lock refreshes and broadcasts the new
 *   generation; a tab that waited finds its generation replaced and refreshes nothing. If a message
 *   is slower than the lock, the server's reuse grace window answers the late tab with the same
 *   generation instead of treating it as a replay, so tabs are never logged out by each other.
 */

import type { AuthState, Mode } from './api.js';
import * as api from './api.js';
import { clockTime } from './format.js';

const CHANNEL = 'jwt-sessions-demo';
const LOCK = 'jwt-sessions-demo-refresh';
const STORAGE_KEY = 'jwt-sessions-demo:cookie-session';
const LOCK_HOLD_MS = 100;

type Message =
  | { type: 'hello'; from: string }
  | { type: 'state'; from: string; state: AuthState }
  | { type: 'logout'; from: string; reason: string };

export type AuthEvent =
  | { type: 'changed'; state: AuthState | null; cause: 'login' | 'refresh' | 'remote' | 'restore' | 'logout' }
  | { type: 'log'; message: string; level?: 'info' | 'warn' | 'error' };

type Listener = (event: AuthEvent) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isState(value: unknown): value is AuthState {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<AuthState>;
  return (
    (s.mode === 'header' || s.mode === 'cookie') &&
    typeof s.sessionId === 'string' &&
    typeof s.csrf === 'string' &&
    typeof s.accessExpiresAt === 'number' &&
    typeof s.refreshExpiresAt === 'number' &&
    typeof s.stamp === 'string'
  );
}

export class Auth {
  readonly tabId = api.randomStamp().slice(0, 4);
  #state: AuthState | null = null;
  #listeners = new Set<Listener>();
  #channel: BroadcastChannel | null = null;
  #inflight: Promise<boolean> | null = null;
  /** Refreshes this tab actually sent (the others were shared by another tab or coalesced). */
  refreshesSent = 0;

  constructor() {
    if (typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(CHANNEL);
      this.#channel.onmessage = (event: MessageEvent) => this.#onMessage(event.data as Message);
    }
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY) return;
      // Another tab wrote the cookie-mode state: adopt it (covers browsers without BroadcastChannel).
      const stored = this.#readStorage();
      if (stored && stored.stamp !== this.#state?.stamp) this.#adopt(stored, 'remote');
    });
  }

  get state(): AuthState | null {
    return this.#state;
  }

  get crossTabLocks(): boolean {
    return typeof navigator !== 'undefined' && 'locks' in navigator && navigator.locks !== undefined;
  }

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: AuthEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #log(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    this.#emit({ type: 'log', message, level });
  }

  #post(message: Message): void {
    this.#channel?.postMessage(message);
  }

  /** Restores a session on load: cookie mode from localStorage, header mode from an open tab. */
  async restore(): Promise<void> {
    const stored = this.#readStorage();
    if (stored !== null && stored.refreshExpiresAt > Date.now()) {
      this.#set(stored, 'restore');
      this.#log('Resumed the cookie-mode session of this browser');
      return;
    }
    if (this.#channel === null) return;
    this.#post({ type: 'hello', from: this.tabId });
    // Give open tabs a moment to answer with their header-mode pair.
    for (let i = 0; i < 6 && this.#state === null; i++) await sleep(50);
    if (this.#state !== null) this.#log('Joined the session of another open tab');
  }

  async login(email: string, password: string, mode: Mode): Promise<void> {
    const body = await api.login(email, password, mode);
    const state = api.stateFrom(body, mode, this.tabId);
    this.#set(state, 'login');
    this.#share(state);
    this.#log(`Signed in (${mode} mode); session ${state.sessionId.slice(0, 8)}…`);
  }

  /**
   * Refreshes the session once for every caller in this tab, and once for all tabs: resolves true
   * when this tab holds a fresh generation afterwards (its own or one another tab obtained).
   */
  refresh(reason: string): Promise<boolean> {
    if (this.#inflight !== null) return this.#inflight;
    const before = this.#state?.stamp;
    const run = async (): Promise<boolean> => {
      this.#syncFromStorage();
      const current = this.#state;
      if (current === null) return false;
      if (current.stamp !== before) {
        this.#log('Refresh not needed: another tab already refreshed');
        return true;
      }
      try {
        this.refreshesSent++;
        const body = await api.refresh(current);
        const next = api.stateFrom(body, current.mode, this.tabId);
        this.#set(next, 'refresh');
        this.#share(next);
        this.#log(
          `Refreshed the tokens (${reason}); new access token valid until ${clockTime(next.accessExpiresAt)}`,
        );
        // Hold the lock a moment so the broadcast reaches the waiting tabs before they look.
        if (this.crossTabLocks) await sleep(LOCK_HOLD_MS);
        return true;
      } catch (error) {
        return this.#afterFailedRefresh(error, before);
      }
    };
    const locked = this.crossTabLocks ? navigator.locks.request(LOCK, run) : run();
    this.#inflight = (locked as Promise<boolean>).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #afterFailedRefresh(error: unknown, before: string | undefined): Promise<boolean> {
    if (error instanceof api.ApiError && error.code === 'csrf_invalid' && this.#state?.mode === 'cookie') {
      // The CSRF token rotated in another tab and its message is still on the way: wait for it.
      for (let i = 0; i < 10; i++) {
        await sleep(50);
        this.#syncFromStorage();
        if (this.#state !== null && this.#state.stamp !== before) return true;
      }
    }
    if (error instanceof api.ApiError && (error.status === 401 || error.status === 403)) {
      this.end(`the server refused the refresh: ${error.message} (${error.code})`);
      return false;
    }
    this.#log(`Refresh failed: ${(error as Error).message}`, 'error');
    return false;
  }

  /**
   * Calls a protected route with this tab's credentials. On a 401 it refreshes (single-flight)
   * and tries once more; a session that cannot be refreshed ends.
   */
  async authed<T>(request: (state: AuthState) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const state = this.#state;
      if (state === null) throw new api.ApiError(401, 'signed_out', 'not signed in');
      try {
        return await request(state);
      } catch (error) {
        if (!(error instanceof api.ApiError) || attempt > 0) throw error;
        if (this.#state !== null && this.#state.stamp !== state.stamp) continue; // new tokens arrived meanwhile
        if (error.status === 401) {
          if (await this.refresh(`the server said ${error.code}`)) continue;
          throw error;
        }
        if (error.status === 403 && error.code === 'csrf_invalid' && state.mode === 'cookie') {
          await sleep(100);
          this.#syncFromStorage();
          if (this.#state !== null && this.#state.stamp !== state.stamp) continue;
        }
        throw error;
      }
    }
  }

  async logout(everywhere: boolean): Promise<number> {
    const revoked = await this.authed((state) => api.logout(state, everywhere)).then((r) => r.revoked);
    this.end(everywhere ? `signed out everywhere (${revoked} sessions ended)` : 'signed out', false);
    return revoked;
  }

  /** Drops the session in this tab and every other tab. */
  end(reason: string, warn = true): void {
    if (this.#state === null) return;
    this.#clear(reason, warn);
    this.#post({ type: 'logout', from: this.tabId, reason });
  }

  #clear(reason: string, warn: boolean): void {
    const wasCookie = this.#state?.mode === 'cookie';
    this.#state = null;
    if (wasCookie) this.#writeStorage(null);
    this.#emit({ type: 'changed', state: null, cause: 'logout' });
    this.#log(`Session ended: ${reason}`, warn ? 'warn' : 'info');
  }

  #set(state: AuthState, cause: 'login' | 'refresh' | 'remote' | 'restore'): void {
    this.#state = state;
    this.#emit({ type: 'changed', state, cause });
  }

  #adopt(state: AuthState, cause: 'remote'): void {
    const previous = this.#state;
    this.#set(state, cause);
    if (previous === null) this.#log(`Signed in by tab ${state.origin}`);
    else if (previous.sessionId === state.sessionId)
      this.#log(`Tokens refreshed by tab ${state.origin}: sharing them`);
    else this.#log(`Tab ${state.origin} switched to session ${state.sessionId.slice(0, 8)}…`);
  }

  /** Tells the other tabs about a new generation (and keeps cookie-mode state for reloads). */
  #share(state: AuthState): void {
    if (state.mode === 'cookie') this.#writeStorage(state);
    else this.#writeStorage(null);
    this.#post({ type: 'state', from: this.tabId, state });
  }

  #onMessage(message: Message): void {
    if (typeof message !== 'object' || message === null || message.from === this.tabId) return;
    if (message.type === 'hello') {
      if (this.#state !== null) this.#post({ type: 'state', from: this.tabId, state: this.#state });
    } else if (message.type === 'state' && isState(message.state)) {
      const incoming = message.state;
      if (incoming.stamp === this.#state?.stamp) return;
      // Keep the newest generation when answers cross.
      if (
        this.#state !== null &&
        this.#state.sessionId === incoming.sessionId &&
        incoming.receivedAt < this.#state.receivedAt
      ) {
        return;
      }
      this.#adopt(incoming, 'remote');
    } else if (message.type === 'logout') {
      if (this.#state !== null) this.#clear(`${message.reason} (in tab ${message.from})`, false);
    }
  }

  #syncFromStorage(): void {
    if (this.#state?.mode !== 'cookie') return;
    const stored = this.#readStorage();
    if (
      stored !== null &&
      stored.stamp !== this.#state.stamp &&
      stored.receivedAt >= this.#state.receivedAt
    ) {
      this.#adopt(stored, 'remote');
    }
  }

  #readStorage(): AuthState | null {
    try {
      const raw = localStorage.getItem(STORAGE_KEY);
      if (raw === null) return null;
      const parsed: unknown = JSON.parse(raw);
      return isState(parsed) && parsed.mode === 'cookie' ? parsed : null;
    } catch {
      return null;
    }
  }

  #writeStorage(state: AuthState | null): void {
    try {
      if (state === null) localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch {
      // Storage may be disabled: the session then lasts as long as the tab.
    }
  }
}

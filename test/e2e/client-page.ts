/**
 * The page script of the browser client's race tests (bundled by esbuild, served by the test
 * proxy as /client.js): one session client per tab, its state history and events recorded, and
 * `t.call(method, path)` through `client.fetch` or, with `?via=axios`, an axios instance with
 * the interceptors. Query: `transport=header|cookie`, `via=fetch|axios`, `auto=0` (no proactive refresh).
 */
import axios from 'axios';
import { attachSessionClient } from '../../src/client/axios.js';
import { createSessionClient, type SessionEvent, type SessionState } from '../../src/client/index.js';

const params = new URLSearchParams(location.search);
const states: SessionState[] = [];
const events: SessionEvent[] = [];
const client = createSessionClient({
  baseUrl: '/auth',
  transport: params.get('transport') === 'cookie' ? 'cookie' : 'header',
  autoRefresh: params.get('auto') !== '0',
  onEvent: (event) => events.push(event),
});
client.subscribe((state) => states.push(state));
const api = axios.create();
attachSessionClient(api, client);
const viaAxios = params.get('via') === 'axios';

/** The response status, or 0 when the request failed (network). */
async function call(method = 'GET', path = '/api/me'): Promise<number> {
  try {
    if (viaAxios) return (await api.request({ method, url: path, validateStatus: () => true })).status;
    return (await client.fetch(path, { method })).status;
  } catch {
    return 0;
  }
}

(window as unknown as { t: unknown }).t = { client, states, events, call };

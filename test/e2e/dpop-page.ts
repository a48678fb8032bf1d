/**
 * The page script of the DPoP browser tests (bundled by esbuild, served by the test proxy as
 * /client.js): one `dpop: true` session client per tab, `t.call(method, path)` through
 * `client.fetch`, and `t.storedKeys()`: what IndexedDB holds (how many key pairs, and whether
 * the private key can be exported); `t.raceKeys(name, n)`: n loads of a new key at once. Query: `transport=header|cookie`.
 */
import { dpopKey } from '../../src/client/dpop.js';
import { createSessionClient } from '../../src/client/index.js';

const params = new URLSearchParams(location.search);
const client = createSessionClient({
  baseUrl: '/auth',
  transport: params.get('transport') === 'cookie' ? 'cookie' : 'header',
  autoRefresh: false,
  dpop: true,
});

/** The response status, or 0 when the request failed (network). */
async function call(method = 'GET', path = '/api/me'): Promise<number> {
  try {
    return (await client.fetch(path, { method })).status;
  } catch {
    return 0;
  }
}

/** The key pairs in the client's IndexedDB store, and the outcome of exporting each private key. */
async function storedKeys(): Promise<Array<{ extractable: boolean; usages: string[]; exported: string }>> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open('jwt-sessions-dpop');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const pairs = await new Promise<CryptoKeyPair[]>((resolve, reject) => {
    const all = db.transaction('keys').objectStore('keys').getAll();
    all.onsuccess = () => resolve(all.result);
    all.onerror = () => reject(all.error);
  });
  db.close();
  return Promise.all(
    pairs.map(async ({ privateKey }) => ({
      extractable: privateKey.extractable,
      usages: [...privateKey.usages],
      exported: await crypto.subtle.exportKey('jwk', privateKey).then(
        () => 'exported',
        (error: Error) => `refused: ${error.name}`,
      ),
    })),
  );
}

/** Thumbprints of `count` loads at once of the key `name` (none stored yet): one key must win. */
const raceKeys = (name: string, count: number) =>
  Promise.all(Array.from({ length: count }, async () => (await dpopKey(name)).thumbprint));

(window as unknown as { t: unknown }).t = { client, call, storedKeys, raceKeys };

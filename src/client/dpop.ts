/**
 * The browser client's DPoP key and proofs (RFC 9449; SPEC §9). WebCrypto only, no dependencies.
 *
 * The key: ECDSA P-256 (ES256), generated with `extractable: false`, so no script — not even one
 * injected into the page — can read the private key; it can only ask the browser to sign with it.
 * It lives in IndexedDB (CryptoKey objects are structured-cloneable), one per origin and name, and
 * every tab uses the same one. Creation is race-free: a tab that finds no key generates one and
 * `add`s it (IndexedDB refuses a second `add` of a name), then reads back whichever key won.
 * Without IndexedDB (Node, some private modes) the key lives in memory, shared by the clients of
 * this page only: a reload gets a new key, so a bound session cannot be resumed or refreshed after
 * one, and other tabs cannot use this tab's bound tokens.
 */

export interface DpopKey {
  /** RFC 7638 thumbprint of the public key: the `jkt` a session bound to this key carries. */
  readonly thumbprint: string;
  /** A fresh proof (new `jti`, current `iat`) for one request. */
  proof(method: string, url: string, accessToken?: string, nonce?: string): Promise<string>;
}

const DB = 'jwt-sessions-dpop';
const STORE = 'keys';
const memory = new Map<string, Promise<CryptoKeyPair>>();

const bytes = (text: string) => new TextEncoder().encode(text);

function base64url(data: ArrayBuffer | Uint8Array): string {
  let binary = '';
  for (const byte of new Uint8Array(data)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const sha256 = async (text: string) => base64url(await crypto.subtle.digest('SHA-256', bytes(text)));

/** Resolves the request's result (IndexedDB's callbacks as a promise). */
const settled = <T>(request: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

const generate = () =>
  crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
  ]) as Promise<CryptoKeyPair>;

/** The key pair stored under `name`, created by whichever tab gets there first. */
async function storedPair(name: string): Promise<CryptoKeyPair> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await settled(open);
  try {
    const read = () => settled<CryptoKeyPair | undefined>(db.transaction(STORE).objectStore(STORE).get(name));
    const found = await read();
    if (found) return found;
    // Generated outside the transaction (a transaction cannot wait for WebCrypto), then added only
    // if still absent: the loser of a race between tabs reads the winner's key.
    const pair = await generate();
    await settled(db.transaction(STORE, 'readwrite').objectStore(STORE).add(pair, name)).catch(() => {});
    const stored = await read();
    if (!stored) throw new Error('the DPoP key could not be stored');
    return stored;
  } finally {
    db.close();
  }
}

/** The key named `name` (one per origin and name), from IndexedDB, else kept in this page's memory. */
export async function dpopKey(name: string): Promise<DpopKey> {
  let pair: CryptoKeyPair;
  try {
    if (typeof indexedDB === 'undefined') throw new Error('no IndexedDB');
    pair = await storedPair(name);
  } catch {
    if (!memory.has(name)) memory.set(name, generate());
    pair = await (memory.get(name) as Promise<CryptoKeyPair>);
  }
  // A public key is always exportable; only its public members go into the proof.
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const jwk = { crv, kty, x, y };
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const thumbprint = await sha256(JSON.stringify(jwk));
  const header = base64url(bytes(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })));
  return {
    thumbprint,
    async proof(method, url, accessToken, nonce) {
      const target = new URL(url, globalThis.location?.href);
      const claims = {
        jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
        // The method as fetch sends it: it upper-cases these six only (a 'patch' goes out as is).
        htm: /^(delete|get|head|options|post|put)$/i.test(method) ? method.toUpperCase() : method,
        htu: target.origin + target.pathname,
        iat: Math.floor(Date.now() / 1000),
        ...(accessToken && { ath: await sha256(accessToken) }),
        ...(nonce && { nonce }),
      };
      const input = `${header}.${base64url(bytes(JSON.stringify(claims)))}`;
      // WebCrypto's ECDSA signature is r || s, which is exactly the JWS ES256 form.
      const signature = await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        pair.privateKey,
        bytes(input),
      );
      return `${input}.${base64url(signature)}`;
    },
  };
}

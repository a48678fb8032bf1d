/**
 * The demo accounts. Passwords are kept only as scrypt hashes (node:crypto) and compared in
 * constant time; an unknown login costs the same scrypt work as a known one, so response times do
 * not tell which e-mail addresses exist.
 *
 * Hash format: `scrypt$N$r$p$<salt base64url>$<hash base64url>`.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface Account {
  /** Stable user id; also the session namespace (`user:<id>`). */
  id: string;
  email: string;
  name: string;
  passwordHash: string;
}

export const DEMO_ACCOUNTS: readonly Account[] = Object.freeze([
  {
    id: 'u_demo',
    email: 'demo@example.com',
    name: 'Demo User',
    // "correct horse battery staple"
    passwordHash: 'scrypt$16384$8$1$bpzYKjxDCr5-acMlVIEkhA$6izhILKC_DgHwLbR2fvdf9TUbnWmFarDmWhwsJsWfu8',
  },
  {
    id: 'u_alice',
    email: 'alice@example.com',
    name: 'Alice',
    // "alice-password"
    passwordHash: 'scrypt$16384$8$1$FYFv55ajEHqVJz7UbSw-_A$8loSedCsbVnjtNK7kkLXfaKHpuxNwvzuVrA4t6mLmyg',
  },
]);

const KEY_LENGTH = 32;
const MAX_PASSWORD_LENGTH = 1024;
/** Compared against when the login is unknown, so both paths do the same work. */
const DUMMY_HASH = `scrypt$16384$8$1$${randomBytes(16).toString('base64url')}$${randomBytes(KEY_LENGTH).toString('base64url')}`;

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 128 * N * r * 2 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password (for adding accounts; the demo ones are precomputed). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, 16384, 8, 1);
  return `scrypt$16384$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Constant-time check of a password against a stored hash; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  const actual = await derive(password, salt, N, r, p);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export class AccountDirectory {
  readonly #byEmail: Map<string, Account>;

  constructor(accounts: readonly Account[] = DEMO_ACCOUNTS) {
    this.#byEmail = new Map(accounts.map((a) => [a.email.toLowerCase(), a]));
  }

  /** The account for these credentials, or null. Logins are e-mail addresses, case-insensitive. */
  async authenticate(login: unknown, password: unknown): Promise<Account | null> {
    if (typeof login !== 'string' || typeof password !== 'string') return null;
    if (password.length > MAX_PASSWORD_LENGTH || login.length > 320) return null;
    const account = this.#byEmail.get(login.trim().toLowerCase());
    const ok = await verifyPassword(password, account?.passwordHash ?? DUMMY_HASH);
    return ok && account !== undefined ? account : null;
  }

  byId(id: string): Account | undefined {
    for (const account of this.#byEmail.values()) if (account.id === id) return account;
    return undefined;
  }
}

/** The session namespace of a user: every session of one user shares it. */
export function namespaceOf(account: Pick<Account, 'id'>): string {
  return `user:${account.id}`;
}

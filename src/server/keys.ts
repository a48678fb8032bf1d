/**
 * The server's signing key from its configuration: JWT_SECRET (HS*), JWT_PRIVATE_KEY (PEM, other
 * algorithms), or a key generated at start — which means tokens do not survive a restart, so it
 * comes with a warning.
 */
import { ConfigurationError } from '../errors.js';
import { generateKey, KeyRing } from '../tokens/index.js';
import { type ServerConfig, ServerConfigError } from './config.js';

export interface ServerKeys {
  ring: KeyRing;
  /** Set when the key was generated at start (print it as a warning). */
  warning?: string;
}

export function serverKeys(config: Pick<ServerConfig, 'alg' | 'secret' | 'privateKey'>): ServerKeys {
  const { alg } = config;
  const hmac = alg.startsWith('HS');
  const material = hmac ? config.secret : config.privateKey;
  if (material === undefined) {
    const generated = generateKey(alg);
    const what = hmac
      ? 'JWT_SECRET is not set: using a random secret'
      : `JWT_PRIVATE_KEY is not set: using a generated ${alg} key pair`;
    return {
      ring: KeyRing.from({ signing: { alg, key: generated.privateKey } }),
      warning: `${what}; tokens will not survive a restart and other instances cannot verify them`,
    };
  }
  try {
    return { ring: KeyRing.from({ signing: { alg, key: material } }) };
  } catch (error) {
    if (error instanceof ConfigurationError) {
      const name = hmac ? 'JWT_SECRET' : 'JWT_PRIVATE_KEY';
      // "signing key: HS256 secret is 5 bytes; ..." → "JWT_SECRET: HS256 secret is 5 bytes; ..."
      throw new ServerConfigError(`${name}: ${error.message.replace(/^signing key: /, '')}`);
    }
    throw error;
  }
}

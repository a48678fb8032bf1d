/**
 * The refresh-signing secret of a key, computed independently of src/tokens/keys.ts from what the
 * README documents: HKDF-SHA-256 over the key's private material (an HMAC secret's bytes, or an
 * asymmetric private key's `d`), salt "jwt-sessions refresh-token key v1", info "rt+jwt HS256",
 * 32 bytes. Tests use it to sign refresh tokens the way the engine does.
 */
import { Buffer } from 'node:buffer';
import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

export function refreshSecretOf(key: KeyObject): KeyObject {
  const material =
    key.type === 'secret'
      ? key.export()
      : Buffer.from((key.export({ format: 'jwk' }) as { d: string }).d, 'base64url');
  return createSecretKey(
    Buffer.from(hkdfSync('sha256', material, 'jwt-sessions refresh-token key v1', 'rt+jwt HS256', 32)),
  );
}

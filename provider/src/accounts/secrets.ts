import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * High-entropy secrets (AppSecrets, device tokens, admin tokens) are stored as SHA-256 hashes.
 * A slow hash adds nothing for 256-bit random values, and the token endpoint checks one on
 * every code exchange, so it must be cheap. Passwords use scrypt instead (passwords.ts).
 */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

export function verifySecret(secret: string, stored: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for the few secrets Saoma must be able to use again (an OIDC identity
 * source's client secret: it is sent to that provider, so a hash would not do). AES-256-GCM
 * with a key derived (HKDF-SHA256) from IDENTIFIER_SECRET, which every instance already shares;
 * the label keeps this key apart from the openid/unionid derivation.
 * Stored as `v1.<iv>.<ciphertext+tag>` (base64url).
 */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createSecretBox(secret: string | null | undefined): SecretBox {
  let key: Buffer | null = null;
  const keyOf = () => {
    // The CLI on a database with no provider's keys at hand: say what is missing, only when needed.
    if (!secret)
      throw new Error(
        'IDENTIFIER_SECRET is needed to store or use an identity source client secret (set it as the provider has it, or run the command while the provider runs).',
      );
    key ??= Buffer.from(hkdfSync('sha256', secret, 'saoma', 'identity-source-client-secret/v1', 32));
    return key;
  };
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyOf(), iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed) {
      const [version, iv, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !body) throw new Error('not a sealed secret');
      const data = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', keyOf(), Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
    },
  };
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Private key material at rest (ProviderKey.material): AES-256-GCM under a key derived (HKDF)
 * from IDENTIFIER_SECRET, with the key's id as associated data (a row's material cannot be
 * moved to another row). PostgreSQL's access control is the first protection; this one means a
 * database dump or backup alone does not reveal the signing keys: IDENTIFIER_SECRET lives only
 * in the environment or DATA_DIR/keys.json. It never rotates (it derives every openid), so
 * neither does this key; a separate HKDF label keeps the two uses apart.
 */
const VERSION = 'v1';

export type KeyCipher = ReturnType<typeof keyCipher>;

export function keyCipher(identifierSecret: string) {
  const key = Buffer.from(hkdfSync('sha256', identifierSecret, 'saoma', 'provider-key-encryption/v1', 32));
  return {
    seal(id: string, plaintext: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(id));
      const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, sealed, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(id: string, sealed: string): string {
      const [version, iv, data, tag] = sealed.split('.');
      if (version !== VERSION || !iv || !data || !tag) throw new Error(`key ${id}: not a sealed key`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(id));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        // Never the material itself: only which key, and the likely cause.
        throw new Error(`key ${id} cannot be decrypted: IDENTIFIER_SECRET is not the one it was stored with`);
      }
    },
  };
}

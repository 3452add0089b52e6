import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The cookie signer oidc-provider (through koa's `cookies`) calls on every request: keygrip's
 * interface and output (HMAC-SHA1, base64url without padding), so cookies signed by either
 * verify with the other. keygrip compares through tsscmp, which HMACs both sides again with a
 * fresh random key (three HMACs and a KeyObject per check, ~20 per login); here the keys are
 * KeyObjects made once and the comparison is `timingSafeEqual`.
 */
export function cookieSigner(keys: string[]) {
  if (!keys.length) throw new Error('cookie keys must not be empty');
  const secrets: KeyObject[] = keys.map((k) => createSecretKey(Buffer.from(k)));
  const sign = (data: string, key: KeyObject) => createHmac('sha1', key).update(data).digest('base64url');
  const index = (data: string, digest: string): number => {
    const given = Buffer.from(String(digest));
    for (let i = 0; i < secrets.length; i++) {
      const expected = Buffer.from(sign(data, secrets[i]));
      // Lengths are public (every signature has the same one); only equal lengths are compared.
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  };
  return {
    sign: (data: string) => sign(data, secrets[0]),
    verify: (data: string, digest: string) => index(data, digest) > -1,
    index,
  };
}

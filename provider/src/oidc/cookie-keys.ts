import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The cookie signer oidc-provider (through koa's `cookies`) calls on every request: keygrip's
 * interface and output (HMAC-SHA1, base64url without padding), so cookies signed by either
 * verify with the other. keygrip compares through tsscmp, which HMACs both sides again with a
 * fresh random key (three HMACs and a KeyObject per check, ~20 per login); here the keys are
 * KeyObjects made once per key list and the comparison is `timingSafeEqual`. `keys` may be a
 * function: the list in force now (the first signs, all verify).
 */
export function cookieSigner(keys: string[] | (() => string[])) {
  const list = typeof keys === 'function' ? keys : () => keys;
  // Rotation (keys/keyring.ts) swaps the list: the KeyObjects are remade when it changes.
  let made: { from: string[]; secrets: KeyObject[] } | undefined;
  const current = (): KeyObject[] => {
    const from = list();
    if (made?.from !== from) {
      if (!from.length) throw new Error('cookie keys must not be empty');
      made = { from, secrets: from.map((k) => createSecretKey(Buffer.from(k))) };
    }
    return made.secrets;
  };
  current(); // an empty list fails here, at start, not on the first request
  const sign = (data: string, key: KeyObject) => createHmac('sha1', key).update(data).digest('base64url');
  const index = (data: string, digest: string): number => {
    const secrets = current();
    const given = Buffer.from(digest);
    for (let i = 0; i < secrets.length; i++) {
      const expected = Buffer.from(sign(data, secrets[i]));
      // Lengths are public (every signature has the same one); only equal lengths are compared.
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  };
  return {
    sign: (data: string) => sign(data, current()[0]),
    verify: (data: string, digest: string) => index(data, digest) > -1,
    index,
  };
}

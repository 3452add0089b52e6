/**
 * `npm run -s keys:generate > .env` (or `node dist/provider/src/ops/generate-keys.js` in the
 * image): fresh JWKS, COOKIE_KEYS and IDENTIFIER_SECRET as KEY=value lines, for instances that
 * must share them (compose's .env, `kubectl create secret generic --from-env-file`). Values are
 * unquoted on purpose: both of those read quotes literally, and the values need none (compact
 * JSON and base64url, no spaces, no `$` or `#`).
 */
import { pathToFileURL } from 'node:url';
import { generateKeyMaterial } from '../oidc/keys.js';

export async function keysEnv(): Promise<string> {
  const keys = await generateKeyMaterial();
  return [
    '# Saoma key material: the same on every instance; keep it secret. IDENTIFIER_SECRET must never change',
    '# (every openid/unionid derives from it); rotate JWKS and COOKIE_KEYS by adding a new key first.',
    `JWKS=${JSON.stringify(keys.jwks)}`,
    `COOKIE_KEYS=${keys.cookieKeys.join(',')}`,
    `IDENTIFIER_SECRET=${keys.identifierSecret}`,
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(await keysEnv());

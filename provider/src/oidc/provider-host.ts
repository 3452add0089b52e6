import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { JWK } from 'jose';

/**
 * The oidc-provider instance serving its endpoints, replaced when the signing keys change.
 * oidc-provider reads `jwks` once, in its constructor (lib/helpers/initialize_keystore.js keeps
 * the keystore in a private WeakMap), and offers no way to change it: a rotation builds a new
 * instance with the same configuration and new keys, and the next request goes to it. Requests
 * in flight finish on the old one. Everything else a provider holds is shared storage (adapter,
 * cookies through one signer), so an old and a new instance serve the same logins.
 */
export function createProviderHost(build: (jwks: { keys: JWK[] }) => Provider, jwks: { keys: JWK[] }) {
  let current = build(jwks);
  let handle = current.callback();
  return {
    /** The instance serving now. */
    get current(): Provider {
      return current;
    },
    /** For `app.use`: always the instance serving now. */
    callback: (req: IncomingMessage, res: ServerResponse) => handle(req, res),
    /** Builds an instance with these keys (with Saoma's extensions: `build`) and serves with it from now on. */
    replace(next: { keys: JWK[] }) {
      const built = build(next);
      current = built;
      handle = built.callback();
    },
  };
}

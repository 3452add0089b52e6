import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Audit } from '../accounts/audit.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { Apps, ClientAuthMethod } from '../apps/registry.js';
import type { Logger } from '../log.js';

/**
 * Each app's registered client authentication method, enforced at every endpoint that
 * authenticates clients (token, introspection, revocation, PAR).
 *
 * oidc-provider takes a secret in HTTP Basic and in the form body alike whichever of the two
 * an app registered (9.13 lib/shared/client_auth.js: `methods = ['client_secret_basic',
 * 'client_secret_post']` for both), so the check runs where the secret is compared
 * (oidc/extensions.ts, `compareClientSecret`): called for exactly those two methods, inside the
 * request (`Provider.ctx`), after oidc-provider found which one the request used (Basic when
 * there is an Authorization header).
 *
 * It runs after the secret matched, so a caller without it learns nothing about the method.
 * Apps from before enforcement are not yet pinned (NULL): the first method that authenticates
 * successfully pins them, audited as `app.auth_method_pinned`.
 *
 * Outside oidc-provider (the WeChat API's code exchange, which takes the AppSecret as a WeChat
 * parameter) there is no request context and no method to enforce.
 */
export type AuthMethodCheck = (clientId: string, ctx: KoaContextWithOIDC) => Promise<void>;

export function createAuthMethodCheck(deps: {
  clients: ClientDirectory;
  apps: Pick<Apps, 'pinAuthMethod'>;
  audit: Pick<Audit, 'record'>;
  log: Logger;
}): AuthMethodCheck {
  return async (clientId, ctx) => {
    const used: ClientAuthMethod = ctx.headers.authorization !== undefined ? 'client_secret_basic' : 'client_secret_post';
    const registered = (await deps.clients.get(clientId))?.tokenEndpointAuthMethod;
    if (registered && registered !== used) {
      throw new errors.InvalidClientAuth(`the provided authentication mechanism does not match the registered client authentication method (${registered})`);
    }
    if (!registered && (await deps.apps.pinAuthMethod(clientId, used))) {
      deps.log.info({ appId: clientId, method: used }, 'client authentication method pinned on first use');
      await deps.audit.record('app.auth_method_pinned', { appId: clientId, ip: ctx.ip, detail: { method: used } });
    }
  };
}

import type Provider from 'oidc-provider';
import { notFound } from '../errors.js';
import type { Approval, GrantIssuer } from '../login/ports.js';
import type { Payloads } from './payloads.js';

/**
 * The login core's grant port on oidc-provider's models: the only login code that touches
 * oidc-provider. `issue` writes the Grant (PostgreSQL, through adapter.ts) that the OIDC
 * interaction hands to `interactionFinished` and that the WeChat embed mints its code under.
 */
export type OidcGrants = ReturnType<typeof createGrantIssuer>;

export function createGrantIssuer(provider: Provider, payloads: Pick<Payloads, 'revokeGrant'>) {
  const grants: GrantIssuer = {
    async issue(approval: Approval) {
      const grant = new provider.Grant({ accountId: approval.accountId, clientId: approval.clientId });
      grant.addOIDCScope(approval.scopes.join(' '));
      if (approval.claims?.length) grant.addOIDCClaims(approval.claims);
      return grant.save();
    },
    revoke: (grantId) => payloads.revokeGrant(grantId),
  };

  return {
    ...grants,
    /**
     * A single-use authorization code under an issued grant, for a surface that answers the
     * browser itself rather than through oidc-provider's authorization endpoint (the WeChat
     * embedded QR): the same model, TTL and one-time redemption as any other code.
     */
    async mintCode(input: { clientId: string; grantId: string; accountId: string; redirectUri: string; scope: string }) {
      const client = await provider.Client.find(input.clientId);
      if (!client) throw notFound('The app asking to log in is no longer available.');
      const code = new provider.AuthorizationCode({
        client,
        accountId: input.accountId,
        grantId: input.grantId,
        gty: 'authorization_code',
        redirectUri: input.redirectUri,
        scope: input.scope,
        amr: ['qr'],
        authTime: Math.floor(Date.now() / 1000),
        expiresWithSession: false,
      });
      return code.save();
    },
  };
}

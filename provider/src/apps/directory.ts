import type { PrismaClient } from '../storage/generated/client.ts';
import { createLocalCache } from '../storage/local-cache.js';

/**
 * Apps as oidc-provider clients. oidc-provider asks the Client adapter on every request that
 * names a client, so lookups are cached per process; `invalidate` (driven by the store's
 * pub/sub, see app.ts) drops an entry on every instance the moment an app changes.
 */
export interface ClientInfo {
  metadata: Record<string, unknown>;
  developerId: string;
  name: string;
  logoUrl: string | null;
  homepage: string | null;
  callbackDomain: string | null;
  redirectUris: string[];
  /** client_secret_basic or client_secret_post; null: not yet pinned (oidc/client-auth.ts pins it on first use). */
  tokenEndpointAuthMethod: string | null;
  /** After a rotation with a grace period: the previous AppSecret's hash and when it stops working. */
  previousSecret: { hash: string; expiresAt: Date } | null;
  /** Confirming a login to this app needs a fresh passkey assertion (passkeys/confirm-gate.ts). */
  requireUserVerification: boolean;
}

const CACHE_MS = 60_000;

export type ClientDirectory = ReturnType<typeof createClientDirectory>;

export function createClientDirectory(prisma: PrismaClient) {
  const cache = createLocalCache<ClientInfo | null>({ ttlMs: CACHE_MS, max: 10_000 });

  async function load(appId: string): Promise<ClientInfo | null> {
    const app = await prisma.app.findUnique({ where: { appId } });
    // A disabled app is no client at all: its authorize requests fail and its tokens stop working.
    if (!app || app.status !== 'active') return null;
    const hosts = new Set(app.redirectUris.map((u) => new URL(u).host));
    return {
      developerId: app.developerId,
      name: app.name,
      logoUrl: app.logoUrl,
      homepage: app.homepage,
      callbackDomain: app.callbackDomain,
      redirectUris: app.redirectUris,
      tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
      requireUserVerification: app.requireUserVerification,
      previousSecret: app.previousSecretHash && app.previousSecretExpiresAt ? { hash: app.previousSecretHash, expiresAt: app.previousSecretExpiresAt } : null,
      metadata: {
        client_id: app.appId,
        // The hash, never the secret: compareClientSecret (provider.ts) checks against it.
        client_secret: app.secretHash,
        client_name: app.name,
        ...(app.logoUrl ? { logo_uri: app.logoUrl } : {}),
        ...(app.homepage ? { client_uri: app.homepage } : {}),
        redirect_uris: app.redirectUris,
        post_logout_redirect_uris: app.postLogoutRedirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        // Not yet pinned: oidc-provider takes Basic and the form body alike for either value.
        token_endpoint_auth_method: app.tokenEndpointAuthMethod ?? 'client_secret_basic',
        // openid per app, like WeChat: pairwise by AppID (pairwiseIdentifier ignores the sector).
        subject_type: 'pairwise',
        // oidc-provider insists on a sector URI when redirect hosts differ; we derive `sub` from
        // the AppID instead, so it is informational and never fetched (sectorIdentifierUriValidate).
        ...(hosts.size > 1 ? { sector_identifier_uri: `https://sector.invalid/${app.appId}` } : {}),
        id_token_signed_response_alg: app.idTokenSignedResponseAlg,
        // Read by oidc-provider's pkce.required (oidc/provider.ts).
        require_pkce: app.requirePkce,
      },
    };
  }

  return {
    async get(appId: string): Promise<ClientInfo | null> {
      // Not an AppID at all (NUL, control characters, absurd length): PostgreSQL would refuse
      // the query (NUL in text) with a 500, so this is "no such client" without asking.
      if (!/^[\x21-\x7e]{1,64}$/.test(appId)) return null;
      return cache.getOrLoad(appId, () => load(appId));
    },
    invalidate(appId?: string) {
      if (appId) cache.delete(appId);
      else cache.clear();
    },
  };
}

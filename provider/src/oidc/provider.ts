import Provider, { interactionPolicy } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { openid, unionid } from '../accounts/identifiers.js';
import type { Users } from '../accounts/users.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { Payloads } from './payloads.js';
import { createAdapterFactory } from './adapter.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { cookieSigner } from './cookie-keys.js';
import type { JWK } from 'jose';
import { signingAlgorithms } from './keys.js';
import { renderErrorPage, renderSignedOutPage } from './error-page.js';
import { isWechatRequest } from './extensions.js';
import { requireOpenidScope } from './openid-required.js';

export const TTL = {
  AuthorizationCode: 600,
  AccessToken: 7200,
  IdToken: 3600,
  RefreshToken: 30 * 24 * 3600,
  Interaction: 3600,
  Session: 3600,
} as const;

const { base, Check } = interactionPolicy;

/**
 * Like WeChat, every authorization needs a fresh phone confirmation: an earlier provider
 * session in this browser never logs someone in silently (a shared computer must not hand out
 * logins). The check passes only while resuming with the login this interaction just made.
 */
function policy() {
  const prompts = base();
  prompts
    .get('login')!
    .checks.add(
      new Check('qr_confirmation_required', 'Every authorization is confirmed on the phone', 'login_required', (ctx: KoaContextWithOIDC) =>
        ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT,
      ),
    );
  return prompts;
}

export interface ProviderDeps {
  issuer: string;
  /** The private signing keys in use (keys/keyring.ts), signers first. */
  jwks: { keys: JWK[] };
  /** Cookie signing: one signer shared by every instance built, following key rotations. */
  cookies: ReturnType<typeof cookieSigner>;
  /** Derives openid and unionid. */
  identifierSecret: string;
  store: EphemeralStore;
  payloads: Payloads;
  clients: ClientDirectory;
  users: Users;
  trustProxy: boolean;
}

export function createOidcProvider(deps: ProviderDeps): Provider {
  const { jwks, clients, users, identifierSecret } = deps;

  const configuration: Configuration = {
    adapter: createAdapterFactory(deps),
    // A copy: oidc-provider takes the keys over.
    jwks: structuredClone(jwks),
    cookies: { keys: deps.cookies as unknown as string[] },
    claims: {
      openid: ['sub'],
      // What the phone shows as "nickname and avatar": no global login name (preferred_username
      // would let sites of different developers join their users despite pairwise openids).
      profile: ['nickname', 'name', 'picture', 'locale', 'unionid'],
    },
    scopes: ['openid', 'profile', 'offline_access'],
    extraParams: { scope: requireOpenidScope },
    // Scope-requested claims (profile: nickname, name, picture, unionid...) go in the ID token
    // too, not only to userinfo: many sites (Auth.js, passport-openidconnect) read the person
    // from the ID token alone. The person approved the scope on the phone either way.
    conformIdTokenClaims: false,
    subjectTypes: ['public', 'pairwise'],
    // openid = pairwise sub per AppID (not per redirect host), the same value the WeChat API returns.
    pairwiseIdentifier: (_ctx, accountId, client) => openid(identifierSecret, client.clientId, accountId),
    sectorIdentifierUriValidate: () => false,
    async findAccount(ctx, id) {
      const user = await users.profile(id);
      if (!user) return undefined;
      const clientId = ctx.oidc.client?.clientId;
      const developerId = clientId ? (await clients.get(clientId))?.developerId : undefined;
      return {
        accountId: id,
        claims() {
          return {
            sub: id,
            nickname: user.nickname,
            name: user.nickname,
            ...(user.picture ? { picture: user.picture } : {}),
            ...(user.locale ? { locale: user.locale } : {}),
            ...(developerId ? { unionid: unionid(identifierSecret, developerId, id) } : {}),
          };
        },
      };
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      // An app learns about its own tokens only (oidc-provider's default lets any authenticated
      // client introspect any token: one site could read who another site's token belongs to).
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      rpInitiatedLogout: {
        enabled: true,
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = renderSignedOutPage();
        },
      },
      userinfo: { enabled: true },
    },
    ttl: { ...TTL, Grant: TTL.RefreshToken },
    // A refresh token only with offline_access, which the phone shows as "stay signed in": the
    // person approves a long-lived login only when they are told so. (WeChat-style logins ask
    // for it: their scope is `openid profile offline_access`, wechat/translate.ts.)
    issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Tokens belong to the site, not to the browser's provider session.
    expiresWithSession: () => false,
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: policy(),
    },
    clientBasedCORS: (_ctx, origin, client) => (client.redirectUris ?? []).some((uri: string) => new URL(uri).origin === origin),
    renderError: (ctx, out, error) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(out, error);
    },
    // Exactly the algorithms there is a key for; each app picks one (apps/directory.ts).
    enabledJWA: { idTokenSigningAlgValues: signingAlgorithms(jwks) },
    // What an app can use: a secret, in HTTP Basic or in the form body (one per app, enforced in
    // oidc/client-auth.ts). No JWT methods (the secret is stored hashed, no key can be
    // registered) and no public clients.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    // PKCE (S256) per app: required for apps that say so (the default for new apps), never for
    // WeChat-style requests, whose protocol has no PKCE (their codes redeem only at /sns, with
    // the AppSecret: oidc/flows.ts).
    extraClientMetadata: { properties: ['require_pkce'] },
    pkce: { required: (_ctx, client) => (client as unknown as { require_pkce?: boolean }).require_pkce === true && !isWechatRequest() },
    // redirect_uri always required (OIDC Core does). Also avoids an oidc-provider 9.13.3 crash:
    // GET /auth/<unknown uid>?client_id=<app> runs this recovery with ctx.oidc.params undefined
    // (lib/shared/authorization_error_handler.js:72 → response_parameters.js:133) → 500.
    allowOmittingSingleRegisteredRedirectUri: false,
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = deps.trustProxy;
  // Only the address our one proxy appended counts, never a client-supplied X-Forwarded-For.
  if (deps.trustProxy) provider.maxIpsCount = 1;

  return provider;
}

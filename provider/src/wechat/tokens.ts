import type Provider from 'oidc-provider';
import type { AccessToken, Client, Grant } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { openid, unionid } from '../accounts/identifiers.js';
import type { PublicUser, Users } from '../accounts/users.js';
import type { ClientDirectory } from '../apps/directory.js';
import { asWechat, flowOf } from '../oidc/flows.js';
import type { Payloads } from '../oidc/payloads.js';
import { snsError } from './errcodes.js';
import type { Tombstones } from './tombstones.js';
import { wechatScopeOf } from './translate.js';

/**
 * The /sns token rules, on oidc-provider's own models rather than through its token endpoint.
 *
 * Why the models: WeChat's errors need distinctions the token endpoint folds into one
 * `invalid_grant` / `invalid_client` (40029 vs 40163 vs 42003, 40013 vs 40125), its code
 * exchange carries no redirect_uri, and its refresh takes no secret. The models give the rest
 * unchanged: the same single-use AuthorizationCode (the adapter's `consume` is a
 * compare-and-set: of concurrent redemptions exactly one wins, and a reuse revokes the grant
 * and everything issued under it), the same Grant, AccessToken and RefreshToken records.
 *
 * What this API may redeem is only what the WeChat flow issued (oidc/flows.ts): a code from
 * /auth carries a redirect_uri and maybe a PKCE challenge that only /token checks, so it is an
 * invalid code here; a refresh token from /token needs client authentication, so the
 * secret-less refresh here takes only the ones this API issued.
 *
 * `authenticated(appId)` runs once a call has proved whose it is (the right AppSecret, or a
 * token issued to that app): the site's quota is spent there, never by a stranger.
 */
export interface WechatTokenDeps {
  provider: Provider;
  users: Users;
  clients: ClientDirectory;
  payloads: Pick<Payloads, 'refreshTokenExpired' | 'revokeGrant'>;
  identifierSecret: string;
  tombstones: Tombstones;
}

/** oidc-provider's opaque values are base64url; anything else cannot be one of ours. */
const OPAQUE = /^[A-Za-z0-9_-]{16,256}$/;

export interface WechatTokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  openid: string;
  scope: string;
  unionid?: string;
}

type Authenticated = (appId: string) => Promise<void>;

export type WechatTokens = ReturnType<typeof createWechatTokens>;

export function createWechatTokens(deps: WechatTokenDeps) {
  const { provider, users, clients, payloads, identifierSecret, tombstones } = deps;

  async function appClient(appid: string): Promise<Client> {
    // A disabled app is no client at all (apps/directory.ts), so it is an invalid appid here too.
    const client = await provider.Client.find(appid);
    if (!client) throw snsError('invalid_appid');
    return client;
  }

  async function identity(appId: string, accountId: string) {
    const info = await clients.get(appId);
    return {
      openid: openid(identifierSecret, appId, accountId),
      unionid: info ? unionid(identifierSecret, info.developerId, accountId) : '',
    };
  }

  /** The grant behind a code or token must still exist (revocation deletes it) and match. */
  async function liveGrant(grantId: string | undefined, clientId: string, accountId: string | undefined): Promise<Grant | null> {
    const grant = grantId ? await provider.Grant.find(grantId) : undefined;
    return grant && grant.clientId === clientId && grant.accountId === accountId ? grant : null;
  }

  async function issueAccessToken(client: Client, source: { accountId: string; grantId: string; scope: string }, gty: string) {
    const at = new provider.AccessToken({ client, accountId: source.accountId, grantId: source.grantId, scope: source.scope, gty, expiresWithSession: false });
    return { value: await asWechat(() => at.save()), expiresIn: at.expiration };
  }

  /** What was approved, and only that: `unionid` comes with the profile scope, the scope says which. */
  async function response(
    client: Client,
    accountId: string,
    scope: string,
    access: { value: string; expiresIn: number },
    refreshToken: string,
  ): Promise<WechatTokenResponse> {
    const scopes = scope.split(' ');
    const ids = await identity(client.clientId, accountId);
    return {
      access_token: access.value,
      expires_in: access.expiresIn,
      refresh_token: refreshToken,
      openid: ids.openid,
      scope: wechatScopeOf(scopes),
      ...(scopes.includes('profile') ? { unionid: ids.unionid } : {}),
    };
  }

  /** Why a code (or its grant) cannot be found: redeemed before (40163), expired, or unknown. */
  async function missingCode(code: string): Promise<never> {
    const tomb = await tombstones.read('code', code);
    if (tomb?.used || (await tombstones.redeemed(code))) throw snsError('code_been_used');
    throw snsError(tombstones.expired(tomb) ? 'code_expired' : 'invalid_code');
  }

  return {
    /** /sns/oauth2/access_token: every fallible check first, then the one destructive claim. */
    async exchangeCode(input: { appid: string; secret: string; code: string }, authenticated: Authenticated): Promise<WechatTokenResponse> {
      const client = await appClient(input.appid);
      if (!(await client.compareClientSecret(input.secret))) throw snsError('invalid_appsecret');
      await authenticated(client.clientId);
      if (!OPAQUE.test(input.code)) throw snsError('invalid_code');

      const code = await provider.AuthorizationCode.find(input.code, { ignoreExpiration: true });
      if (!code) return missingCode(input.code);
      // Only codes of the WeChat flow (see above); the raw record says which.
      const stored = (await provider.AuthorizationCode.adapter.find(input.code)) as Record<string, unknown> | undefined;
      // Gone since the read above: a concurrent reuse revoked the grant (which sweeps the code).
      if (!stored) return missingCode(input.code);
      if (code.clientId !== client.clientId || flowOf(stored) !== 'wechat') throw snsError('invalid_code');
      if ((code as { consumed?: unknown }).consumed) {
        // A reuse: the adapter's consume revokes the grant (what the first redemption issued).
        await code.consume().catch(() => {});
        throw snsError('code_been_used');
      }
      if (code.isExpired) throw snsError('code_expired');
      const accountId = code.accountId!;
      const grant = await liveGrant(code.grantId, client.clientId, accountId);
      // No grant: revoked — by the person, or by a concurrent reuse of this very code.
      if (!grant) return missingCode(input.code);
      if (!(await users.byId(accountId))) throw snsError('invalid_code');

      // The claim. Exactly one caller passes the gate; a loser is a reuse, so it revokes the
      // grant (what the winner issues dies with it, RFC 6749 §4.1.2). The adapter's consume
      // alone cannot be the gate: when a concurrent reuse has already revoked the grant (which
      // sweeps the code), it returns quietly for a code that is gone. consume() still runs, so
      // OIDC's token endpoint sees the code as used, and a code OIDC redeemed first fails here.
      if (!(await tombstones.claimRedemption(input.code, code.exp ?? 0))) {
        await payloads.revokeGrant(code.grantId!);
        throw snsError('code_been_used');
      }
      try {
        await code.consume();
      } catch (err) {
        if (err instanceof errors.InvalidGrant) throw snsError('code_been_used');
        throw err;
      }

      const scope = grant.getOIDCScopeFiltered(code.scopes);
      const access = await issueAccessToken(client, { accountId, grantId: grant.jti, scope }, 'authorization_code');
      const rt = new provider.RefreshToken({
        client,
        accountId,
        acr: code.acr,
        amr: code.amr,
        authTime: code.authTime,
        claims: code.claims,
        expiresWithSession: false,
        grantId: grant.jti,
        gty: 'authorization_code',
        nonce: code.nonce,
        resource: code.resource,
        rotations: 0,
        scope,
      });
      // WeChat always gives a refresh token; the phone said so ("stay signed in", offline_access).
      const refreshToken = scope.split(' ').includes('offline_access') ? await asWechat(() => rt.save()) : '';
      return response(client, accountId, scope, access, refreshToken);
    },

    /**
     * /sns/oauth2/refresh_token. No secret (WeChat sends none): the refresh token works only for
     * the AppID it was issued to, and only one this API issued. Like WeChat's, it is not rotated
     * and not renewed: valid 30 days from issue, it can be used repeatedly; each use issues a new
     * access token.
     */
    async refresh(input: { appid: string; refreshToken: string }, authenticated: Authenticated): Promise<WechatTokenResponse> {
      const client = await appClient(input.appid);
      if (!OPAQUE.test(input.refreshToken)) throw snsError('invalid_refresh_token');
      const rt = await provider.RefreshToken.find(input.refreshToken, { ignoreExpiration: true });
      if (!rt) {
        if (await payloads.refreshTokenExpired(input.refreshToken)) throw snsError('refresh_token_expired');
        throw snsError('invalid_refresh_token');
      }
      const stored = (await provider.RefreshToken.adapter.find(input.refreshToken)) as Record<string, unknown> | undefined;
      if (rt.clientId !== client.clientId || flowOf(stored) !== 'wechat' || rt.consumed || rt.isSenderConstrained()) throw snsError('invalid_refresh_token');
      await authenticated(client.clientId);
      if (rt.isExpired) throw snsError('refresh_token_expired');
      const grant = await liveGrant(rt.grantId, client.clientId, rt.accountId);
      if (!grant || !(await users.byId(rt.accountId))) throw snsError('invalid_refresh_token');

      const scope = grant.getOIDCScopeFiltered(rt.scopes);
      const access = await issueAccessToken(client, { accountId: rt.accountId, grantId: grant.jti, scope }, 'refresh_token');
      return response(client, rt.accountId, scope, access, input.refreshToken);
    },

    /**
     * An access token presented to /sns/auth or /sns/userinfo, with the openid it claims to be
     * for. Order: malformed (40014), unknown or revoked (40001), expired (42001), then the
     * openid (40003) — which must be exactly the OIDC pairwise `sub` of that user at that app.
     */
    async access(
      input: { accessToken: string; openid: string },
      authenticated: Authenticated,
    ): Promise<{ at: AccessToken; user: PublicUser; openid: string; unionid: string }> {
      if (!OPAQUE.test(input.accessToken)) throw snsError('invalid_access_token');
      const at = await provider.AccessToken.find(input.accessToken, { ignoreExpiration: true });
      if (!at) {
        const tomb = await tombstones.read('access_token', input.accessToken);
        throw snsError(tombstones.expired(tomb) ? 'access_token_expired' : 'invalid_credential');
      }
      // Sender-constrained (DPoP/mTLS) or audience-bound OIDC tokens are not bearer tokens for this API.
      if (at.isSenderConstrained() || at.aud) throw snsError('invalid_credential');
      const clientId = at.clientId!;
      await authenticated(clientId);
      if (at.isExpired) throw snsError('access_token_expired');
      const [client, grant, user] = await Promise.all([
        provider.Client.find(clientId),
        liveGrant(at.grantId, clientId, at.accountId),
        users.byId(at.accountId),
      ]);
      if (!client || !grant || !user) throw snsError('invalid_credential');
      const ids = await identity(clientId, at.accountId);
      if (input.openid !== ids.openid) throw snsError('invalid_openid');
      return { at, user, ...ids };
    },

    /** WeChat's profile shape. Saoma keeps no sex or region: 0 ("unknown") and empty strings. */
    profile(a: { at: AccessToken; user: PublicUser; openid: string; unionid: string }) {
      if (!['openid', 'profile'].every((s) => a.at.scopes.has(s))) throw snsError('api_unauthorized');
      return {
        openid: a.openid,
        nickname: a.user.nickname,
        sex: 0,
        province: '',
        city: '',
        country: '',
        headimgurl: a.user.picture ?? '',
        privilege: [] as string[],
        unionid: a.unionid,
      };
    },
  };
}

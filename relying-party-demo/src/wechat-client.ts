import { createRequire } from 'node:module';

/**
 * The WeChat-style path goes through `wechat-oauth` (npm), the client library many sites
 * already use for WeChat website login, unmodified. Its WeChat hosts are hard-coded
 * (lib/oauth.js), so, like a migrating site, we rewrite them to the Saoma issuer in its one
 * `request` method and in the authorize URL it builds. Everything else is the library's own.
 */
type Callback<T> = (err: (Error & { code?: unknown }) | null, result: T) => void;
interface OAuthInstance {
  request(url: string, opts: unknown, cb: unknown): void;
  setOpts(opts: Record<string, unknown>): void;
  getAuthorizeURLForWebsite(redirect: string, state?: string, scope?: string): string;
  getAccessToken(code: string, cb: Callback<{ data: Record<string, unknown> }>): void;
  getUser(options: { openid: string; lang?: string }, cb: Callback<Record<string, unknown>>): void;
}
type TokenStore = (openid: string, ...rest: unknown[]) => void;
const OAuth = createRequire(import.meta.url)('wechat-oauth') as new (
  appid: string,
  secret: string,
  getToken?: TokenStore,
  saveToken?: TokenStore,
) => OAuthInstance;

const WECHAT_OPEN = 'https://open.weixin.qq.com';
const WECHAT_API = 'https://api.weixin.qq.com';

/** A failure the WeChat API reported (`{errcode, errmsg}`), as wechat-oauth surfaces it. */
export class WechatApiError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`WeChat API error ${errcode}: ${errmsg}`);
    this.name = 'WechatApiError';
  }
}

/** The provider did not answer usefully (down, or not a WeChat-compatible answer). */
export class WechatUnreachable extends Error {
  constructor(issuer: string, cause: unknown) {
    super(`the WeChat-compatible API at ${issuer} did not answer`, { cause });
    this.name = 'WechatUnreachable';
  }
}

export interface WechatLogin {
  /** `/sns/oauth2/access_token`'s answer, minus the token values (the demo keeps none). */
  token: { openid: string; unionid: string | null; scope: string; expiresIn: number | null; refreshTokenIssued: boolean };
  /** `/sns/userinfo`'s answer as WeChat shapes it. */
  userinfo: Record<string, unknown>;
}

function pointedAt(issuer: string, appid: string, secret: string, tokens: Map<string, unknown>): OAuthInstance {
  // The library keeps tokens per openid through these two; here they live for one login only.
  const getToken: TokenStore = (openid, cb) => (cb as (e: null, t: unknown) => void)(null, tokens.get(openid));
  const saveToken: TokenStore = (openid, token, cb) => {
    tokens.set(openid, token);
    (cb as (e: null) => void)(null);
  };
  const api = new OAuth(appid, secret, getToken, saveToken);
  api.setOpts({ timeout: 10_000 });
  const request = api.request.bind(api);
  api.request = (url, opts, cb) => request(url.replace(WECHAT_API, issuer), opts, cb);
  const authorize = api.getAuthorizeURLForWebsite.bind(api);
  api.getAuthorizeURLForWebsite = (...args) => authorize(...args).replace(WECHAT_OPEN, issuer);
  return api;
}

function settle<T>(issuer: string, fn: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    fn((err, result) => {
      // wechat-oauth names WeChat's own errors WeChatAPIError with `code` = errcode; anything
      // else (WeChatAPIRequestError, a non-JSON body...) is the transport.
      if (!err) resolve(result);
      else if (err.name === 'WeChatAPIError' && typeof err.code === 'number') reject(new WechatApiError(err.code, err.message));
      else reject(new WechatUnreachable(issuer, err));
    }),
  );
}

export type WechatClient = ReturnType<typeof createWechatClient>;

export function createWechatClient(opts: { issuer: string; appid: string; secret: string }) {
  const issuer = opts.issuer.replace(/\/+$/, '');
  return {
    /** `/connect/qrconnect?appid&redirect_uri&response_type=code&scope=snsapi_login&state#wechat_redirect`. */
    authorizeUrl(redirectUri: string, state: string): string {
      return pointedAt(issuer, opts.appid, opts.secret, new Map()).getAuthorizeURLForWebsite(redirectUri, state, 'snsapi_login');
    },

    /** What the site's callback does: exchange the code, then read the profile with that token. */
    async signIn(code: string): Promise<WechatLogin> {
      const api = pointedAt(issuer, opts.appid, opts.secret, new Map());
      const { data } = await settle<{ data: Record<string, unknown> }>(issuer, (cb) => api.getAccessToken(code, cb));
      const openid = typeof data.openid === 'string' ? data.openid : '';
      if (!openid) throw new WechatUnreachable(issuer, new Error('no openid in the access_token response'));
      const userinfo = await settle<Record<string, unknown>>(issuer, (cb) => api.getUser({ openid, lang: 'zh_CN' }, cb));
      return {
        token: {
          openid,
          unionid: typeof data.unionid === 'string' ? data.unionid : null,
          scope: typeof data.scope === 'string' ? data.scope : '',
          expiresIn: typeof data.expires_in === 'number' ? data.expires_in : null,
          refreshTokenIssued: Boolean(data.refresh_token),
        },
        userinfo,
      };
    },
  };
}

/**
 * WeChat ↔ OIDC, as pure functions (no I/O), so every rule is unit-tested:
 * - scope: WeChat's website scope `snsapi_login` is OIDC `openid profile offline_access`
 *   (openid + nickname, avatar, unionid, and a 30-day refresh token, which WeChat always gives
 *   and the phone says: "stay signed in") and is reported back as `snsapi_login`;
 * - redirect rule: WeChat accepts any redirect_uri on the app's authorization callback domain;
 * - the callback: `redirect_uri?code=CODE&state=STATE`, or `redirect_uri?state=STATE` when the
 *   person said no (WeChat's shape, not OAuth's `error=access_denied`).
 */
const WECHAT_SCOPE = 'snsapi_login';
export const WECHAT_SCOPES = ['openid', 'profile', 'offline_access'];

/** The WeChat scope a grant amounts to: `snsapi_login` needs the profile, `snsapi_base` is the openid alone. */
export function wechatScopeOf(scopes: Iterable<string>): string {
  return new Set(scopes).has('profile') ? WECHAT_SCOPE : 'snsapi_base';
}
/** The oidc-provider response mode that marks an authorization request as a WeChat one. */
export const WECHAT_RESPONSE_MODE = 'wechat';

export type Lang = 'zh' | 'en';

/** WeChat's `lang` (cn, zh_CN, en...) or an Accept-Language header; WeChat defaults to Chinese. */
export function langOf(hint: unknown, acceptLanguage?: string): Lang {
  if (typeof hint === 'string' && hint) return /^en/i.test(hint) ? 'en' : 'zh';
  // The first named language decides; `*` (what non-browser clients send) names none.
  const first = (acceptLanguage ?? '')
    .split(',')
    .map((part) => part.split(';')[0].trim())
    .find((tag) => tag && tag !== '*');
  if (first) return /^zh/i.test(first) ? 'zh' : 'en';
  return 'zh';
}

/** `snsapi_login`, possibly comma-separated as WeChat allows; nothing else for website apps. */
export function scopeAllowed(scope: string | undefined): boolean {
  if (!scope) return false;
  const parts = scope.split(',').map((s) => s.trim());
  return parts.length > 0 && parts.every((s) => s === WECHAT_SCOPE);
}

/**
 * WeChat's in-app authorization (/connect/oauth2/authorize, the Official Account path that
 * Auth.js's and grant's WeChat providers use by default): `snsapi_userinfo` is the profile,
 * `snsapi_base` the openid alone (its token cannot read /sns/userinfo: 48001, as at WeChat);
 * both with WeChat's refresh token. Anything else: null (WeChat's scope error).
 */
export function inAppScopes(scope: string | undefined): string[] | null {
  if (scope === 'snsapi_userinfo') return WECHAT_SCOPES;
  if (scope === 'snsapi_base') return ['openid', 'offline_access'];
  return null;
}

export interface RedirectPolicy {
  /** The app's authorization callback domain (host, optionally `:port`), or null. */
  callbackDomain: string | null;
  /** The app's registered redirect URIs (the OIDC rule: exact match). */
  redirectUris: string[];
}

const isLoopback = (hostname: string) => hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]' || hostname.endsWith('.localhost');

/** The host rule of a callback domain: `host:port` pins the port, a bare host allows any port. */
function onCallbackDomain(url: URL, callbackDomain: string): boolean {
  const domain = callbackDomain.toLowerCase();
  return domain.includes(':') ? url.host === domain : url.hostname === domain;
}

function parseAbsolute(raw: string): URL | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * WeChat's redirect rule. With a callback domain, any redirect_uri on that host (and only that
 * host: no subdomains, no other registered host) is accepted, like WeChat's 授权回调域; https
 * only, except plain http on loopback for development (the rule admin registration applies).
 * Without a callback domain the registered redirect URIs are the whole list, matched exactly.
 */
export function redirectAllowed(raw: string, policy: RedirectPolicy): boolean {
  if (!policy.callbackDomain) return policy.redirectUris.includes(raw);
  // The URL goes out in Location as given: a backslash, space or control character would let a
  // browser and our parser disagree on its host (`http://host\@evil.example/`), so none passes.
  if (raw.includes('#') || /[\\\s\u0000-\u001f\u007f]/.test(raw)) return false;
  const url = parseAbsolute(raw);
  if (!url || url.username || url.password) return false;
  if (url.protocol !== 'https:' && !isLoopback(url.hostname)) return false;
  return onCallbackDomain(url, policy.callbackDomain);
}

/**
 * May a page on `origin` receive the embedded QR's completion message? Only pages of the app
 * itself: its callback domain, or (without one) the origins of its registered redirect URIs.
 */
export function parentOriginAllowed(origin: string, policy: RedirectPolicy): boolean {
  const url = parseAbsolute(origin);
  if (!url || url.origin !== origin) return false;
  if (policy.callbackDomain) {
    if (url.protocol !== 'https:' && !isLoopback(url.hostname)) return false;
    return onCallbackDomain(url, policy.callbackDomain);
  }
  return policy.redirectUris.some((u) => parseAbsolute(u)?.origin === origin);
}

/**
 * The app's own origins as CSP source expressions: who may frame its embedded QR
 * (frame-ancestors). Its callback domain (https, any port unless pinned; plain http too on
 * loopback), or without one the origins of its registered redirect URIs.
 */
export function appOriginSources(policy: RedirectPolicy): string[] {
  if (!policy.callbackDomain) return [...new Set(policy.redirectUris.map((u) => parseAbsolute(u)?.origin).filter((o): o is string => !!o))];
  const domain = policy.callbackDomain.toLowerCase();
  const hostname = domain.replace(/:\d+$/, '');
  const hosts = domain.includes(':') ? [domain] : [domain, `${domain}:*`];
  const schemes = isLoopback(hostname) ? ['https', 'http'] : ['https'];
  return schemes.flatMap((scheme) => hosts.map((h) => `${scheme}://${h}`));
}

/**
 * The site's own stylesheet for its embedded QR (WeChat's `href`), or null. Only while the page
 * is framed (the browser then enforces frame-ancestors: the embedder is one of the app's own
 * origins) and only from there: a data: stylesheet, or an https (loopback: http) URL on one of
 * the app's own origins. A stylesheet from anyone else could read the page with attribute
 * selectors; opened top-level (`Sec-Fetch-Dest: document`, or no such header) the page takes no
 * stylesheet at all.
 */
export function stylesheetAllowed(href: string | undefined, policy: RedirectPolicy, framed: boolean): { href: string; source: string } | null {
  if (!href || !framed) return null;
  if (/^data:text\/css[;,]/i.test(href)) return { href, source: 'data:' };
  const url = parseAbsolute(href);
  if (!url || url.username || url.password) return null;
  if (url.protocol !== 'https:' && !isLoopback(url.hostname)) return null;
  return parentOriginAllowed(url.origin, policy) ? { href: url.href, source: url.origin } : null;
}

/**
 * `redirect_uri?code=CODE&state=STATE` (code first, as WeChat), or `redirect_uri?state=STATE`
 * when denied. Appended to the query the site registered, which is kept byte for byte.
 */
export function callbackUrl(redirectUri: string, result: { code?: string; state: string }): string {
  const params = `${result.code ? `code=${encodeURIComponent(result.code)}&` : ''}state=${encodeURIComponent(result.state)}`;
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${params}`;
}

/**
 * The oidc-provider authorization request a WeChat qrconnect (or oauth2/authorize) request
 * stands for, with the OIDC scopes it translates to (qrconnect: WECHAT_SCOPES). The
 * `wechat` response mode marks it: it relaxes the redirect rule to the callback domain and
 * shapes the callback the WeChat way (hooks.ts).
 */
export function authorizationQuery(input: { appid: string; redirectUri: string; state: string; lang: Lang; scopes?: string[] }): string {
  const query = new URLSearchParams({
    client_id: input.appid,
    redirect_uri: input.redirectUri,
    response_type: 'code',
    scope: (input.scopes ?? WECHAT_SCOPES).join(' '),
    // OIDC keeps offline_access only with prompt=consent; the phone's confirmation is that consent.
    prompt: 'consent',
    response_mode: WECHAT_RESPONSE_MODE,
    ui_locales: input.lang === 'zh' ? 'zh-CN' : 'en',
  });
  // oidc-provider drops an empty state; WeChat echoes it as `state=` (responseMode handles that).
  if (input.state) query.set('state', input.state);
  return query.toString();
}

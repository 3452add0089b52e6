import { esc, page, zh, type Visitor } from './pages.js';

/** What the WeChat-style path keeps after login: the profile, and facts about the token (never the token). */
export interface WechatSignedIn {
  openid: string;
  unionid: string | null;
  nickname: string;
  headimgurl: string;
  /** The whole `/sns/userinfo` answer, shown as received. */
  userinfo: Record<string, unknown>;
  scope: string;
  /** epoch ms; from the token response's expires_in */
  accessTokenExpiresAt: number | null;
  refreshTokenIssued: boolean;
  via: 'redirect' | 'embedded';
  loggedInAt: number;
}

export const wechatVisitor = (w: WechatSignedIn): Visitor => ({
  name: w.nickname || w.openid,
  profileHref: '/wechat/profile',
  via: "Saoma's WeChat-compatible API",
});

const safePicture = (value: string) => (/^https?:\/\//i.test(value) ? value : null);

export function wechatProfilePage(w: WechatSignedIn, library: string): string {
  const picture = safePicture(w.headimgurl);
  const avatar = picture
    ? `<img class="avatar" src="${esc(picture)}" alt="" referrerpolicy="no-referrer">`
    : `<div class="avatar" aria-hidden="true">${esc((w.nickname || '?').slice(0, 1))}</div>`;
  const row = (label: string, value: string) => `<tr><th>${esc(label)}</th><td>${value}</td></tr>`;
  const code = (v: unknown) => `<code>${esc(v)}</code>`;
  const expires = w.accessTokenExpiresAt
    ? `${esc(new Date(w.accessTokenExpiresAt).toISOString())} <span class="muted">(in ${esc(Math.max(0, Math.round((w.accessTokenExpiresAt - Date.now()) / 60000)))} min)</span>`
    : '<span class="muted">not stated</span>';
  const how = w.via === 'embedded' ? 'the embedded QR (<code>wxLogin.js</code>)' : 'a redirect to <code>/connect/qrconnect</code>';
  return page(
    'WeChat-style profile',
    `<section class="card" id="wechat-profile" data-via="wechat">
  <div class="profile">${avatar}<div>
    <h1 id="wechat-nickname">${esc(w.nickname || '(no nickname)')}</h1>
    <div class="muted">Logged in through Saoma's <strong>WeChat-compatible API</strong> at ${esc(new Date(w.loggedInAt).toISOString())}</div>
  </div></div>
</section>
<section class="card">
  <h2>How this login went / ${zh('登录方式')}</h2>
  <p>Started with ${how}; on the callback the site's server called, through the npm library
  <code>${esc(library)}</code> pointed at Saoma instead of <code>api.weixin.qq.com</code>:</p>
  <ol>
    <li><code>GET /sns/oauth2/access_token</code> (code → access_token, openid, unionid)</li>
    <li><code>GET /sns/userinfo</code> (the profile below)</li>
  </ol>
</section>
<section class="card">
  <h2>Identifiers / ${zh('标识')}</h2>
  <table>
    ${row('openid', `<code id="wechat-openid">${esc(w.openid)}</code> <span class="muted">— yours at this app only (the same value as the OIDC sub)</span>`)}
    ${row('unionid', w.unionid ? `<code id="wechat-unionid">${esc(w.unionid)}</code> <span class="muted">— the same at every app of this developer</span>` : '<span class="muted">not returned</span>')}
    ${row('nickname', code(w.nickname))}
    ${row('headimgurl', w.headimgurl ? code(w.headimgurl) : '<span class="muted">(none)</span>')}
  </table>
</section>
<section class="card">
  <h2>Access token</h2>
  <p class="muted">The site keeps no token after login; it shows only what it learned from the token response.</p>
  <table>
    ${row('Expires', expires)}
    ${row('Scope', code(w.scope))}
    ${row('Refresh token', w.refreshTokenIssued ? 'issued (not kept by this demo)' : 'not issued')}
  </table>
</section>
<section class="card">
  <h2><code>/sns/userinfo</code> response</h2>
  <p class="muted">WeChat's fields. Saoma keeps no sex or region: <code>sex</code> is 0 and <code>province</code>, <code>city</code>, <code>country</code> are empty.</p>
  <pre id="wechat-userinfo">${esc(JSON.stringify(w.userinfo, null, 2))}</pre>
</section>`,
    wechatVisitor(w),
  );
}

/**
 * The embedded QR, WeChat's way: the provider's wxLogin.js, then our own script (no inline
 * script: the page's CSP allows scripts only from this site and the provider) reads its
 * settings from the container's data attributes and calls `new WxLogin(...)`.
 */
export function embeddedPage(opts: { issuer: string; appid: string; redirectUri: string; state: string }): string {
  return page(
    'Embedded QR',
    `<section class="card">
  <h1>Embedded QR login / ${zh('嵌入式二维码登录')}</h1>
  <p>WeChat's embedded login snippet, unchanged, with the script loaded from Saoma:
  <code>${esc(opts.issuer)}/connect/wxLogin.js</code>. Scan the code with the Saoma app; after you confirm,
  this page goes on to the site's callback.</p>
  <div id="login_container" class="embedded-qr" data-appid="${esc(opts.appid)}" data-redirect-uri="${esc(opts.redirectUri)}" data-state="${esc(opts.state)}">
    <p class="muted" id="wx-loading">Loading the QR code…</p>
  </div>
  <p class="muted">No phone at hand? Open "Can't scan?" under the code and run <code>npm run phone -- approve &lt;link&gt;</code>.</p>
  <p><a class="btn btn-plain" href="/">Home</a> <a class="btn btn-plain" href="/wechat/login">Use the redirect instead</a></p>
</section>
<script src="${esc(opts.issuer)}/connect/wxLogin.js"></script>
<script src="/wechat/embedded.js"></script>`,
  );
}

/**
 * The demo site's HTML. Every dynamic value goes through `esc`; raw tokens never reach a page
 * (only their expiry and scope, and the ID token's already-verified claims).
 */
export function esc(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Chinese words on these English pages, marked so a screen reader says them in Chinese (WCAG 3.1.2). */
export const zh = (text: string) => `<span lang="zh-CN">${esc(text)}</span>`;

export interface SignedIn {
  claims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
  /** epoch ms; from the token response's expires_in */
  accessTokenExpiresAt: number | null;
  scope: string | null;
  refreshTokenIssued: boolean;
  loggedInAt: number;
}

// The brand green darkened for white text (#07c160 gives 2.4:1, #057f3f 5.1:1; AA needs 4.5:1).
const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;background:#f4f6f8;color:#1d2329}
header{background:#fff;border-bottom:1px solid #e3e7eb;padding:.8rem 1.5rem;display:flex;align-items:center;justify-content:space-between}
header a{color:inherit;text-decoration:none;font-weight:600}
main{max-width:52rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #e3e7eb;border-radius:12px;padding:1.5rem;margin-bottom:1.25rem}
h1{font-size:1.5rem;margin:0 0 .75rem}h2{font-size:1.1rem;margin:0 0 .75rem}
.muted{color:#5f6b76;font-size:.92rem}
.btn{display:inline-block;border:0;border-radius:8px;padding:.7rem 1.2rem;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
.btn-primary{background:#057f3f;color:#fff}.btn-primary:hover{background:#046733}
a:focus-visible,button:focus-visible{outline:3px solid #057f3f;outline-offset:2px}
.btn-plain{background:#eef1f4;color:#1d2329}
.profile{display:flex;gap:1.25rem;align-items:center}
.avatar{width:72px;height:72px;border-radius:50%;object-fit:cover;background:#dfe4e8;display:flex;align-items:center;justify-content:center;font-size:2rem;color:#5f6b76}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #eef1f4;vertical-align:top}
th{white-space:nowrap;color:#5f6b76;font-weight:500;width:1%}
td code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-all}
pre{background:#f6f8fa;border-radius:8px;padding:1rem;overflow:auto;margin:0;white-space:pre-wrap}
.notice{border-left:4px solid #f0a020}.error{border-left:4px solid #e5484d}
form{display:inline;margin:0}
`;

/** Who is signed in, from either login path: their name and where their profile is. */
export interface Visitor {
  name: string;
  profileHref: string;
  /** How they logged in, in words. */
  via: string;
}

export const visitorOf = (s: SignedIn): Visitor => ({
  name: String(s.userinfo.nickname ?? s.claims.sub),
  profileHref: '/profile',
  via: 'Saoma (OpenID Connect)',
});

export function page(title: string, body: string, visitor?: Visitor | null): string {
  const who = visitor
    ? `<span class="muted">${esc(visitor.name)}</span>
       <form method="post" action="/logout"><button class="btn btn-plain" type="submit">Log out / ${zh('退出')}</button></form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Saoma Demo Site</title>
<style>${CSS}</style>
</head>
<body>
<header><a href="/">Saoma Demo Site</a><div>${who}</div></header>
<main>
${body}
</main>
</body>
</html>`;
}

export function homePage(visitor: Visitor | null): string {
  if (visitor) {
    return page(
      'Home',
      `<section class="card">
  <h1>Welcome back, ${esc(visitor.name)}</h1>
  <p>You are logged in to this site with ${esc(visitor.via)}.</p>
  <p><a class="btn btn-primary" href="${esc(visitor.profileHref)}">See what the site received / ${zh('查看资料')}</a></p>
</section>`,
      visitor,
    );
  }
  return page(
    'Home',
    `<section class="card">
  <h1>Saoma Demo Site</h1>
  <p>This is a website (a "relying party") that lets people log in by scanning a QR code with their phone.
  It talks to the Saoma provider through OpenID Connect (authorization code flow with PKCE).</p>
  <p><a class="btn btn-primary" href="/login">Log in with Saoma / ${zh('使用扫码登录')}</a></p>
  <p class="muted">No phone at hand? Copy the link under the QR code and run <code>npm run phone -- approve &lt;link&gt;</code>.</p>
</section>
<section class="card">
  <h2>Coming from WeChat login? / ${zh('微信登录迁移')}</h2>
  <p>The same login through Saoma's WeChat-compatible API, as a site that used WeChat website login does it:
  the <code>wechat-oauth</code> npm library, unchanged except for its base URLs, or WeChat's embedded QR snippet.</p>
  <p><a class="btn btn-primary" href="/wechat/login">WeChat-style login (wechat-oauth)</a>
  <a class="btn btn-plain" href="/wechat/embedded">Embedded QR (wxLogin.js)</a></p>
</section>`,
  );
}

const TIME_CLAIMS = new Set(['exp', 'iat', 'auth_time', 'nbf', 'updated_at']);

function claimValue(name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    return `<code>${esc(value)}</code> <span class="muted">(${esc(new Date(value * 1000).toISOString())})</span>`;
  }
  return `<code>${esc(typeof value === 'string' ? value : JSON.stringify(value))}</code>`;
}

/** Only http(s) pictures: a claim is data from elsewhere, and `src` must not become a script URL. */
const safePicture = (value: unknown) => (typeof value === 'string' && /^https?:\/\//i.test(value) ? value : null);

export function profilePage(s: SignedIn): string {
  const { userinfo, claims } = s;
  const picture = safePicture(userinfo.picture);
  const avatar = picture
    ? `<img class="avatar" src="${esc(picture)}" alt="" referrerpolicy="no-referrer">`
    : `<div class="avatar" aria-hidden="true">${esc((typeof userinfo.nickname === 'string' ? userinfo.nickname : '?').slice(0, 1))}</div>`;
  const expires = s.accessTokenExpiresAt
    ? `${esc(new Date(s.accessTokenExpiresAt).toISOString())} <span class="muted">(in ${esc(Math.max(0, Math.round((s.accessTokenExpiresAt - Date.now()) / 60000)))} min)</span>`
    : '<span class="muted">not stated</span>';
  const row = (label: string, value: string) => `<tr><th>${esc(label)}</th><td>${value}</td></tr>`;
  const claimRows = Object.entries(claims)
    .map(([k, v]) => row(k, claimValue(k, v)))
    .join('\n');
  return page(
    'Profile',
    `<section class="card">
  <div class="profile">${avatar}<div>
    <h1>${esc(userinfo.nickname ?? '(no nickname)')}</h1>
    <div class="muted">Logged in with Saoma at ${esc(new Date(s.loggedInAt).toISOString())}</div>
  </div></div>
</section>
<section class="card">
  <h2>Identifiers / ${zh('标识')}</h2>
  <table>
    ${row('openid (sub)', `<code>${esc(claims.sub)}</code> <span class="muted">— yours at this site only</span>`)}
    ${row('unionid', userinfo.unionid ? `<code>${esc(userinfo.unionid)}</code> <span class="muted">— the same at every app of this developer</span>` : '<span class="muted">not returned</span>')}
  </table>
</section>
<section class="card">
  <h2>Access token</h2>
  <p class="muted">The site keeps no token after login; it shows only what it learned from the token response.</p>
  <table>
    ${row('Expires', expires)}
    ${row('Scope', `<code>${esc(s.scope ?? '')}</code>`)}
    ${row('Refresh token', s.refreshTokenIssued ? 'issued (not kept by this demo)' : 'not issued')}
  </table>
</section>
<section class="card">
  <h2>ID token claims (verified)</h2>
  <table>
${claimRows}
  </table>
</section>
<section class="card">
  <h2>UserInfo response</h2>
  <pre>${esc(JSON.stringify(userinfo, null, 2))}</pre>
</section>`,
    visitorOf(s),
  );
}

/** A friendly outcome page for a login that did not happen; never a stack trace. */
export function problemPage(opts: { title: string; message: string; detail?: string; kind?: 'notice' | 'error'; retryHref?: string }): string {
  return page(
    opts.title,
    `<section class="card ${opts.kind ?? 'error'}">
  <h1>${esc(opts.title)}</h1>
  <p>${esc(opts.message)}</p>
  ${opts.detail ? `<p class="muted">${esc(opts.detail)}</p>` : ''}
  <p><a class="btn btn-primary" href="${esc(opts.retryHref ?? '/login')}">Try again / ${zh('重试')}</a> <a class="btn btn-plain" href="/">Home</a></p>
</section>`,
  );
}

/** A callback that arrives with no login pending in this browser: already finished, or started elsewhere. */
export function expiredLoginPage(retryHref?: string): string {
  return problemPage({
    title: 'This login has expired',
    message: 'This page belongs to a login that was already finished or was started in another browser. Start again.',
    kind: 'notice',
    retryHref,
  });
}

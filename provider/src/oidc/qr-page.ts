import type { Request } from 'express';
import type { AppError } from '../errors.js';
import { errorCard, escapeHtml, layout } from '../http/html.js';
import { pickLang, type Lang } from '../http/i18n.js';
import type { QrSnapshot } from '../login/store.js';

const TEXT = {
  en: {
    title: 'Log in with Saoma',
    brand: 'Saoma',
    otherLang: '中文',
    otherLangCode: 'zh',
    wants: 'wants you to log in',
    step1: 'Open Saoma',
    step2: 'Tap Scan',
    step3: 'Confirm on phone',
    cantScan: "Can't scan? Open this link on your phone",
    qrCode: 'QR code',
    expiresIn: 'Expires in',
    pending: 'Scan with the Saoma app on your phone',
    scanned: 'Confirm the login on your phone.',
    scannedShort: 'Scanned',
    confirmed: 'Confirmed. Logging you in…',
    denied: 'You denied this login on your phone.',
    expired: 'This QR code has expired. Getting a new one…',
    expiredShort: 'QR code expired',
    refresh: 'Get a new code',
    gone: 'This login request has ended. Go back to the site and start again.',
    offline: 'Connection lost. Retrying…',
    cancel: 'Cancel',
    error: 'Sign-in error',
    foot: 'Only scan this code with your own phone, and never send it to anyone.',
  },
  zh: {
    title: '扫码登录',
    brand: '扫码登录',
    otherLang: 'English',
    otherLangCode: 'en',
    wants: '请求登录',
    step1: '打开扫码登录',
    step2: '点“扫一扫”',
    step3: '在手机上确认',
    cantScan: '无法扫码？在手机上打开此链接',
    qrCode: '二维码',
    expiresIn: '剩余时间',
    pending: '请使用手机上的扫码登录 App 扫描二维码',
    scanned: '请在手机上确认登录',
    scannedShort: '扫描成功',
    confirmed: '已确认，正在登录…',
    denied: '你已在手机上拒绝本次登录',
    expired: '二维码已过期，正在刷新…',
    expiredShort: '二维码已过期',
    refresh: '刷新二维码',
    gone: '本次登录请求已结束，请返回原网站重新开始',
    offline: '连接中断，正在重试…',
    cancel: '取消',
    error: '登录出错',
    foot: '请只用你自己的手机扫描此二维码，不要发送给任何人。',
  },
} satisfies Record<Lang, Record<string, string>>;

export interface QrPageInput {
  req: Request;
  /** The authorization request's ui_locales (e.g. WeChat's lang), ahead of Accept-Language. */
  langHint?: string;
  uid: string;
  app: { name: string; logoUrl: string | null; homepage: string | null };
  snapshot: QrSnapshot;
  payload: string;
  svg: string;
  /** The login core's clock now (the page corrects its countdown by the difference). */
  serverNow: number;
}

/** The host a person recognises a site by (from its homepage), or null. */
function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/** This page's own URL with `lang` switched (keeps any other query, e.g. on a WeChat-style path). */
function withLang(req: Request, lang: string): string {
  const url = new URL(req.originalUrl || req.url, 'http://x');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

const httpUrl = (url: string | null) => (url && /^https?:\/\//i.test(url) ? url : null);

/**
 * The QR page. Server-rendered so it shows a QR before any script runs; qr-page.js keeps it
 * live (status, countdown, refresh). No inline script or style: the texts travel as a JSON
 * data block, which a strict CSP allows.
 */
export function renderQrPage(input: QrPageInput): string {
  const lang = pickLang(input.req, input.langHint);
  const t = TEXT[lang];
  const { app, snapshot } = input;
  const logoUrl = httpUrl(app.logoUrl);
  const logo = logoUrl
    ? `<img class="app-logo" src="${escapeHtml(logoUrl)}" alt="" width="48" height="48" referrerpolicy="no-referrer">`
    : `<div class="app-logo placeholder" aria-hidden="true">${escapeHtml(Array.from(app.name)[0]?.toUpperCase() ?? '?')}</div>`;
  const host = hostOf(app.homepage);
  const who = snapshot.user;
  return layout(
    `${t.title} · ${app.name}`,
    `<div class="qr-page">
    <main class="card qr-card" id="qr-root" data-uid="${escapeHtml(input.uid)}" data-status="${escapeHtml(snapshot.status)}"
      data-expires-at="${snapshot.expiresAt}" data-server-now="${input.serverNow}" data-qr-id="${escapeHtml(snapshot.qrId)}"
      data-user-nickname="${escapeHtml(who?.nickname ?? '')}" data-user-picture="${escapeHtml(httpUrl(who?.picture ?? null) ?? '')}">
      <div class="qr-top"><span class="brand"><img src="/static/app/icons/icon-192.png" alt="">${escapeHtml(t.brand)}</span>
        <a href="${escapeHtml(withLang(input.req, t.otherLangCode))}" lang="${t.otherLangCode === 'zh' ? 'zh-CN' : 'en'}" id="qr-lang">${escapeHtml(t.otherLang)}</a></div>
      <header class="app">${logo}<div><h1 id="qr-app-name">${escapeHtml(app.name)}</h1><p class="muted">${host ? `<span class="mono">${escapeHtml(host)}</span> · ` : ''}${escapeHtml(t.wants)}</p></div></header>
      <div class="qr-frame">
        <div id="qr-svg" class="qr" role="img" aria-label="${escapeHtml(t.qrCode)}">${input.svg}</div>
        <div class="qr-overlay" id="qr-overlay" hidden>
          <img id="scanner-avatar" class="avatar" alt="" hidden referrerpolicy="no-referrer">
          <span id="scanner-initial" class="avatar" aria-hidden="true" hidden></span>
          <span id="overlay-badge" class="badge" aria-hidden="true" hidden></span>
          <strong id="scanner-name"></strong>
          <span id="overlay-text"></span>
          <button type="button" id="qr-refresh" hidden>${escapeHtml(t.refresh)}</button>
        </div>
      </div>
      <p class="status" id="qr-status" role="status" aria-live="polite">${escapeHtml(t[snapshot.status])}</p>
      <div class="countdown" id="qr-timer"><div class="bar"><span class="fill" id="qr-bar"></span></div><span>${escapeHtml(t.expiresIn)} <span id="qr-countdown">–</span></span></div>
      <ol class="steps"><li><b aria-hidden="true">1</b>${escapeHtml(t.step1)}</li><li><b aria-hidden="true">2</b>${escapeHtml(t.step2)}</li><li><b aria-hidden="true">3</b>${escapeHtml(t.step3)}</li></ol>
      <details class="link"><summary>${escapeHtml(t.cantScan)}</summary><a id="qr-link" href="${escapeHtml(input.payload)}">${escapeHtml(input.payload)}</a></details>
      <form class="qr-actions" method="post" action="/interaction/${escapeHtml(input.uid)}/abort"><button type="submit" class="secondary" id="qr-cancel">${escapeHtml(t.cancel)}</button></form>
    </main>
    <footer class="qr-foot">${escapeHtml(t.foot)}</footer>
    </div>
    <script type="application/json" id="qr-text">${JSON.stringify(t).replace(/</g, '\\u003c')}</script>`,
    { scripts: ['/static/qr-page.js'], lang: lang === 'zh' ? 'zh-CN' : 'en' },
  );
}

renderQrPage.error = (err: AppError, req: Request): string => {
  const lang = pickLang(req);
  const t = TEXT[lang];
  return layout(t.error, `<div class="qr-page">${errorCard(err, { title: t.error })}</div>`, { lang: lang === 'zh' ? 'zh-CN' : 'en' });
};

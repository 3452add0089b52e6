import type { Request } from 'express';
import type { AppError } from '../errors.js';
import { escapeHtml, layout } from '../http/html.js';
import { pickLang, type Lang } from '../http/i18n.js';
import type { QrSnapshot } from './service.js';

const TEXT = {
  en: {
    title: 'Log in with Saoma',
    wants: 'wants you to log in',
    scan: 'Scan with the Saoma app on your phone',
    cantScan: "Can't scan? Open this link on your phone:",
    expiresIn: 'Expires in',
    pending: 'Waiting for a scan…',
    scanned: 'Scanned. Confirm the login on your phone.',
    confirmed: 'Confirmed. Logging you in…',
    denied: 'You denied this login on your phone.',
    expired: 'This QR code has expired. Getting a new one…',
    gone: 'This login request has ended. Go back to the site and start again.',
    offline: 'Connection lost. Retrying…',
    cancel: 'Cancel',
    error: 'Sign-in error',
  },
  zh: {
    title: '使用扫码登录',
    wants: '请求登录',
    scan: '请使用扫码 App 扫描二维码',
    cantScan: '无法扫码？请在手机上打开此链接：',
    expiresIn: '剩余时间',
    pending: '等待扫码…',
    scanned: '扫描成功，请在手机上确认登录',
    confirmed: '已确认，正在登录…',
    denied: '你已在手机上拒绝本次登录',
    expired: '二维码已过期，正在刷新…',
    gone: '本次登录请求已结束，请返回原网站重新开始',
    offline: '连接中断，正在重试…',
    cancel: '取消',
    error: '登录出错',
  },
} satisfies Record<Lang, Record<string, string>>;

export interface QrPageInput {
  req: Request;
  uid: string;
  app: { name: string; logoUrl: string | null; homepage: string | null };
  snapshot: QrSnapshot;
  payload: string;
  svg: string;
}

/** The QR page. Server-rendered so it shows a QR before any script runs; qr-page.js keeps it live. */
export function renderQrPage(input: QrPageInput): string {
  const lang = pickLang(input.req);
  const t = TEXT[lang];
  const { app, snapshot } = input;
  const logo = app.logoUrl
    ? `<img class="app-logo" src="${escapeHtml(app.logoUrl)}" alt="" width="48" height="48" referrerpolicy="no-referrer">`
    : `<div class="app-logo placeholder" aria-hidden="true">${escapeHtml(app.name.slice(0, 1).toUpperCase())}</div>`;
  return layout(
    `${t.title} · ${app.name}`,
    `<main class="card qr-card" id="qr-root" data-uid="${escapeHtml(input.uid)}" data-status="${escapeHtml(snapshot.status)}"
      data-expires-at="${snapshot.expiresAt}" data-qr-id="${escapeHtml(snapshot.qrId)}">
      <header class="app">${logo}<div><h1>${escapeHtml(app.name)}</h1><p class="muted">${escapeHtml(t.wants)}</p></div></header>
      <div class="qr-frame"><div id="qr-svg" class="qr" role="img" aria-label="QR code">${input.svg}</div>
        <div class="qr-overlay" id="qr-overlay" hidden><img id="scanner-avatar" alt="" hidden><span id="scanner-name"></span></div></div>
      <p class="instruction">${escapeHtml(t.scan)}</p>
      <p class="status" id="qr-status" role="status" aria-live="polite">${escapeHtml(t[snapshot.status])}</p>
      <p class="countdown">${escapeHtml(t.expiresIn)} <span id="qr-countdown">–</span></p>
      <details class="link"><summary>${escapeHtml(t.cantScan)}</summary><a id="qr-link" href="${escapeHtml(input.payload)}">${escapeHtml(input.payload)}</a></details>
      <form method="post" action="/interaction/${escapeHtml(input.uid)}/abort"><button type="submit" class="secondary">${escapeHtml(t.cancel)}</button></form>
    </main>
    <script type="application/json" id="qr-text">${JSON.stringify(t).replace(/</g, '\\u003c')}</script>`,
    { scripts: ['/static/qr-page.js'], lang: lang === 'zh' ? 'zh-CN' : 'en' },
  );
}

renderQrPage.error = (err: AppError, req: Request): string => {
  const t = TEXT[pickLang(req)];
  return layout(
    t.error,
    `<main class="card error"><h1>${escapeHtml(t.error)}</h1><p class="code">${escapeHtml(err.code)}</p><p>${escapeHtml(err.description)}</p></main>`,
  );
};

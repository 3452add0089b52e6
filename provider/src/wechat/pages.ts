import { escapeHtml, requestIdLine } from '../http/html.js';
import { PAGE_ERRORS, type PageErrorName } from './errcodes.js';
import type { Lang } from './translate.js';

/**
 * HTML of the /connect pages: WeChat's "该链接无法访问" error page and the embedded QR
 * (the iframe wxLogin.js puts on the site's page; provider/public/wechat/frame.js keeps it
 * live). Every dynamic value is escaped; the embedded page's live data travels in a JSON script
 * block that frame.js reads and removes, never in attributes a stylesheet could select on.
 */
const TEXT = {
  zh: {
    unreachable: '该链接无法访问',
    back: '请返回原网站重试。',
    title: '扫码登录',
    scan: '使用扫码 App 扫一扫登录',
    scanned: '扫描成功，请在手机上确认登录',
    confirmed: '已确认，正在登录…',
    denied: '你已取消此次登录',
    expired: '二维码已过期，正在刷新…',
    gone: '本次登录已失效，请刷新页面',
    offline: '连接中断，正在重试…',
    continue: '继续登录',
    cantScan: '无法扫码？在手机上打开链接',
    qrCode: '二维码',
  },
  en: {
    unreachable: 'This link cannot be opened',
    back: 'Go back to the site you came from and try again.',
    title: 'Scan to log in',
    scan: 'Scan with the Saoma app to log in',
    scanned: 'Scanned. Confirm the login on your phone.',
    confirmed: 'Confirmed. Logging you in…',
    denied: 'You cancelled this login.',
    expired: 'QR code expired. Getting a new one…',
    gone: 'This login has expired. Reload the page.',
    offline: 'Connection lost. Retrying…',
    continue: 'Continue',
    cantScan: "Can't scan? Open the link on your phone",
    qrCode: 'QR code',
  },
} satisfies Record<Lang, Record<string, string>>;

function page(lang: Lang, title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
${head}
</head>
<body>
${body}
</body>
</html>`;
}

export function renderErrorPage(reason: PageErrorName, lang: Lang): string {
  const t = TEXT[lang];
  const text = PAGE_ERRORS[reason][lang];
  return page(
    lang,
    t.unreachable,
    '<link rel="stylesheet" href="/connect/embed/frame.css">',
    `<main class="wx-error" data-error="${escapeHtml(reason)}">
      <h1>${escapeHtml(t.unreachable)}</h1>
      <p class="wx-reason">${escapeHtml(text)}</p>
      <p class="wx-hint">${escapeHtml(t.back)}</p>
      ${requestIdLine()}
    </main>`,
  );
}

export interface EmbedPageInput {
  lang: Lang;
  appName: string;
  svg: string;
  payload: string;
  /** `black` (dark text, WeChat's default) or `white` (light text for dark pages). */
  style: 'black' | 'white';
  /** The site's own stylesheet (WeChat's `href`), already vetted. */
  cssHref: string | null;
  config: {
    token: string;
    qrId: string;
    status: string;
    expiresAt: number;
    selfRedirect: boolean;
    parentOrigin: string | null;
  };
}

/** The embedded QR, sized for WeChat's 300×400 iframe; frame.js keeps it live. */
export function renderEmbedPage(input: EmbedPageInput): string {
  const t = TEXT[input.lang];
  const css = ['/connect/embed/frame.css', ...(input.cssHref ? [input.cssHref] : [])]
    .map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`)
    .join('\n');
  const text = { scan: t.scan, scanned: t.scanned, confirmed: t.confirmed, denied: t.denied, expired: t.expired, gone: t.gone, offline: t.offline };
  const json = JSON.stringify({ ...input.config, text }).replace(/</g, '\\u003c');
  return page(
    input.lang,
    t.title,
    `${css}\n<script src="/connect/embed/frame.js" defer></script>`,
    `<main class="impowerBox wx-embed wx-${input.style}" id="wx-root" data-status="${escapeHtml(input.config.status)}">
      <h1 class="title">${escapeHtml(t.title)}</h1>
      <div class="qrcode wx-qr" id="wx-qr" role="img" aria-label="${escapeHtml(t.qrCode)}">${input.svg}</div>
      <div class="info">
        <p class="status" id="wx-status" role="status" aria-live="polite">${escapeHtml(t.scan)}</p>
        <p class="wx-app">「${escapeHtml(input.appName)}」</p>
        <button type="button" class="wx-continue" id="wx-continue" hidden>${escapeHtml(t.continue)}</button>
        <details class="wx-link"><summary>${escapeHtml(t.cantScan)}</summary><a id="wx-qr-link" href="${escapeHtml(input.payload)}" target="_blank" rel="noopener">${escapeHtml(input.payload)}</a></details>
      </div>
    </main>
    <script type="application/json" id="wx-config">${json}</script>`,
  );
}

import { currentRequestId } from '../log.js';

/** Minimal server-side HTML helpers: every dynamic value goes through escapeHtml. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function layout(title: string, body: string, opts: { scripts?: string[]; lang?: string } = {}): string {
  const scripts = (opts.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}" defer></script>`).join('');
  return `<!doctype html>
<html lang="${escapeHtml(opts.lang ?? 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/static/saoma.css">
${scripts}
</head>
<body>
${body}
</body>
</html>`;
}

/**
 * The one error card every HTML surface shows (QR page, provider errors, rate limits, the
 * fallback): a title, the error code, what to do, and the request id (log.ts) to quote when
 * reporting it. Pages wrap it in their own layout.
 */
export function errorCard(e: { code: string; description: string }, opts: { title: Text; hint?: Text }): string {
  const hint = opts.hint ? `<p class="hint">${bilingual(opts.hint)}</p>` : '';
  return `<main class="card error"><h1>${bilingual(opts.title)}</h1><p class="code">${escapeHtml(e.code)}</p><p>${escapeHtml(e.description)}</p>${hint}${requestIdLine()}</main>`;
}

/** A text in one language, or English and Chinese side by side (`[en, zh]`). */
export type Text = string | readonly [en: string, zh: string];

/** The Chinese half marked as Chinese, so screen readers switch voice (WCAG 3.1.2). */
export const bilingual = (text: Text) =>
  typeof text === 'string' ? escapeHtml(text) : `${escapeHtml(text[0])} · <span lang="zh-CN">${escapeHtml(text[1])}</span>`;

/** The same as plain text (a page <title>). */
export const plainText = (text: Text) => (typeof text === 'string' ? text : `${text[0]} · ${text[1]}`);

/** "Request id: …" under an error, while a request is served. */
export function requestIdLine(): string {
  const id = currentRequestId();
  return id ? `<p class="request-id">${bilingual(['Request id', '请求编号'])}: <code>${escapeHtml(id)}</code></p>` : '';
}

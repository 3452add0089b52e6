/** Minimal server-side HTML helpers: every dynamic value goes through escapeHtml. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
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
 * fallback): a title, the error code and what to do. Pages wrap it in their own layout.
 */
export function errorCard(e: { code: string; description: string }, opts: { title: string; hint?: string }): string {
  const hint = opts.hint ? `<p class="hint">${escapeHtml(opts.hint)}</p>` : '';
  return `<main class="card error"><h1>${escapeHtml(opts.title)}</h1><p class="code">${escapeHtml(e.code)}</p><p>${escapeHtml(e.description)}</p>${hint}</main>`;
}

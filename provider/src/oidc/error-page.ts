import { escapeHtml, layout } from '../http/html.js';

/** The provider's own error page (bad client, bad redirect_uri...): never a redirect, never a stack. */
export function renderErrorPage(out: Record<string, string>, _error: unknown): string {
  const title = 'Sign-in error · 登录出错';
  return layout(
    title,
    `<main class="card error">
      <h1>Sign-in error · <span lang="zh-CN">登录出错</span></h1>
      <p class="code">${escapeHtml(out.error ?? 'server_error')}</p>
      <p>${escapeHtml(out.error_description ?? 'Something went wrong.')}</p>
      <p class="hint">Go back to the site you came from and try again. · <span lang="zh-CN">请返回原网站重试。</span></p>
    </main>`,
  );
}

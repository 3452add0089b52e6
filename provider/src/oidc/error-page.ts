import { errorCard, layout } from '../http/html.js';

/** The provider's own error page (bad client, bad redirect_uri...): never a redirect, never a stack. */
export function renderErrorPage(out: Record<string, string>, _error: unknown): string {
  const title = 'Sign-in error · 登录出错';
  return layout(
    title,
    errorCard(
      { code: out.error ?? 'server_error', description: out.error_description ?? 'Something went wrong.' },
      { title, hint: 'Go back to the site you came from and try again. · 请返回原网站重试。' },
    ),
  );
}

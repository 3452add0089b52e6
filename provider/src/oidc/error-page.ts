import { errorCard, layout, plainText } from '../http/html.js';

const TITLE = ['Sign-in error', '登录出错'] as const;

/** The provider's own error page (bad client, bad redirect_uri...): never a redirect, never a stack. */
export function renderErrorPage(out: { error?: string; error_description?: string }, _error: unknown): string {
  return layout(
    plainText(TITLE),
    errorCard(
      { code: out.error ?? 'server_error', description: out.error_description ?? 'Something went wrong.' },
      { title: TITLE, hint: ['Go back to the site you came from and try again.', '请返回原网站重试。'] },
    ),
  );
}

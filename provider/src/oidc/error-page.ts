import { bilingual, errorCard, layout, plainText } from '../http/html.js';

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

const SIGNED_OUT = ['Signed out', '已退出登录'] as const;

/**
 * After /session/end without a way back to the site (no post_logout_redirect_uri): Saoma's own
 * page instead of oidc-provider's unstyled English one. Signing out here ends the provider's
 * session; the site's own session is the site's to end.
 */
export function renderSignedOutPage(): string {
  return layout(
    plainText(SIGNED_OUT),
    `<main class="card"><h1>${bilingual(SIGNED_OUT)}</h1><p>${bilingual(['You can close this page.', '可以关闭此页面。'])}</p></main>`,
  );
}

import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * Every login asks for `openid`: a request without it is refused with `invalid_scope` before
 * any QR is shown or any phone is asked (issue 13, item 4).
 *
 * Why refuse rather than serve plain OAuth 2.0: what a site can do with Saoma's tokens is read
 * who logged in (`/me`, the ID token), and both are OpenID Connect; an access token without
 * `openid` would unlock nothing, after the person had already confirmed on the phone.
 *
 * Installed as oidc-provider's `extraParams.scope` validator, which runs on every
 * authorization and pushed authorization request after the client and redirect_uri are
 * checked (oidc-provider 9.13 lib/actions/authorization/index.js `checkExtraParams`), so the
 * error goes back to the site's redirect_uri as an OAuth error (PAR: a 400 JSON error).
 */
export function requireOpenidScope(_ctx: KoaContextWithOIDC, scope: string | undefined): void {
  if (!scope?.split(' ').includes('openid')) {
    throw new errors.InvalidScope('every request must include the openid scope (Saoma serves OpenID Connect logins only)', 'openid');
  }
}

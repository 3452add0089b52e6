import Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { PageErrorName } from './errcodes.js';
import { renderErrorPage } from './pages.js';
import type { Tombstones } from './tombstones.js';
import { callbackUrl, langOf, redirectAllowed, WECHAT_RESPONSE_MODE } from './translate.js';

/**
 * What the WeChat facade changes inside oidc-provider, installed once per provider:
 *
 * 1. The `wechat` response mode. /connect/qrconnect becomes an ordinary authorization request
 *    with `response_mode=wechat`, so the QR page, the phone approval, the single-use 600 s
 *    AuthorizationCode and the Grant are exactly those of OIDC. The mode only shapes the last
 *    hop the WeChat way: `redirect_uri?code&state` (no `iss`), `redirect_uri?state` when the
 *    person denied, and an error page (never a redirect) for anything else.
 *
 * 2. The callback-domain redirect rule. oidc-provider checks redirect_uri against the client's
 *    registered list (`Client#redirectUriAllowed`, a synchronous method with no request
 *    argument). WeChat apps register a domain instead, so for requests marked `wechat` (read
 *    from the request context oidc-provider keeps in AsyncLocalStorage, `Provider.ctx`) the
 *    rule becomes WeChat's (translate.ts `redirectAllowed`); every other request keeps
 *    oidc-provider's own rule untouched. The callback domain is not OIDC metadata, so
 *    `Client.find` is wrapped to attach it to the client instance (from the same cached
 *    directory the metadata comes from, invalidated on every app change).
 *    Pinned to oidc-provider 9.13 (lib/actions/authorization/response_parameters.js
 *    `checkRedirectUri`, lib/shared/authorization_error_handler.js AD_ACTA_CHECKS).
 *
 * 3. Tombstones for codes and access tokens (tombstones.ts), from the models' own events, so
 *    the WeChat API can still say "expired" or "used" after the store dropped a value.
 */
const CALLBACK_DOMAIN = Symbol('saoma.wechat.callbackDomain');
const installed = new WeakSet<object>();

interface ClientLike {
  clientId: string;
  redirectUris: string[];
  [CALLBACK_DOMAIN]?: string | null;
}
interface ClientClass {
  find(id: string, ...rest: unknown[]): Promise<ClientLike | undefined>;
  prototype: { redirectUriAllowed(this: ClientLike, uri: string): boolean };
}
interface TokenLike {
  jti: string;
  exp?: number;
  expiration: number;
}

/** True while oidc-provider is handling an authorization request marked `response_mode=wechat`. */
export function isWechatRequest(): boolean {
  const ctx = (Provider as unknown as { ctx?: KoaContextWithOIDC }).ctx;
  if (!ctx) return false;
  const params = ctx.oidc?.params as Record<string, unknown> | undefined;
  const mode = params?.response_mode ?? (ctx.query as Record<string, unknown> | undefined)?.response_mode;
  return mode === WECHAT_RESPONSE_MODE;
}

export function installWechatHooks(provider: Provider, deps: { clients: ClientDirectory; tombstones: Tombstones; log: Logger }): void {
  if (installed.has(provider)) return;
  installed.add(provider);
  const { clients, tombstones, log } = deps;

  provider.registerResponseMode(WECHAT_RESPONSE_MODE, (ctx: KoaContextWithOIDC, redirectUri: string, payload: Record<string, unknown>) => {
    const out = payload as { code?: string; state?: string; error?: string };
    const state = out.state ?? '';
    if (out.code || out.error === 'access_denied') {
      ctx.status = 302;
      ctx.redirect(callbackUrl(redirectUri, { code: out.code, state }));
      return;
    }
    // WeChat never sends the browser back with an error: it shows one.
    const reason: PageErrorName = out.error === 'invalid_scope' ? 'invalid_scope' : 'authorization_failed';
    const params = ctx.oidc?.params as Record<string, unknown> | undefined;
    ctx.status = ctx.status >= 400 ? ctx.status : 400;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderErrorPage(reason, langOf(params?.ui_locales, ctx.get('accept-language')));
  });

  const Client = provider.Client as unknown as ClientClass;
  const find = Client.find.bind(Client);
  Client.find = async function findWithCallbackDomain(id: string, ...rest: unknown[]) {
    const client = await find(id, ...rest);
    if (client) client[CALLBACK_DOMAIN] = (await clients.get(client.clientId))?.callbackDomain ?? null;
    return client;
  };
  const registeredRule = Client.prototype.redirectUriAllowed;
  Client.prototype.redirectUriAllowed = function redirectUriAllowed(this: ClientLike, uri: string) {
    if (!isWechatRequest()) return registeredRule.call(this, uri);
    return redirectAllowed(uri, { callbackDomain: this[CALLBACK_DOMAIN] ?? null, redirectUris: this.redirectUris });
  };

  // A write that fails only costs the nicer error code later; it must not fail the login.
  const remember = (kind: 'code' | 'access_token', token: TokenLike, used?: true) => {
    const exp = token.exp ?? Math.floor(Date.now() / 1000) + token.expiration;
    tombstones.record(kind, token.jti, { exp, ...(used ? { used } : {}) }).catch((err: unknown) => log.warn({ err }, 'wechat tombstone write failed'));
  };
  provider.on('authorization_code.saved', (code: TokenLike) => remember('code', code));
  provider.on('authorization_code.consumed', (code: TokenLike) => remember('code', code, true));
  provider.on('access_token.saved', (token: TokenLike) => remember('access_token', token));
}

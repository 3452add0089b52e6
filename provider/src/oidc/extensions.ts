import { createRequire } from 'node:module';
import Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { verifySecret } from '../accounts/secrets.js';
import type { ClientDirectory } from '../apps/directory.js';
import { AppError } from '../errors.js';
import type { RateLimits } from '../http/rate-limit.js';
import { retryAfterOf } from '../http/rate-limit.js';
import { currentRequestId, type Logger } from '../log.js';
import type { PageErrorName } from '../wechat/errcodes.js';
import { renderErrorPage as renderWechatErrorPage } from '../wechat/pages.js';
import type { Tombstones } from '../wechat/tombstones.js';
import { callbackUrl, langOf, redirectAllowed, WECHAT_RESPONSE_MODE } from '../wechat/translate.js';
import type { AuthMethodCheck } from './client-auth.js';
import { nameRoute } from '../metrics/http.js';
import { ClientAuthRateLimited, serveOutagesAs503 } from './oauth-errors.js';

/**
 * Everything Saoma changes inside oidc-provider, in one place and one order. Written against
 * oidc-provider 9.13 (lib/models/client.js, lib/actions/authorization/response_parameters.js
 * `checkRedirectUri`, lib/shared/authorization_error_handler.js AD_ACTA_CHECKS,
 * lib/helpers/configuration.js); `checkExtensionPoints` refuses to start on a version whose
 * shape differs, rather than running with a patch silently missing.
 *
 * 1. `Client.find` attaches the app's WeChat callback domain to the client instance (it is not
 *    OIDC metadata), from the cached app directory the metadata comes from.
 * 2. `Client#redirectUriAllowed`: for an authorization request marked `response_mode=wechat`
 *    (read from the request context oidc-provider keeps in AsyncLocalStorage, `Provider.ctx`)
 *    the rule is WeChat's callback domain (wechat/translate.ts); every other request keeps
 *    oidc-provider's own exact-match rule.
 * 3. `Client#compareClientSecret`: AppSecrets are stored hashed (oidc-provider would compare
 *    plain text); after a rotation with a grace period the previous secret passes until its
 *    deadline; every check goes through the AppSecret rate limits (http/rate-limit.ts),
 *    whoever calls it (token, introspection, revocation, the WeChat API); inside oidc-provider
 *    the app's registered authentication method is enforced (client-auth.ts).
 * 4. The `wechat` response mode: shapes the last hop of a WeChat-style login the WeChat way.
 * 5. The request: its JSON error bodies name it (`request_id`, as ours do: http/render.ts), and
 *    metrics count it under the endpoint's path template (`/auth/:uid`, not the URL).
 * 6. Listeners: server errors logged; outages answered 503 (oauth-errors.ts); tombstones for
 *    codes and access tokens so the WeChat API can still say "expired" or "used".
 */
const PINNED_MAJOR = 9;

interface ClientLike {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  [CALLBACK_DOMAIN]?: string | null;
}
interface ClientClass {
  find(id: string, ...rest: unknown[]): Promise<ClientLike | undefined>;
  prototype: {
    redirectUriAllowed(this: ClientLike, uri: string): boolean;
    compareClientSecret(this: ClientLike, actual: string): Promise<boolean>;
  };
}
interface TokenLike {
  jti: string;
  exp?: number;
  expiration: number;
}

const CALLBACK_DOMAIN = Symbol('saoma.callbackDomain');

/** The installed oidc-provider has every API the extensions below replace or call. */
function checkExtensionPoints(provider: Provider): void {
  const version = (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string }).version;
  const Client = provider.Client as unknown as Partial<ClientClass>;
  const missing = [
    Number(version.split('.')[0]) === PINNED_MAJOR ? null : `major version ${PINNED_MAJOR}`,
    typeof Client.find === 'function' ? null : 'Client.find',
    typeof Client.prototype?.redirectUriAllowed === 'function' ? null : 'Client#redirectUriAllowed',
    typeof Client.prototype?.compareClientSecret === 'function' ? null : 'Client#compareClientSecret',
    typeof provider.registerResponseMode === 'function' ? null : 'registerResponseMode',
    'ctx' in Provider ? null : 'Provider.ctx',
  ].filter(Boolean);
  if (missing.length) {
    throw new Error(
      `oidc-provider ${version} lacks ${missing.join(', ')}: Saoma's extensions (provider/src/oidc/extensions.ts) are written against ${PINNED_MAJOR}.13`,
    );
  }
}

/** True while oidc-provider is handling an authorization request marked `response_mode=wechat`. */
export function isWechatRequest(): boolean {
  const ctx = (Provider as unknown as { ctx?: KoaContextWithOIDC }).ctx;
  if (!ctx) return false;
  // The context of a request oidc-provider has not routed yet has no `oidc`, whatever its type says.
  const params = (ctx.oidc as KoaContextWithOIDC['oidc'] | undefined)?.params;
  const mode = params?.response_mode ?? (ctx.query as Record<string, unknown> | undefined)?.response_mode;
  return mode === WECHAT_RESPONSE_MODE;
}

export interface ExtensionDeps {
  clients: ClientDirectory;
  /** Each app's registered client authentication method (client-auth.ts). */
  authMethod: AuthMethodCheck;
  limits: Pick<RateLimits, 'verifyClientSecret' | 'currentIp'>;
  tombstones: Tombstones;
  log: Logger;
}

export function installExtensions(provider: Provider, deps: ExtensionDeps): void {
  checkExtensionPoints(provider);
  const { clients, limits, tombstones, authMethod, log } = deps;
  const Client = provider.Client as unknown as ClientClass;

  // 1. The callback domain on every client instance.
  const find = Client.find.bind(Client);
  Client.find = async function findWithCallbackDomain(id: string, ...rest: unknown[]) {
    const client = await find(id, ...rest);
    if (client) client[CALLBACK_DOMAIN] = (await clients.get(client.clientId))?.callbackDomain ?? null;
    return client;
  };

  // 2. WeChat's redirect rule for WeChat-style requests only.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
  const registeredRule = Client.prototype.redirectUriAllowed;
  Client.prototype.redirectUriAllowed = function redirectUriAllowed(this: ClientLike, uri: string) {
    if (!isWechatRequest()) return registeredRule.call(this, uri);
    return redirectAllowed(uri, { callbackDomain: this[CALLBACK_DOMAIN] ?? null, redirectUris: this.redirectUris });
  };

  // 3. Hashed AppSecrets (and a rotated-out one during its grace period), behind the limits,
  //    then the app's registered method (inside the guard: a right secret sent the other way
  //    is invalid_client, but not a wrong secret for the limits).
  Client.prototype.compareClientSecret = async function compareClientSecret(this: ClientLike, actual: string) {
    const matches = async () => {
      if (typeof actual !== 'string') return false;
      if (verifySecret(actual, this.clientSecret)) return true;
      const previous = (await clients.get(this.clientId))?.previousSecret;
      return !!previous && previous.expiresAt.getTime() > Date.now() && verifySecret(actual, previous.hash);
    };
    const check = async () => {
      const ok = await matches();
      const ctx = Provider.ctx;
      if (ok && ctx) await authMethod(this.clientId, ctx);
      return ok;
    };
    try {
      return await limits.verifyClientSecret(this.clientId, limits.currentIp(), check);
    } catch (err) {
      const ctx = Provider.ctx;
      // Outside oidc-provider (the WeChat API) the caller renders the limit in its own shape.
      if (!ctx || !(err instanceof AppError && err.code === 'rate_limited')) throw err;
      const retryAfter = retryAfterOf(err);
      ctx.set('Retry-After', String(retryAfter));
      ctx.set('Cache-Control', 'no-store');
      throw new ClientAuthRateLimited(`Too many failed client authentications for this client; try again in ${retryAfter} seconds.`);
    }
  };

  // 4. The `wechat` response mode: /connect/qrconnect is an ordinary authorization request whose
  //    last hop is WeChat's: `redirect_uri?code&state` (no `iss`), `redirect_uri?state` when the
  //    person denied, and an error page (never a redirect) for anything else.
  provider.registerResponseMode(WECHAT_RESPONSE_MODE, (ctx: KoaContextWithOIDC, redirectUri: string, payload: Record<string, unknown>) => {
    const out = payload as { code?: string; state?: string; error?: string };
    const state = out.state ?? '';
    if (out.code || out.error === 'access_denied') {
      ctx.status = 302;
      ctx.redirect(callbackUrl(redirectUri, { code: out.code, state }));
      return;
    }
    const reason: PageErrorName = out.error === 'invalid_scope' ? 'invalid_scope' : 'authorization_failed';
    const params = ctx.oidc.params;
    ctx.status = ctx.status >= 400 ? ctx.status : 400;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderWechatErrorPage(reason, langOf(params?.ui_locales, ctx.get('accept-language')));
  });

  // 5. The request. Registered before the 503 middleware below, so it runs outermost and sees
  //    the final body.
  provider.use(async (ctx, next) => {
    await next();
    const route = (ctx.oidc as { route?: string } | undefined)?.route;
    if (route) nameRoute(ctx.req, endpointPath(provider, route));
    const body = ctx.body as Record<string, unknown> | undefined;
    const requestId = currentRequestId();
    if (requestId && ctx.status >= 400 && body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body.error === 'string') {
      ctx.body = { ...body, request_id: requestId };
    }
  });

  // 6. Listeners.
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc-provider server error'));
  serveOutagesAs503(provider);
  // A tombstone write that fails only costs the nicer WeChat error code later: never the login.
  const remember = (kind: 'code' | 'access_token', token: TokenLike, used?: true) => {
    const exp = token.exp ?? Math.floor(Date.now() / 1000) + token.expiration;
    tombstones.record(kind, token.jti, { exp, ...(used ? { used } : {}) }).catch((err: unknown) => log.warn({ err }, 'wechat tombstone write failed'));
  };
  provider.on('authorization_code.saved', (code: TokenLike) => remember('code', code));
  provider.on('authorization_code.consumed', (code: TokenLike) => remember('code', code, true));
  provider.on('access_token.saved', (token: TokenLike) => remember('access_token', token));
}

/** An endpoint's path template (`resume` → `/auth/:uid`), or its name when it has none. */
function endpointPath(provider: Provider, route: string): string {
  try {
    return provider.pathFor(route);
  } catch {
    return `oidc:${route}`;
  }
}

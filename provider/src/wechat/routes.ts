import { Router } from 'express';
import type { ClientDirectory } from '../apps/directory.js';
import type { RateLimits } from '../http/rate-limit.js';
import type { Logger } from '../log.js';
import type { QrImages } from '../login/images.js';
import type { Logins } from '../login/login.js';
import { connectRoutes } from './connect-routes.js';
import type { Embeds } from './embed.js';
import { snsRoutes } from './sns-routes.js';
import type { WechatTokens } from './tokens.js';

export interface WechatDeps {
  clients: ClientDirectory;
  logins: Logins;
  embeds: Embeds;
  tokens: WechatTokens;
  images: QrImages;
  issuer: string;
  /** oidc-provider's authorization endpoint path (`provider.pathFor('authorization')`). */
  authorizationPath: string;
  limits: Pick<RateLimits, 'qrCreate' | 'embedTokens' | 'wechatFailures' | 'wechatQuota'>;
  log: Logger;
}

/**
 * The WeChat-compatible surface (API.md §4): /connect/qrconnect, /connect/wxLogin.js (+ the
 * embedded QR's endpoints under /connect/embed) and /sns/*. It adapts; the rules it relies on
 * live elsewhere: the login core (login/), oidc-provider with its extensions (oidc/extensions.ts:
 * the `wechat` response mode, the callback-domain redirect rule, tombstones).
 */
export function wechatRoutes(deps: WechatDeps): Router {
  const { limits, log } = deps;
  const router = Router();
  router.use(connectRoutes({ ...deps, qrCreate: limits.qrCreate, embedTokens: limits.embedTokens }));
  router.use(snsRoutes({ tokens: deps.tokens, failures: limits.wechatFailures, quota: (appId) => limits.wechatQuota(appId), log }));
  return router;
}

import { Router, type RequestHandler } from 'express';
import type Provider from 'oidc-provider';
import type { Audit } from '../accounts/audit.js';
import type { Authorizations } from '../accounts/authorizations.js';
import type { Users } from '../accounts/users.js';
import type { Logger } from '../log.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { KeyMaterial } from '../oidc/keys.js';
import type { QrService } from '../login/store.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { connectRoutes } from './connect-routes.js';
import { createEmbeds } from './embed.js';
import { installWechatHooks } from './hooks.js';
import { snsRoutes } from './sns-routes.js';
import { createTombstones } from './tombstones.js';
import { createWechatTokens } from './tokens.js';

export interface WechatDeps {
  provider: Provider;
  qr: QrService;
  store: EphemeralStore;
  clients: ClientDirectory;
  users: Users;
  audit: Audit;
  authorizations: Authorizations;
  prisma: PrismaClient;
  keys: Pick<KeyMaterial, 'identifierSecret'>;
  issuer: string;
  log: Logger;
  /** The per-appid limit on /sns (http/rate-limit.ts), applied once the parameters are parsed. */
  snsLimit?: RequestHandler;
}

/**
 * The WeChat-compatible facade (API.md §4): /connect/qrconnect, /connect/wxLogin.js (+ the
 * embedded QR's endpoints under /connect/embed) and /sns/*. Mount it before
 * `provider.callback()`: it also installs its hooks into oidc-provider (hooks.ts: the
 * `wechat` response mode, the callback-domain redirect rule, expiry tombstones), once per
 * provider.
 */
export function wechatRoutes(deps: WechatDeps): Router {
  const { provider, qr, store, clients, users, audit, authorizations, prisma, keys, issuer, log } = deps;
  const tombstones = createTombstones(store);
  installWechatHooks(provider, { clients, tombstones, log });
  const tokens = createWechatTokens({ provider, users, clients, prisma, store, identifierSecret: keys.identifierSecret, tombstones });
  const embeds = createEmbeds({ provider, qr, store, clients, authorizations, audit });

  const router = Router();
  router.use(connectRoutes({ clients, qr, store, embeds, issuer, authorizationPath: provider.pathFor('authorization'), log }));
  router.use(snsRoutes({ tokens, log, limit: deps.snsLimit }));
  return router;
}

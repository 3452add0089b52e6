import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler } from 'express';
import type Provider from 'oidc-provider';
import { createAudit } from './accounts/audit.js';
import { createAuthorizations } from './accounts/authorizations.js';
import { createUsers } from './accounts/users.js';
import { APPS_CHANGED, createApps } from './apps/registry.js';
import { bootstrapAdmin } from './admin/admins.js';
import { createAdministration } from './admin/administration.js';
import { adminHttp } from './admin/http.js';
import type { Config } from './config.js';
import { AppError } from './errors.js';
import { finalErrorHandler, jsonErrorHandler, serveOutagesAs503, toAppError } from './http/errors.js';
import { createRateLimits } from './http/rate-limit.js';
import { isolatedPageHeaders, requireSameOrigin, securityHeaders } from './http/security.js';
import type { Logger } from './log.js';
import { createDeviceTokens, DEVICE_REVOKED } from './mobile/device-tokens.js';
import { mobileRoutes } from './mobile/routes.js';
import { phoneWebRoutes } from './mobile/web.js';
import { createClientDirectory } from './apps/directory.js';
import { enforceClientAuthMethods } from './oidc/client-auth.js';
import { loadKeyMaterial, signingAlgorithms, type KeyMaterial } from './oidc/keys.js';
import { createOidcProvider } from './oidc/provider.js';
import { renderQrPage } from './oidc/qr-page.js';
import { qrRoutes } from './oidc/interaction-routes.js';
import { createQrService } from './login/store.js';
import { wechatRoutes } from './wechat/routes.js';
import { openDatabase, type Database } from './storage/database.js';
import type { EphemeralStore } from './storage/ephemeral.js';
import { createMemoryStore } from './storage/ephemeral.memory.js';
import { createRedisStore } from './storage/ephemeral.redis.js';

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));


/** Everything one provider instance is made of, wired once. Tests build it the same way. */
export async function createSaoma(config: Config, log: Logger, opts: { inMemoryDatabase?: boolean; keys?: KeyMaterial } = {}) {
  const db: Database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    migrate: config.MIGRATE_ON_START,
    inMemory: opts.inMemoryDatabase,
  });
  const redisStore = config.redis
    ? createRedisStore({
        connection: config.redis,
        prefix: config.REDIS_PREFIX,
        onConnectionError: (err, connection) => log.warn({ err: err.message, connection }, 'redis connection error'),
      })
    : null;
  const store: EphemeralStore = redisStore ?? createMemoryStore();
  const keys = opts.keys ?? (await loadKeyMaterial(config, log));
  const { prisma } = db;

  const clients = createClientDirectory(prisma);
  // Every instance drops its cached client when any instance changes an app.
  const stopListening = await store.subscribe(APPS_CHANGED, (appId) => clients.invalidate(appId));
  const apps = createApps(prisma, async (appId) => {
    clients.invalidate(appId);
    await store.publish(APPS_CHANGED, appId);
  }, store, signingAlgorithms(keys.jwks));
  const users = createUsers(prisma);
  const audit = createAudit(prisma, log);
  const authorizations = createAuthorizations(prisma, store);
  await bootstrapAdmin(prisma, config, log);
  const administration = createAdministration({ prisma, apps, audit, authorizations, qrTtlSeconds: config.QR_TTL });
  const tokens = createDeviceTokens(prisma, (sessionId) => store.publish(DEVICE_REVOKED, sessionId));
  const stopDeviceListener = await store.subscribe(DEVICE_REVOKED, (sessionId) => tokens.forget(sessionId));
  // Invalidations published while pub/sub was down are lost: start these caches afresh.
  const stopResubscribed = store.onResubscribed(() => {
    clients.invalidate();
    tokens.forgetAll();
  });
  const qr = createQrService(store, {
    qrTtlMs: config.QR_TTL * 1000,
    completeTtlMs: config.QR_COMPLETE_TTL * 1000,
    interactionTtlMs: 3600 * 1000,
    retentionMs: 10 * 60 * 1000,
  });
  const provider = createOidcProvider({ issuer: config.issuer, keys, store, prisma, clients, users, trustProxy: config.TRUST_PROXY });
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc-provider server error'));
  // Counted on the store's Redis connection (all instances together), in memory when embedded.
  const limits = createRateLimits({ settings: config, redis: redisStore?.redis, prefix: config.REDIS_PREFIX, log });
  // The method check runs inside the rate limit's guard: a right secret by the wrong method is not a wrong secret.
  enforceClientAuthMethods(provider, { clients, apps, audit, log });
  limits.guardClientSecrets(provider);
  serveOutagesAs503(provider);

  const app = express();
  app.disable('x-powered-by');
  // One proxy hop: the address it appends to X-Forwarded-For, not the client-supplied left-most one.
  app.set('trust proxy', config.TRUST_PROXY ? 1 : false);
  app.use(securityHeaders({ issuer: config.issuer }));
  app.use(limits.context);
  app.use('/static', express.static(PUBLIC_DIR, { maxAge: '1h', index: false }));
  app.get('/healthz', async (_req, res) => {
    const [database, ephemeral] = await Promise.all([db.ping(), store.ping()]);
    res.status(database && ephemeral ? 200 : 503).json({ status: database && ephemeral ? 'ok' : 'degraded', database: db.kind, databaseUp: database, store: store.kind, storeUp: ephemeral });
  });
  app.get(['/auth', '/interaction/:uid', '/interaction/:uid/qr'], limits.qrCreate);
  app.post('/auth', limits.qrCreate);
  app.post(['/token', '/token/introspection', '/token/revocation'], limits.tokenEndpoint);
  app.post('/interaction/:uid/abort', requireSameOrigin({ issuer: config.issuer }));
  // Aborted when shutdown begins: SSE streams end cleanly and long-polls answer at once.
  const shutdown = new AbortController();
  app.use(qrRoutes({ provider, qr, store, clients, audit, authorizations, issuer: config.issuer, shutdown: shutdown.signal }));
  app.use('/interaction', interactionErrorHandler(log));
  app.use('/api/mobile', limits.mobile, mobileRoutes({ users, tokens, qr, clients, authorizations, audit, scanLimit: limits.scans }), jsonErrorHandler(log));
  app.use(['/app', '/q'], isolatedPageHeaders);
  app.use(phoneWebRoutes());
  app.get(['/connect/qrconnect', '/connect/embed/:token/qr'], limits.qrCreate);
  app.use(wechatRoutes({ provider, qr, store, clients, users, audit, authorizations, prisma, keys, issuer: config.issuer, log, snsLimit: limits.wechat }));
  app.use(adminHttp(administration, { store, issuer: config.issuer, log, adminLogin: limits.adminLogin }));
  // Errors no surface handled (e.g. a malformed path parameter on /q/:qrId): never Express's
  // stack page. Errors skip provider.callback() anyway; it stays the last layer.
  app.use(finalErrorHandler(log));
  app.use(provider.callback());

  const admin = administration.api;

  return {
    app,
    provider: provider as Provider,
    db,
    store,
    keys,
    apps,
    users,
    admin,
    administration,
    qr,
    limits,
    /** Ends streams and wakes long-polls; call when the server stops accepting connections. */
    beginShutdown: () => shutdown.abort(),
    async close() {
      shutdown.abort();
      stopResubscribed();
      await Promise.all([stopListening(), stopDeviceListener()]).catch(() => {});
      await audit.settled();
      await store.close();
      await db.close();
    },
  };
}

export type Saoma = Awaited<ReturnType<typeof createSaoma>>;

/** Interaction pages get an HTML error page; their JSON endpoints get the JSON error shape. */
function interactionErrorHandler(log: Logger): ErrorRequestHandler {
  const json = jsonErrorHandler(log);
  return (err, req, res, next) => {
    const wantsPage = req.method !== 'GET' || !/\/qr(\/|$)/.test(req.path);
    if (!wantsPage) return json(err, req, res, next);
    const appError = toAppError(err);
    if (appError.status >= 500) log.error({ err, url: req.originalUrl }, 'interaction failed');
    if (res.headersSent) return void res.end();
    res.status(appError.status).set(appError.headers).set('Cache-Control', 'no-store').type('html').send(renderQrPage.error(appError as AppError, req));
  };
}

export const publicDir = () => path.resolve(PUBLIC_DIR);

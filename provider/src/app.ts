import { fileURLToPath } from 'node:url';
import express from 'express';
import type Provider from 'oidc-provider';
import type { Registry } from 'prom-client';
import { bootstrapAdmin } from './admin/admins.js';
import { requireAdminToken } from './admin/api/bearer.js';
import { createConsoleSessions } from './admin/console/session.js';
import { adminHttp } from './admin/http.js';
import type { Config } from './config.js';
import { createHealth } from './http/health.js';
import { outageSource } from './http/outage.js';
import { createRateLimits } from './http/rate-limit.js';
import { errorHandler, pageOrJson, plainErrorPage, renderJson } from './http/render.js';
import { requestIds } from './http/request-id.js';
import { isolatedPageHeaders, securityHeaders } from './http/security.js';
import type { Logger } from './log.js';
import { systemClock, type Clock } from './login/clock.js';
import { createQrImages } from './login/images.js';
import { createLogins } from './login/login.js';
import { appLinkRoutes } from './mobile/app-links.js';
import { DEVICE_REVOKED } from './mobile/device-tokens.js';
import { phoneSurface } from './mobile/surface.js';
import { phoneWebRoutes } from './mobile/web.js';
import { createAuthMethodCheck } from './oidc/client-auth.js';
import { installExtensions } from './oidc/extensions.js';
import { createGrantIssuer } from './oidc/grant-issuer.js';
import { interactionErrors, interactionRoutes } from './oidc/interaction-routes.js';
import { loadKeyMaterial, signingAlgorithms, type KeyMaterial } from './oidc/keys.js';
import { oauthErrorHandler } from './oidc/oauth-errors.js';
import { createOidcProvider } from './oidc/provider.js';
import { createProviderHost } from './oidc/provider-host.js';
import { cookieSigner } from './oidc/cookie-keys.js';
import { keyCipher } from './keys/cipher.js';
import { createKeyring } from './keys/keyring.js';
import { metricsRoutes, registrySource, type MetricsSource } from './metrics/endpoint.js';
import { httpMetrics, routeLabel } from './metrics/http.js';
import { createMetrics } from './metrics/metrics.js';
import { createServices } from './services.js';
import { openDatabase, type Database } from './storage/database.js';
import type { EphemeralStore } from './storage/ephemeral.js';
import { createMemoryStore } from './storage/ephemeral.memory.js';
import { createRedisStore } from './storage/ephemeral.redis.js';
import { createEmbeds } from './wechat/embed.js';
import { wechatRoutes } from './wechat/routes.js';
import { createTombstones } from './wechat/tombstones.js';
import { createWechatTokens } from './wechat/tokens.js';

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** Open waits (SSE streams, long-polls) on one login: a page, a reconnecting stream, a second tab. */
const WAITS_PER_LOGIN = 4;

/**
 * Everything one provider instance is made of, wired once: storage, the services behind every
 * surface (services.ts), oidc-provider with Saoma's extensions, the login core, and the
 * surfaces — each mounting its routes and its error renderer — in front of oidc-provider's own.
 * Tests build it the same way (`clock` lets them move time instead of sleeping).
 */
export interface SaomaOptions {
  inMemoryDatabase?: boolean;
  keys?: KeyMaterial;
  clock?: Clock;
  /** Where /metrics reads from: this process's registry, or (a cluster worker) every worker's (metrics/endpoint.ts). */
  metricsSource?: (registry: Registry) => MetricsSource;
}

export async function createSaoma(config: Config, log: Logger, opts: SaomaOptions = {}) {
  const clock = opts.clock ?? systemClock;
  const metrics = createMetrics();
  const db: Database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    migrate: config.MIGRATE_ON_START,
    inMemory: opts.inMemoryDatabase,
    log,
  });
  const redisStore = config.redis
    ? createRedisStore({
        connection: config.redis,
        prefix: config.REDIS_PREFIX,
        onConnectionError: (err, connection) => log.warn({ err: err.message, connection }, 'redis connection error'),
      })
    : null;
  const store: EphemeralStore = redisStore ?? createMemoryStore({ now: () => clock.now() });
  const material = opts.keys ?? (await loadKeyMaterial(config, log));
  const { prisma } = db;

  // Signing and cookie keys live in the database, shared by every instance (keys/keyring.ts);
  // the configured ones (JWKS, COOKIE_KEYS or keys.json) only seed an empty one.
  const keyring = createKeyring({ prisma, store, cipher: keyCipher(material.identifierSecret), clock });
  const started = await keyring.start(material, log);
  const { ignoredKids } = started;
  if (config.JWKS && ignoredKids.length) {
    log.warn(
      { kids: ignoredKids },
      'JWKS names keys the database does not have: the database keys are used (JWKS only seeds an empty database; rotate with keys:rotate)',
    );
  }
  let keys = started.view;

  const services = await createServices({
    config,
    prisma,
    store,
    log,
    signingAlgs: signingAlgorithms(keys.jwks),
    keyring,
    identifierSecret: material.identifierSecret,
  });
  const { apps, clients, users, audit, authorizations, administration, payloads } = services;
  await bootstrapAdmin(prisma, config, log);
  // Phones' device sessions: a revocation on any instance (sign-out, a person disabled) drops them here.
  const devices = services.devices;
  // `user:<id>` (disabled or deleted) also drops their profile, which findAccount would otherwise reuse for seconds.
  const stopDeviceListener = await store.subscribe(DEVICE_REVOKED, (message) => {
    devices.forget(message);
    if (message.startsWith('user:')) users.forgetProfile(message.slice('user:'.length));
  });
  // Revocations published while pub/sub was down are lost: start the caches afresh.
  const stopResubscribed = store.onResubscribed(() => {
    devices.forgetAll();
    users.forgetAllProfiles();
  });

  // Counted on the store's Redis connection (all instances together), in memory when embedded.
  const limits = createRateLimits({ settings: config, redis: redisStore?.redis, prefix: config.REDIS_PREFIX, log, onRefused: metrics.rateLimited });
  const tombstones = createTombstones(store);
  const authMethod = createAuthMethodCheck({ clients, apps, audit, log });
  const cookies = cookieSigner(() => keys.cookieKeys);
  // oidc-provider, then everything Saoma changes inside it (oidc/extensions.ts), in one place;
  // built again whenever the signing keys change (oidc/provider-host.ts).
  const providers = createProviderHost((jwks) => {
    const built = createOidcProvider({
      issuer: config.issuer,
      jwks,
      cookies,
      identifierSecret: material.identifierSecret,
      store,
      payloads,
      clients,
      users,
      trustProxy: config.TRUST_PROXY,
    });
    installExtensions(built, { clients, limits, tombstones, authMethod, log });
    // Outages inside oidc-provider never reach an express error handler: counted here.
    built.on('server_error', (_ctx, err) => {
      const source = outageSource(err);
      if (source) metrics.backendError(source);
    });
    return built;
  }, keys.jwks);
  const stopKeys = await keyring.watch(
    keys,
    (next) => {
      const signingChanged = next.signingFingerprint !== keys.signingFingerprint;
      keys = next; // cookie keys: the signer reads them on every call
      if (!signingChanged) return;
      providers.replace(next.jwks);
      log.info({ kids: next.jwks.keys.map((k) => k.kid) }, 'signing keys changed');
    },
    log,
    started.pending ? material : undefined,
  );
  // Below, the models and interactions of the first instance: any instance serves them alike
  // (shared storage and cookie signer). Only the endpoints sign, and providers.callback serves
  // those with the instance holding the current keys.
  const provider = providers.current;

  // The login core, and what it needs from oidc-provider (the grant port).
  const grants = createGrantIssuer(provider, payloads);
  const logins = createLogins({
    store,
    grants,
    approvals: authorizations,
    people: users,
    audit,
    clock,
    timing: { qrTtlMs: config.QR_TTL * 1000, completeTtlMs: config.QR_COMPLETE_TTL * 1000, retentionMs: 10 * 60 * 1000 },
    waiting: { perLogin: WAITS_PER_LOGIN, perAddress: config.WAITING_PER_ADDRESS },
    onStage: metrics.loginStage,
    onNotified: metrics.notified,
  });
  metrics.setSources({ waiting: () => logins.waiting(), ping: { database: () => db.ping(), store: () => store.ping() } });
  const images = createQrImages(config.issuer, store);
  const embeds = createEmbeds({ logins, store, clients, grants });
  const wechatTokens = createWechatTokens({ provider, users, clients, payloads, identifierSecret: material.identifierSecret, tombstones });
  const phone = phoneSurface({
    services,
    logins,
    clients,
    store,
    issuer: config.issuer,
    requireUserVerification: config.REQUIRE_USER_VERIFICATION,
    scanLimit: limits.scans,
    log,
    now: () => clock.now(),
  });

  const app = express();
  app.disable('x-powered-by');
  // One proxy hop: the address it appends to X-Forwarded-For, not the client-supplied left-most one.
  app.set('trust proxy', config.TRUST_PROXY ? 1 : false);
  app.use(requestIds({ trustProxy: config.TRUST_PROXY }));
  app.use(httpMetrics(metrics, log));
  // Behind the proxy, an https PUBLIC_URL means the browser spoke https even when the proxy
  // forgets X-Forwarded-Proto: cookies (oidc-provider's and the console's) stay Secure.
  if (config.TRUST_PROXY && new URL(config.issuer).protocol === 'https:') {
    app.use((req, _res, next) => {
      req.headers['x-forwarded-proto'] ??= 'https';
      next();
    });
  }
  app.use(securityHeaders({ issuer: config.issuer }));
  app.use(limits.context);
  app.use('/static', routeLabel('/static/*'), express.static(PUBLIC_DIR, { maxAge: '1h', index: false }));
  const health = createHealth({ db, store, log });
  app.use(health.routes); // /healthz, /readyz

  // Operators: Prometheus metrics behind an admin token (or on METRICS_PORT: main.ts).
  const metricsSource = opts.metricsSource?.(metrics.registry) ?? registrySource(metrics.registry);
  app.use(metricsRoutes(metricsSource, [limits.adminLogin, requireAdminToken(administration.tokens)], log));

  // Surfaces: each adapts the services to its protocol and renders its own errors.
  // OAuth (oidc-provider's endpoints): limits in front, rendered in OAuth's shape.
  app.route('/auth').get(limits.qrCreate).post(limits.qrCreate);
  app.post(['/token', '/token/introspection', '/token/revocation'], limits.tokenEndpoint);
  app.use(['/token', '/auth'], oauthOrPageErrors(log));
  // The QR page of an OIDC login.
  app.use(interactionRoutes({ provider, logins, clients, images, issuer: config.issuer, qrCreate: limits.qrCreate }));
  app.use('/interaction', interactionErrors(log));
  // The phone.
  app.use('/api/mobile', limits.mobile, phone.api, errorHandler(log, renderJson));
  app.use(['/app', '/q'], isolatedPageHeaders);
  app.get('/app/sso/:sourceId', limits.signInStart);
  app.use(phone.web); // federated sign-in: /app/sso/:sourceId (+ /callback)
  app.use(phoneWebRoutes());
  app.use(appLinkRoutes(config.nativeApps)); // the organisation's own app: QR links and passkeys
  // WeChat-style sites.
  app.use(
    wechatRoutes({
      clients,
      logins,
      embeds,
      tokens: wechatTokens,
      images,
      issuer: config.issuer,
      authorizationPath: provider.pathFor('authorization'),
      limits,
      log,
    }),
  );
  // Administration.
  app.use(adminHttp(administration, { sessions: createConsoleSessions(store), issuer: config.issuer, log, adminLogin: limits.adminLogin }));
  // Errors no surface handled (e.g. a malformed path parameter on /q/:qrId): never Express's
  // stack page. Errors skip provider.callback() anyway; it stays the last layer.
  app.use(errorHandler(log, pageOrJson(plainErrorPage)));
  app.use(providers.callback);

  return {
    app,
    /** The oidc-provider instance serving now (rebuilt on a signing key rotation). */
    get provider(): Provider {
      return providers.current;
    },
    db,
    store,
    keyring,
    apps,
    users,
    identity: services.identity,
    passkeys: services.passkeys,
    phoneApi: phone.contract,
    admin: administration.api,
    administration,
    logins,
    limits,
    clock,
    /** Readiness first: /readyz answers 503 "shutting down" while everything else still serves. */
    beginDraining: () => health.beginDraining(),
    metrics,
    /** Ends streams and wakes long-polls; call when the server stops accepting connections. */
    beginShutdown: () => logins.shutdown(),
    async close() {
      logins.shutdown();
      await stopKeys();
      stopResubscribed();
      await stopDeviceListener().catch(() => {});
      await services.close();
      await store.close();
      await db.close();
    },
  };
}

/** /token: OAuth's JSON errors; /auth: a page for people, JSON for scripts (it never reaches a site). */
function oauthOrPageErrors(log: Logger): express.ErrorRequestHandler {
  const oauth = oauthErrorHandler(log);
  const page = errorHandler(log, pageOrJson(plainErrorPage));
  return (err, req, res, next) => (req.baseUrl === '/token' ? oauth(err, req, res, next) : page(err, req, res, next));
}

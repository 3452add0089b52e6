import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_REDIS_PORT, DEFAULT_SENTINEL_PORT, parseHostPortList, redisOptionsFromUrl, type RedisConnectionSettings } from './storage/redis-connection.js';

/**
 * Every setting the provider reads, parsed once from the environment. The README's
 * configuration table mirrors this list; keep them in step.
 */
const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A rate limit: "POINTS/SECONDS" (10/900 = 10 per 15 minutes) or "off"; what each counts: http/rate-limit.ts. */
const rateLimit = (fallback: string) =>
  z
    .string()
    .regex(/^(off|[1-9]\d{0,6}\/[1-9]\d{0,6})$/, 'expected POINTS/SECONDS (e.g. 10/900) or "off"')
    .default(fallback)
    .transform((v) => (v === 'off' ? null : { points: Number(v.split('/')[0]), seconds: Number(v.split('/')[1]) }));
/** "host:port,host:port" (port optional) → [{host, port}]; storage/redis-connection.ts. */
const hostPorts = (defaultPort: number) =>
  z.string().transform((v, ctx) => {
    try {
      return parseHostPortList(v, defaultPort);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
/** "a, b,c" → each item checked by `item`. */
const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
const flag = (fallback: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'])
    .default(fallback ? '1' : '0')
    .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface to listen on; 0.0.0.0 to let a phone on the LAN reach it. */
  HOST: z.string().default('127.0.0.1'),
  /** The public base URL (the OIDC issuer, and what QR codes point at). */
  PUBLIC_URL: z.url().optional(),
  /** Unset: embedded PGlite in DATA_DIR/pglite. */
  DATABASE_URL: z.string().optional(),
  /** Unset (and no sentinels or cluster nodes): in-memory ephemeral store (one process). */
  REDIS_URL: z.string().optional(),
  REDIS_PREFIX: z.string().default('saoma:'),
  /** Sentinels to ask for the master (host:port list); REDIS_URL then gives only credentials, db and TLS. */
  REDIS_SENTINELS: hostPorts(DEFAULT_SENTINEL_PORT).optional(),
  /** The Sentinel master group name (default mymaster). */
  REDIS_SENTINEL_NAME: z.string().optional(),
  /** Password of the sentinels themselves (the data nodes' is in REDIS_URL). */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** Redis Cluster seed nodes (host:port list); REDIS_URL then gives only credentials and TLS. */
  REDIS_CLUSTER_NODES: hostPorts(DEFAULT_REDIS_PORT).optional(),
  /** Where embedded data and generated keys live. */
  DATA_DIR: z.string().default('.saoma'),
  QR_TTL: seconds(120),
  /** How long a confirmed/denied QR waits for its browser to complete. */
  QR_COMPLETE_TTL: seconds(60),
  /** Comma-separated cookie signing keys (first signs); shared by all instances. */
  COOKIE_KEYS: z.string().optional(),
  /** JSON Web Key Set (private keys) for signing ID tokens; shared by all instances. */
  JWKS: z.string().optional(),
  /** Secret for openid/unionid derivation; changing it changes every openid. */
  IDENTIFIER_SECRET: z.string().min(16).optional(),
  /** Trust X-Forwarded-* (behind a TLS-terminating proxy). */
  TRUST_PROXY: flag(false),
  MIGRATE_ON_START: flag(true),
  /** Seconds between SIGTERM (readiness 503) and closing the listener, for load balancers to notice. */
  SHUTDOWN_DELAY: z.coerce.number().int().min(0).max(300).default(0),
  /** Worker processes (node:cluster) sharing the port; > 1 needs DATABASE_URL and Redis. */
  WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** HTTPS certificate and key (PEM files); both or neither. */
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  /** First start only: when no admin exists, create this one (both or neither). */
  ADMIN_BOOTSTRAP_USERNAME: z.string().optional(),
  ADMIN_BOOTSTRAP_PASSWORD: z.string().optional(),
  /** A separate listener serving /metrics without a token (a private network's scraper); unset: only /metrics with an admin token on PORT. */
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  METRICS_HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_PHONE_LOGIN: rateLimit('10/900'),
  RATE_LIMIT_PHONE_LOGIN_IP: rateLimit('50/900'),
  RATE_LIMIT_PHONE_REGISTER: rateLimit('50/3600'),
  RATE_LIMIT_SCANS: rateLimit('30/60'),
  RATE_LIMIT_QR_CREATE: rateLimit('60/60'),
  RATE_LIMIT_TOKEN_IP: rateLimit('30/900'),
  RATE_LIMIT_CLIENT_AUTH: rateLimit('10/900'),
  RATE_LIMIT_CLIENT_AUTH_APP: rateLimit('100/900'),
  RATE_LIMIT_WECHAT: rateLimit('600/60'),
  RATE_LIMIT_WECHAT_FAILURES: rateLimit('120/60'),
  RATE_LIMIT_EMBED_TOKEN: rateLimit('30/600'),
  RATE_LIMIT_SIGN_IN_START: rateLimit('60/60'),
  /** A phone's sign-in ends after this many days unused (it is refreshed while used). */
  DEVICE_SESSION_IDLE_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Pages (SSE streams and long-polls) one address may hold open on one instance. */
  WAITING_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(100),
  RATE_LIMIT_ADMIN_LOGIN: rateLimit('5/900'),
  RATE_LIMIT_ADMIN_LOGIN_IP: rateLimit('20/900'),
  /** Every Confirm tap needs a fresh passkey assertion with user verification (else per app). */
  REQUIRE_USER_VERIFICATION: flag(false),
  /** The WebAuthn relying party ID (a registrable domain of PUBLIC_URL's host); default that host. */
  PASSKEY_RP_ID: z
    .string()
    .regex(/^[a-z0-9.-]+$/i, 'a host name such as example.com')
    .optional(),
  /** Origins passkey ceremonies may come from, comma-separated (native apps: android:apk-key-hash:…); default PUBLIC_URL's origin. */
  PASSKEY_ORIGINS: commaList(z.string()).optional(),
  /** The organisation's iOS apps, "TEAMID.bundle.id" comma-separated: served in apple-app-site-association (QR links and passkeys). */
  IOS_APP_IDS: commaList(z.string().regex(/^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$/, 'TEAMID.bundle.id, e.g. ABCDE12345.com.acme.app')).optional(),
  /** Its Android apps, "package=SHA256:FINGERPRINT" comma-separated (several fingerprints: "|"): served in assetlinks.json; each signing certificate's passkey origin is accepted. */
  ANDROID_APPS: commaList(
    z
      .string()
      .regex(
        /^[A-Za-z][\w]*(\.[A-Za-z][\w]*)+=([0-9A-F]{2}(:[0-9A-F]{2}){31})(\|[0-9A-F]{2}(:[0-9A-F]{2}){31})*$/i,
        'package=FINGERPRINT, e.g. com.acme.app=AB:CD:…(32 bytes, as keytool prints the SHA-256)',
      ),
  )
    .transform((apps) => apps.map((a) => ({ packageName: a.split('=')[0], fingerprints: a.split('=')[1].toUpperCase().split('|') })))
    .optional(),
});

type Env = z.infer<typeof configSchema>;
export interface AndroidApp {
  packageName: string;
  /** SHA-256 of each signing certificate, "AB:CD:…" as keytool prints it. */
  fingerprints: string[];
}

export interface Config extends Env {
  issuer: string;
  dataDir: string;
  /** WebAuthn: the relying party ID and the origins ceremonies may come from. */
  passkeys: { rpId: string; origins: string[] };
  /** The organisation's own phone apps, for the association files (mobile/app-links.ts). */
  nativeApps: { ios: string[]; android: AndroidApp[] };
  /** How to reach Redis, or null for the in-memory store: the one "is Redis configured" switch. */
  redis: RedisConnectionSettings | null;
}

/** Redis from REDIS_URL alone, or Sentinel / Cluster (REDIS_URL then adds credentials, db, TLS). */
function redisSettings(e: Env): { redis: RedisConnectionSettings | null; problems: string[] } {
  const problems: string[] = [];
  if (e.REDIS_SENTINELS && e.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_SENTINELS and REDIS_CLUSTER_NODES: set one or the other (Sentinel or Cluster), not both');
  }
  if (!e.REDIS_SENTINELS && (e.REDIS_SENTINEL_NAME || e.REDIS_SENTINEL_PASSWORD)) {
    problems.push('REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD need REDIS_SENTINELS');
  }
  if ((e.REDIS_SENTINELS || e.REDIS_CLUSTER_NODES) && e.REDIS_URL) {
    try {
      if (redisOptionsFromUrl(e.REDIS_URL).db && e.REDIS_CLUSTER_NODES) {
        problems.push('REDIS_URL: Redis Cluster has only database 0 (remove the /db from the URL)');
      }
    } catch (error) {
      problems.push(`REDIS_URL: ${(error as Error).message}`); // never the URL itself: it may hold a password
    }
  }
  if (problems.length) return { redis: null, problems };
  if (e.REDIS_SENTINELS) {
    return {
      redis: {
        mode: 'sentinel',
        sentinels: e.REDIS_SENTINELS,
        name: e.REDIS_SENTINEL_NAME ?? 'mymaster',
        sentinelPassword: e.REDIS_SENTINEL_PASSWORD,
        url: e.REDIS_URL,
      },
      problems,
    };
  }
  if (e.REDIS_CLUSTER_NODES) return { redis: { mode: 'cluster', nodes: e.REDIS_CLUSTER_NODES, url: e.REDIS_URL }, problems };
  return { redis: e.REDIS_URL ? { mode: 'single', url: e.REDIS_URL } : null, problems };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const e = parsed.data;
  const { redis, problems } = redisSettings(e);
  if (problems.length) throw new Error(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  if (e.WORKERS > 1 && (!e.DATABASE_URL || !redis)) {
    throw new Error(
      'Invalid configuration:\n  WORKERS > 1 needs DATABASE_URL and Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES; the embedded database and memory store live in one process)',
    );
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    throw new Error('Invalid configuration:\n  METRICS_PORT: must differ from PORT (it is a second listener, serving /metrics without a token)');
  }
  const scheme = e.TLS_CERT_FILE && e.TLS_KEY_FILE ? 'https' : 'http';
  const issuer = (e.PUBLIC_URL ?? `${scheme}://localhost:${e.PORT}`).replace(/\/+$/, '');
  const nativeApps = { ios: e.IOS_APP_IDS ?? [], android: e.ANDROID_APPS ?? [] };
  return { ...e, issuer, dataDir: path.resolve(e.DATA_DIR), redis, passkeys: passkeySettings(e, issuer, nativeApps.android), nativeApps };
}

/** A passkey is bound to its RP ID: it must be PUBLIC_URL's host or a parent domain of it. */
function passkeySettings(e: Env, issuer: string, android: AndroidApp[]): Config['passkeys'] {
  const { hostname, origin } = new URL(issuer);
  const rpId = (e.PASSKEY_RP_ID ?? hostname).toLowerCase();
  if (hostname !== rpId && !hostname.endsWith(`.${rpId}`)) {
    throw new Error(`Invalid configuration:\n  PASSKEY_RP_ID: "${rpId}" is neither PUBLIC_URL's host (${hostname}) nor a parent domain of it`);
  }
  const origins = e.PASSKEY_ORIGINS?.length ? e.PASSKEY_ORIGINS : [origin];
  // Credential Manager reports the app's signing certificate as the origin; an app listed in ANDROID_APPS is trusted already.
  const apps = android.flatMap((a) => a.fingerprints.map(androidOrigin));
  return { rpId, origins: [...new Set([...origins, ...apps])] };
}

/** The WebAuthn origin Android gives a native app: `android:apk-key-hash:` + base64url of the certificate's SHA-256. */
export const androidOrigin = (fingerprint: string) => `android:apk-key-hash:${Buffer.from(fingerprint.replace(/:/g, ''), 'hex').toString('base64url')}`;

/**
 * `npm start`: the provider on the embedded default (PGlite + in-memory store; DATABASE_URL and
 * REDIS_URL are honoured when set), a seeded demo user and demo app, and the demo site.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { loadConfig } from '../provider/src/config.js';
import { AppError } from '../provider/src/errors.js';
import { createLogger } from '../provider/src/log.js';
import { startProvider, type RunningProvider } from '../provider/src/main.js';
import { demoOptionsFromEnv, startDemo } from '../relying-party-demo/src/main.js';

const DEMO_APP_ID = 'smdemo0000000001';
const DEMO_USER = { username: 'demo', password: 'saoma-demo', nickname: 'Demo 用户' };

/**
 * The demo user's password: the known one only while the provider listens on loopback (no one
 * else can reach it). Bound to another interface (HOST=0.0.0.0 for a phone on the LAN), a known
 * password would let anyone on the network approve logins as the demo user: a fresh random one
 * each start, printed in the banner.
 */
const isLoopbackHost = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);
function demoPassword(host: string): string {
  return isLoopbackHost(host) ? DEMO_USER.password : randomBytes(9).toString('base64url');
}

type Saoma = RunningProvider['saoma'];

/** Idempotent: creates what is missing, points the app at the current demo URL, re-issues its secret. */
async function seed(saoma: Saoma, demoUrl: string, password: string) {
  const user = await saoma.users.byUsername(DEMO_USER.username);
  // Set on every start: a password that was known (loopback) never survives onto a LAN bind.
  if (!user) await saoma.users.register({ ...DEMO_USER, password });
  else await saoma.users.setPassword(user.id, password);

  const callback = `${demoUrl}/callback`;
  const callbackDomain = wechatCallbackDomain(demoUrl);
  const existing = await saoma.apps.get(DEMO_APP_ID).catch((err: unknown) => {
    if (err instanceof AppError && err.status === 404) return null;
    throw err;
  });
  if (!existing) {
    await saoma.apps.create(
      { name: 'Saoma Demo Site', redirectUris: [callback], callbackDomain, homepage: demoUrl, description: 'The demo site started by `npm start`.' },
      { appId: DEMO_APP_ID },
    );
  } else if (!existing.redirectUris.includes(callback) || existing.callbackDomain !== callbackDomain) {
    // Keep URIs an admin added; the current one goes first. The API allows 20.
    const redirectUris = [callback, ...existing.redirectUris.filter((u) => u !== callback)].slice(0, 20);
    await saoma.apps.update(DEMO_APP_ID, { redirectUris, callbackDomain, homepage: demoUrl });
  }
  // Only a hash of the AppSecret is stored, so the demo gets a fresh one on every start.
  const { appSecret } = await saoma.apps.rotateSecret(DEMO_APP_ID);
  const { status } = await saoma.apps.get(DEMO_APP_ID);
  return { appSecret, disabled: status !== 'active' };
}

/**
 * The demo's WeChat-style pages call back to `${demoUrl}/wechat/callback`: the app's
 * authorization callback domain is the demo's `host:port` (a port pins it; translate.ts). A host
 * the admin schema does not take (an IPv6 literal) leaves the WeChat path off, not the demo.
 */
function wechatCallbackDomain(demoUrl: string): string | null {
  const { host } = new URL(demoUrl);
  return /^[a-z0-9.-]+(:\d+)?$/.test(host) ? host : null;
}

function lanAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
}

function banner(o: { issuer: string; listening: string; port: number; demoUrl: string; appSecret: string; disabled: boolean; password: string }) {
  const lan = lanAddresses()[0] ?? '<your-LAN-IP>';
  const lines = [
    '',
    '  Saoma is running',
    '  ────────────────',
    `  Provider (issuer):   ${o.issuer}   (listening on ${o.listening})`,
    `  Demo site:           ${o.demoUrl}   ← open this and click "Log in with Saoma"`,
    `  WeChat-style login:  ${o.demoUrl}/wechat/login      (the wechat-oauth npm library against /connect and /sns)`,
    `  Embedded QR:         ${o.demoUrl}/wechat/embedded   (WeChat's wxLogin.js snippet)`,
    `  Phone web app:       ${o.issuer}/app`,
    '',
    `  Demo user:           ${DEMO_USER.username} / ${o.password}   (${DEMO_USER.nickname})${o.password === DEMO_USER.password ? '' : '   (random: listening beyond loopback)'}`,
    `  Demo AppID:          ${DEMO_APP_ID}`,
    `  Demo AppSecret:      ${o.appSecret}   (re-issued at each start; the previous one no longer works)`,
    ...(o.disabled ? ['  ⚠ The demo app is disabled: npm run admin -- apps:enable ' + DEMO_APP_ID] : []),
    '',
    '  Approve a login from the command line (copy the link under the QR code):',
    `    npm run phone -- approve <QR link>${o.password === DEMO_USER.password ? '' : ` --password ${o.password}`}        (or: deny <QR link>)`,
    '',
    '  Use a real phone on the same network:',
    `    HOST=0.0.0.0 PUBLIC_URL=http://${lan}:${o.port} npm start`,
    `    then open http://${lan}:${o.port}/app on the phone, sign in as ${DEMO_USER.username}, and scan the QR code`,
    '',
    '  Register another app:',
    '    npm run admin -- apps:create --name "My Site" --redirect-uri http://localhost:8080/callback',
    '',
    '  Ctrl+C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));
}

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
const demoOpts = demoOptionsFromEnv();

const provider = await startProvider(config, log);
let appSecret: string;
let disabled: boolean;
const password = demoPassword(config.HOST);
try {
  ({ appSecret, disabled } = await seed(provider.saoma, demoOpts.publicUrl, password));
} catch (err) {
  console.error(`Could not set up the demo (DEMO_PUBLIC_URL=${demoOpts.publicUrl}): ${err instanceof Error ? err.message : String(err)}`);
  await provider.close();
  process.exit(1);
}
const demo = await startDemo({ ...demoOpts, issuer: config.issuer, clientId: DEMO_APP_ID, clientSecret: appSecret }).catch(async (err: unknown) => {
  console.error(`Could not start the demo site on ${demoOpts.host}:${demoOpts.port}: ${err instanceof Error ? err.message : String(err)}`);
  await provider.close();
  process.exit(1);
});
banner({
  issuer: config.issuer,
  listening: provider.url,
  port: Number(new URL(provider.url).port) || config.PORT,
  demoUrl: demo.url,
  appSecret,
  disabled,
  password,
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second Ctrl+C: do not wait
    stopping = true;
    console.log(`\n${signal}: stopping the demo site and the provider…`);
    demo
      .close()
      .then(() => provider.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error('shutdown failed:', err);
          process.exit(1);
        },
      );
  });
}

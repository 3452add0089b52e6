import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { createDemoSite, type DemoSiteOptions } from './server.js';

export interface RunningDemo {
  /** The URL to open (the site's public URL). */
  url: string;
  close(): Promise<void>;
}

/** Starts the demo site's HTTP server. `npm start` calls this in-process with a freshly issued secret. */
export async function startDemo(opts: DemoSiteOptions & { port: number; host: string }): Promise<RunningDemo> {
  const app = createDemoSite(opts);
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, opts.host, resolve));
  let closing: Promise<void> | undefined;
  return {
    url: opts.publicUrl.replace(/\/+$/, ''),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      })),
  };
}

/** The demo's settings from the environment (`npm run demo`). */
export function demoOptionsFromEnv(env: Record<string, string | undefined> = process.env) {
  const port = Number(env.DEMO_PORT || 3001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`DEMO_PORT must be a port number, got "${env.DEMO_PORT}"`);
  const host = env.DEMO_HOST || '127.0.0.1';
  return {
    issuer: (env.SAOMA_ISSUER || 'http://localhost:3000').replace(/\/+$/, ''),
    clientId: env.DEMO_CLIENT_ID ?? '',
    clientSecret: env.DEMO_CLIENT_SECRET ?? '',
    port,
    host,
    publicUrl: (env.DEMO_PUBLIC_URL || `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = demoOptionsFromEnv();
  if (!opts.clientId || !opts.clientSecret) {
    console.error(`The demo site needs an app registered at the provider:
  DEMO_CLIENT_ID=<AppID> DEMO_CLIENT_SECRET=<AppSecret> npm run demo
Register one with
  npm run admin -- apps:create --name "Demo" --redirect-uri ${opts.publicUrl}/callback
or simply run \`npm start\`, which starts the provider and this demo together.`);
    process.exit(1);
  }
  const demo = await startDemo(opts);
  console.log(`Saoma demo site: ${demo.url}  (provider: ${opts.issuer}, AppID ${opts.clientId})`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void demo.close().then(() => process.exit(0)));
  }
}

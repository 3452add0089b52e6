/**
 * `node dist/provider/src/ops/healthcheck.js [/path]`: exit 0 when this machine's provider answers
 * 200 on /healthz (or the path given), 1 otherwise. For container HEALTHCHECKs: the runtime
 * image has no curl, and this reads the same PORT, HOST and TLS settings as the provider.
 */
import http from 'node:http';
import https from 'node:https';
import { pathToFileURL } from 'node:url';

const TIMEOUT_MS = 3_000;

export function probe(env: Record<string, string | undefined> = process.env, path = '/healthz'): Promise<number> {
  const port = Number(env.PORT || 3000);
  // Listening on every interface: ask over loopback, the one address always there.
  const bind = env.HOST || '127.0.0.1';
  const host = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  const tls = Boolean(env.TLS_CERT_FILE && env.TLS_KEY_FILE);
  return new Promise((resolve) => {
    // The certificate names the public host, not loopback: only liveness is asked, no secret sent.
    const req = (tls ? https : http).get({ host, port, path, timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const status = await probe(process.env, process.argv[2] ?? '/healthz');
  if (status !== 200) console.error(`healthcheck: ${status ? `HTTP ${status}` : 'no answer'}`);
  process.exit(status === 200 ? 0 : 1);
}

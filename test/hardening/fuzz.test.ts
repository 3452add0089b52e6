/**
 * Hostile input, property-based (fast-check), against a real provider on PostgreSQL + Redis.
 * Every answer must be < 500, carry no stack trace or source path, inject no header, redirect
 * nowhere but a registered redirect_uri, and have its surface's documented shape:
 *   JSON APIs `{error: snake_case, error_description}`, pages our HTML error page, WeChat /sns
 *   HTTP 200 `{errcode, errmsg}`.
 *
 * Endpoints covered (the whole tree as of this file; add new ones to fuzz/surfaces.ts):
 *   OIDC       GET|POST /auth, /auth/:uid, POST /token, /token/introspection, /token/revocation,
 *              GET|POST /me (userinfo), /.well-known/openid-configuration, /jwks, /session/end,
 *              /.well-known/apple-app-site-association, /.well-known/assetlinks.json
 *              (+ /confirm, /success), POST /request (PAR), unknown routes (/reg, /device, ...)
 *   QR         /interaction/:uid (page), /qr (JSON), /qr/status (long-poll, waits kept at 0),
 *              /qr/events (SSE: head and first byte), /complete, POST /abort
 *   Phone API  /api/mobile/register, login, logout, me, scans, scans/:qrId (+ /confirm,
 *              /confirm/options, /deny), authorizations, authorizations/:appId, activity,
 *              login/passkey (+ /options), login/assertion, login/sso, sign-in-options, passkeys
 *              (+ /options, /:passkeyId), openapi.json, unknown paths
 *   Web        /app, /q/:qrId, /app/manifest.webmanifest, /app/sw.js, /app/vendor/qr-scanner/*,
 *              /app/vendor/simplewebauthn/*, /app/sso/:sourceId (+ /callback), /static/*,
 *              /healthz, arbitrary paths
 *   WeChat     /connect/qrconnect, /connect/wxLogin.js, /connect/embed/* and /sns/oauth2/access_token,
 *              /sns/oauth2/refresh_token, /sns/auth, /sns/userinfo (mounted as the facade's tests do
 *              when app.ts does not mount it yet; skipped with a warning only if the facade is absent)
 *   Admin API  /api/admin/apps[/:appId[/secret|disable|enable]] and unknown paths on the admin Unix
 *              socket; once app.ts mounts them, /api/admin/* over HTTP (bearer admin tokens) and the
 *              /admin console pages (skipped with a warning while they are not mounted)
 *   Raw HTTP   malformed request lines, header folding, CRLF in header values, duplicate
 *              Content-Length, Transfer-Encoding tricks, over-long headers (on a plain socket)
 * Requests mix real credentials and ids (to get past the first check) with anything at all:
 * unicode, lone surrogates, NUL, CRLF injection attempts, malformed percent-encoding, repeated
 * parameters, wrong and lying content types, oversized and compressed-lie bodies, odd methods.
 *
 * Default: ≥ 10,000 requests (about a minute on 2 cores). FUZZ_RUNS=<n> multiplies the runs per
 * surface by n; FUZZ_SEED=<seed> replays a run.
 */
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginLogin, fullLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import type { Ctx, FuzzRequest } from './fuzz/arbitraries.js';
import { checkResponse, describeRequest, surfaces } from './fuzz/surfaces.js';
import { httpClient, LEAK, mountWechat, startProviderWith } from './support.js';
import { closeStarted } from '../support/harness.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1) || 1);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const BATCH = 6;
/** Requests per surface in the default run (≥ 10,000 in all). */
const SHARE = { oidc: 3000, interaction: 2300, mobile: 2700, web: 1000, admin: 1000, wechat: 1500, adminWeb: 1000 };
/** Parts of the tree that may not be mounted yet: fuzzed when present, on top of the 10,000. */
const OPTIONAL = new Set(['wechat', 'adminWeb']);

describe.skipIf(skip)('hostile input on every endpoint (fast-check, PostgreSQL + Redis)', () => {
  let p: TestProvider;
  let ctx: Ctx;
  let http: ReturnType<typeof httpClient>;
  let admin: ReturnType<typeof httpClient>;
  let wechat = false;
  let adminWeb = false;
  let sent = 0;

  beforeAll(async () => {
    p = await startProviderWith();
    wechat = await mountWechat(p);
    // The admin API over HTTP (bearer tokens) and the /admin console, once app.ts mounts them.
    const probe = await fetch(`${p.issuer}/api/admin/apps`);
    adminWeb = probe.status === 401 && (probe.headers.get('content-type') ?? '').includes('json');
    http = httpClient(p.issuer, { maxSockets: BATCH * 2, timeoutMs: 15_000 });
    admin = httpClient('http://admin.sock', { maxSockets: BATCH, socketPath: path.join(p.dataDir, 'admin.sock') });
    const { app, config } = await registerSite(p, { callbackDomain: '127.0.0.1' });
    const phones = await Promise.all([signedInPhone(p), signedInPhone(p), signedInPhone(p)]);
    const { tokens } = await fullLogin(p, config, phones[0], { offline: true });
    const adminApp = await p.saoma.apps.create({ name: 'Admin fuzz target', redirectUris: [REDIRECT_URI] });
    ctx = {
      appId: app.appId,
      appSecret: app.appSecret,
      redirectUri: REDIRECT_URI,
      interactions: await interactions(p, config, 12),
      deviceTokens: phones.map((ph) => ph.token),
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      idToken: tokens.id_token!,
      adminAppId: adminApp.appId,
    };
  }, 120_000);
  afterAll(async () => {
    await closeStarted(http, admin, p);
  });

  async function send(r: FuzzRequest) {
    const client = r.surface === 'admin' ? admin : http; // the admin socket; adminHttp goes over TCP
    try {
      return await client.request(r.method, r.path, { headers: r.headers, body: r.body, readLimit: r.readLimit });
    } catch (err) {
      const head = r.path.length + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
      const big = (r.body?.length ?? 0) > 16_000 || head > 16_000;
      // A server may answer an oversized head (431) or body (413) and hang up before reading it
      // all; the client, still writing, then sees a reset instead of the answer.
      if (big && /ECONNRESET|EPIPE|socket hang up/.test(String(err))) return null;
      throw new Error(`no answer (${(err as Error).message})\n  request: ${describeRequest(r)}`, { cause: err });
    }
  }

  async function fuzz(name: keyof typeof SHARE) {
    const arb = surfaces(ctx, { wechat, adminWeb })[name];
    if (!arb) throw new Error(`no requests for ${name}`);
    const run = await fc.check(
      fc.asyncProperty(fc.array(arb, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const answers = await Promise.all(batch.map(send));
        sent += batch.length;
        batch.forEach((r, i) => {
          const res = answers[i];
          if (!res) return;
          const problems = checkResponse(r, res, ctx, p.issuer);
          if (problems.length)
            throw new Error(
              `${problems.join('; ')}\n  request: ${describeRequest(r)}\n  answer: ${res.status} ${res.headers['content-type'] ?? ''} ${res.text.slice(0, 300)}`,
            );
        });
      }),
      { numRuns: Math.ceil((SHARE[name] * SCALE) / BATCH), seed: SEED, endOnFailure: process.env.FUZZ_SHRINK !== '1' },
    );
    // The failing request and answer, not the whole batch (fast-check would print megabytes).
    if (run.failed) {
      const cause = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
      throw new Error(`${cause}\n  replay: FUZZ_SEED=${run.seed} (run ${run.numRuns} of ${name})`);
    }
  }

  it('OIDC endpoints (authorize, token, introspection, revocation, userinfo, discovery, JWKS, logout, PAR)', () => fuzz('oidc'), 240_000);
  it('the QR interaction (page, QR JSON, long-poll, SSE, complete, abort)', async () => {
    ctx.interactions = await interactions(p, (await registerSite(p)).config, 12); // fresh cookies: aborts end some
    await fuzz('interaction');
  }, 240_000);
  it('the phone API', () => fuzz('mobile'), 240_000);
  it('the phone web app, static files and unknown paths', () => fuzz('web'), 240_000);
  it('the WeChat facade (/connect, /sns)', async (t) => {
    if (!wechat) {
      console.warn('[fuzz] WeChat facade not present in this tree: /connect and /sns NOT fuzzed');
      return t.skip();
    }
    await fuzz('wechat');
  }, 240_000);
  it('the admin API on its Unix socket', () => fuzz('admin'), 240_000);
  it('the admin API over HTTP and the /admin console', async (t) => {
    if (!adminWeb) {
      console.warn('[fuzz] /api/admin over HTTP and /admin are not mounted in this tree: NOT fuzzed');
      return t.skip();
    }
    await fuzz('adminWeb');
  }, 240_000);

  it('survives malformed HTTP on the wire (request smuggling and header injection attempts)', async () => {
    const url = new URL(p.issuer);
    const raw = (bytes: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(Number(url.port), url.hostname);
        let out = '';
        socket.setTimeout(3000, () => socket.destroy());
        socket.on('data', (d) => (out += d.toString('latin1')));
        socket.on('close', () => resolve(out));
        socket.on('error', () => resolve(out));
        socket.end(bytes, 'latin1');
      });
    const cases = [
      'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', // obsolete line folding
      'GET /auth?x=1 HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: 1\r\n\r\n',
      'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg',
      'POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
      'POST /api/mobile/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n1\r\n{\r\n0\r\n\r\n',
      'POST /api/mobile/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /interaction/a b HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /auth HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      'GET http://evil.example/auth HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /app HTTP/1.0\r\n\r\n',
      'GET /app HTTP/2.0\r\nHost: x\r\n\r\n',
      'FOO /app HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/mobile/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u00ff\u00fe\r\n\r\n',
      `GET /${'a/'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'POST /api/mobile/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username":',
    ];
    for (const bytes of cases) {
      const answer = await raw(bytes);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
      expect(status, JSON.stringify(bytes.slice(0, 80))).not.toBeGreaterThanOrEqual(500);
      expect(answer).not.toMatch(/\r\nX-Injected:/i);
      expect(answer).not.toMatch(LEAK);
      sent++;
    }
    expect((await fetch(`${p.issuer}/healthz`)).status).toBe(200);
  });

  it(`ran at least ${10_000 * SCALE} requests${SCALE > 1 ? ` (FUZZ_RUNS=${SCALE})` : ''} and the provider is still healthy`, async () => {
    const present = { wechat, adminWeb } as Record<string, boolean>;
    const expected = Object.entries(SHARE).reduce((n, [name, share]) => n + (OPTIONAL.has(name) && !present[name] ? 0 : share), 0) * SCALE;
    expect(expected).toBeGreaterThanOrEqual(10_000 * SCALE);
    expect(sent).toBeGreaterThanOrEqual(expected);
    expect((await fetch(`${p.issuer}/healthz`)).status).toBe(200);
  });
});

/** Logins waiting at the QR page: uid, the browser's cookie and the QR they show. */
async function interactions(p: TestProvider, config: Parameters<typeof beginLogin>[1], n: number) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const login = await beginLogin(p, config);
      const { body } = await login.qr();
      return { uid: login.uid, cookie: login.browser.cookieHeader(new URL(`${p.issuer}/interaction/${login.uid}`)), qrId: body.qrId, payload: body.payload };
    }),
  );
}

/**
 * Rate limits (http/rate-limit.ts): first the factories on a small app (real Redis, memory, and
 * a Redis that is down), then the wiring in a real provider, one surface at a time. Client
 * addresses are simulated with X-Forwarded-For behind TRUST_PROXY (one trusted hop).
 */
import express from 'express';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimits, ipKey, RATE_LIMIT_NAMES, type RateLimits, type RateLimitSettings } from '../../provider/src/http/rate-limit.js';
import { errorHandler, pageOrJson, plainErrorPage, renderJson } from '../../provider/src/http/render.js';
import { createLogger } from '../../provider/src/log.js';
import { snsError, snsErrorHandler } from '../../provider/src/wechat/errcodes.js';
import { beginLogin, registerSite, signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { REDIS_URL, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { mountWechat } from './support.js';

const redisMissing = await skipUnlessRedis();
const servicesMissing = (await skipUnlessPostgres()) || redisMissing;

function settings(overrides: Partial<Record<keyof RateLimitSettings, string>>): RateLimitSettings {
  const all = Object.fromEntries(RATE_LIMIT_NAMES.map((n) => [n, null])) as RateLimitSettings;
  for (const [name, text] of Object.entries(overrides)) {
    const [points, seconds] = text.split('/').map(Number);
    all[name as keyof RateLimitSettings] = { points, seconds };
  }
  return all;
}

/**
 * Just enough of the surfaces to put each limiter in front of a stand-in handler, each with its
 * surface's error renderer (a limit is an error the surface renders in its own shape).
 */
function miniApp(limits: RateLimits) {
  const log = createLogger('silent');
  const app = express();
  app.set('trust proxy', 1);
  app.use(
    '/api/mobile',
    limits.mobile,
    (req: express.Request, res: express.Response) => {
      if (req.path === '/register') return void res.status(201).json({});
      const ok = (req.body as { password?: string } | undefined)?.password === 'right'; // no body: undefined
      res.status(ok ? 200 : 401).json(ok ? { token: 't' } : { error: 'invalid_credentials', error_description: 'Wrong username or password.' });
    },
    errorHandler(log, renderJson),
  );
  // Stand-in /sns/auth: appid "known" proves itself (its quota is spent), anything else fails.
  app.get(
    '/sns/auth',
    limits.wechatFailures,
    async (req: express.Request, res: express.Response) => {
      if (req.query.token !== 'known') throw snsError('invalid_credential');
      res.locals.wechatAuthenticated = true;
      await limits.wechatQuota(req.query.appid as string); // the tests always send one
      res.json({ errcode: 0, errmsg: 'ok' });
    },
    snsErrorHandler(log),
  );
  app.get(['/auth', '/interaction/:uid/qr'], limits.qrCreate, (_req, res) => void res.type('html').send('<p>page</p>'));
  app.use(errorHandler(log, pageOrJson(plainErrorPage, /\/qr$/)));
  return app;
}

const login = (app: express.Express, ip: string, username: string, password: string) =>
  request(app).post('/api/mobile/login').set('X-Forwarded-For', ip).send({ username, password });

describe('client addresses as rate-limit keys', () => {
  it('groups IPv6 clients by /64 and unwraps IPv4-mapped addresses', () => {
    expect(ipKey('2001:db8:1:2:aaaa::1')).toBe(ipKey('2001:db8:1:2:ffff:1:2:3'));
    expect(ipKey('2001:db8:1:2::1')).not.toBe(ipKey('2001:db8:1:3::1'));
    expect(ipKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(ipKey('::1')).toBe('0:0:0:0::/64');
    expect(ipKey(undefined)).toBe('unknown');
  });
});

for (const store of ['memory', 'redis'] as const) {
  describe.skipIf(store === 'redis' && redisMissing)(`rate-limit middleware on ${store}`, () => {
    let redis: Redis | undefined;
    let app: express.Express;
    const prefix = `saoma-test:${nanoid(6)}:`;
    beforeAll(async () => {
      if (store === 'redis') {
        redis = new Redis(REDIS_URL);
        await redis.ping();
      }
      app = miniApp(
        createRateLimits({
          settings: settings({
            RATE_LIMIT_PHONE_LOGIN: '3/60',
            RATE_LIMIT_PHONE_LOGIN_IP: '5/60',
            RATE_LIMIT_PHONE_REGISTER: '2/60',
            RATE_LIMIT_WECHAT: '2/60',
            RATE_LIMIT_WECHAT_FAILURES: '3/60',
            RATE_LIMIT_QR_CREATE: '2/60',
          }),
          redis,
          prefix,
        }),
      );
    });
    afterAll(async () => {
      if (redis) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
    });

    it('counts only failed sign-ins per username + IP, then answers 429 with Retry-After and the JSON error shape', async () => {
      for (let i = 0; i < 4; i++) expect((await login(app, '198.51.100.1', 'alice', 'right')).status).toBe(200); // successes are free
      for (let i = 0; i < 3; i++) expect((await login(app, '198.51.100.1', 'alice', 'wrong')).status).toBe(401);
      const limited = await login(app, '198.51.100.1', 'ALICE ', 'right'); // same name, any spelling: locked
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.body).toEqual({ error: 'rate_limited', error_description: expect.stringMatching(/try again in \d+ seconds/) });
      expect((await login(app, '198.51.100.2', 'alice', 'right')).status).toBe(200); // another address is not locked
      expect((await login(app, '198.51.100.1', 'bob', 'right')).status).toBe(200); // nor another user
    });

    it('stops password spraying across usernames from one address', async () => {
      const ip = '198.51.100.3';
      for (let i = 0; i < 5; i++) expect((await login(app, ip, `user${i}`, 'wrong')).status).toBe(401);
      expect((await login(app, ip, 'user9', 'wrong')).status).toBe(429);
    });

    it('counts concurrent guesses before they are checked (no burst slips past)', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => login(app, '198.51.100.4', 'carol', 'wrong')));
      expect(results.filter((r) => r.status === 401).length).toBe(3);
      expect(results.filter((r) => r.status === 429).length).toBe(17);
    });

    it('limits registrations per address', async () => {
      const reg = () => request(app).post('/api/mobile/register').set('X-Forwarded-For', '198.51.100.5').send({});
      expect((await reg()).status).toBe(201);
      expect((await reg()).status).toBe(201);
      expect((await reg()).status).toBe(429);
    });

    it('answers WeChat calls over quota with errcode 45011 at HTTP 200, per appid, counting only calls that proved whose they are', async () => {
      const sns = (appid: string, token: string, ip = '198.51.100.20') =>
        request(app).get(`/sns/auth?appid=${appid}&token=${token}`).set('X-Forwarded-For', ip);
      // Failures from other addresses spend nothing of wxA's quota.
      for (let i = 0; i < 3; i++) expect((await sns('wxA', 'guess', `198.51.100.${30 + i}`)).body.errcode).toBe(40001);
      expect((await sns('wxA', 'known')).body).toEqual({ errcode: 0, errmsg: 'ok' });
      expect((await sns('wxA', 'known')).body.errcode).toBe(0);
      const over = await sns('wxA', 'known');
      expect(over.status).toBe(200);
      expect(over.body).toEqual({ errcode: 45011, errmsg: expect.stringContaining('minute-quota') });
      expect(over.headers['retry-after']).toMatch(/^\d+$/);
      expect((await sns('wxB', 'known')).body.errcode).toBe(0);
    });

    it('limits failed WeChat calls per address, whatever appid they name', async () => {
      const sns = (appid: string, token: string) => request(app).get(`/sns/auth?appid=${appid}&token=${token}`).set('X-Forwarded-For', '198.51.100.40');
      for (let i = 0; i < 3; i++) expect((await sns(`wxMadeUp${i}`, 'guess')).body.errcode).toBe(40001);
      expect((await sns('wxMadeUp9', 'guess')).body.errcode).toBe(45011);
      expect((await sns('wxC', 'known')).body.errcode).toBe(45011); // this address is refused, known or not
      expect((await request(app).get('/sns/auth?appid=wxC&token=known').set('X-Forwarded-For', '198.51.100.41')).body.errcode).toBe(0);
    });

    it('answers pages with a 429 page and their scripts with JSON', async () => {
      const ip = '198.51.100.6';
      await request(app).get('/auth').set('X-Forwarded-For', ip);
      await request(app).get('/auth').set('X-Forwarded-For', ip);
      const page = await request(app).get('/auth').set('X-Forwarded-For', ip).set('Accept', 'text/html');
      expect(page.status).toBe(429);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).toContain('rate_limited');
      const script = await request(app).get('/interaction/abc/qr').set('X-Forwarded-For', ip).set('Accept', 'application/json');
      expect(script.status).toBe(429);
      expect(script.body.error).toBe('rate_limited');
    });
  });
}

describe.skipIf(redisMissing)('rate limits on Redis', () => {
  it('count together across provider instances sharing one Redis', async () => {
    const prefix = `saoma-test:${nanoid(6)}:`;
    const [r1, r2] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    await Promise.all([r1.ping(), r2.ping()]); // connected: until then each instance counts in memory
    try {
      const s = settings({ RATE_LIMIT_PHONE_LOGIN: '4/60', RATE_LIMIT_PHONE_LOGIN_IP: '100/60' });
      const a = miniApp(createRateLimits({ settings: s, redis: r1, prefix }));
      const b = miniApp(createRateLimits({ settings: s, redis: r2, prefix }));
      for (const app of [a, b, a, b]) expect((await login(app, '192.0.2.1', 'dave', 'wrong')).status).toBe(401);
      expect((await login(a, '192.0.2.1', 'dave', 'wrong')).status).toBe(429);
      expect((await login(b, '192.0.2.1', 'dave', 'wrong')).status).toBe(429);
    } finally {
      const keys = await r1.keys(`${prefix}*`);
      if (keys.length) await r1.del(...keys);
      r1.disconnect();
      r2.disconnect();
    }
  });

  it('keep limiting in memory, without waiting, while Redis is unreachable', async () => {
    // A client whose server is gone: rate-limiter-flexible falls back to its memory insurance.
    const dead = new Redis({ port: 1, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 1000, maxRetriesPerRequest: 0 });
    dead.on('error', () => {});
    try {
      const app = miniApp(
        createRateLimits({ settings: settings({ RATE_LIMIT_PHONE_LOGIN: '2/60', RATE_LIMIT_PHONE_LOGIN_IP: '100/60' }), redis: dead, prefix: 'x:' }),
      );
      const started = Date.now();
      expect((await login(app, '192.0.2.2', 'erin', 'right')).status).toBe(200);
      expect((await login(app, '192.0.2.2', 'erin', 'wrong')).status).toBe(401);
      expect((await login(app, '192.0.2.2', 'erin', 'wrong')).status).toBe(401);
      expect((await login(app, '192.0.2.2', 'erin', 'wrong')).status).toBe(429);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      dead.disconnect();
    }
  });
});

// ---- wired into a real provider -----------------------------------------------------------

describe.skipIf(servicesMissing)('rate limits in the provider (PostgreSQL + Redis, TRUST_PROXY)', () => {
  const p = useProvider('services', {
    TRUST_PROXY: '1',
    RATE_LIMIT_PHONE_LOGIN: '3/60',
    RATE_LIMIT_PHONE_LOGIN_IP: '6/60',
    RATE_LIMIT_PHONE_REGISTER: '3/60',
    RATE_LIMIT_SCANS: '2/60',
    RATE_LIMIT_QR_CREATE: '20/60',
    RATE_LIMIT_TOKEN_IP: '8/60',
    RATE_LIMIT_CLIENT_AUTH: '3/60',
    RATE_LIMIT_CLIENT_AUTH_APP: '5/60',
    RATE_LIMIT_SIGN_IN_START: '3/60',
  });

  const from = (ip: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...headers });
  async function token(ip: string, appId: string, secret: string, method: 'basic' | 'post' = 'basic') {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: 'http://127.0.0.1:5999/callback' });
    const headers: Record<string, string> = from(ip, { 'content-type': 'application/x-www-form-urlencoded' });
    if (method === 'basic') headers.authorization = `Basic ${Buffer.from(`${appId}:${secret}`).toString('base64')}`;
    else {
      form.set('client_id', appId);
      form.set('client_secret', secret);
    }
    const res = await fetch(`${p.issuer}/token`, { method: 'POST', headers, body: form });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, string> };
  }
  const mobile = (ip: string, path: string, body: unknown, token?: string) =>
    fetch(`${p.issuer}/api/mobile${path}`, {
      method: 'POST',
      headers: from(ip, { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }),
      body: JSON.stringify(body),
    });

  it('locks one address out of an AppID after RATE_LIMIT_CLIENT_AUTH wrong AppSecrets (basic or post), right secret included', async () => {
    const { app } = await registerSite(p);
    expect((await token('203.0.113.1', app.appId, 'wrong-1')).status).toBe(401);
    expect((await token('203.0.113.1', app.appId, 'wrong-2', 'post')).status).toBe(401);
    expect((await token('203.0.113.1', app.appId, 'wrong-3')).status).toBe(401);
    const locked = await token('203.0.113.1', app.appId, app.appSecret);
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(/too many failed client authentications/i),
      request_id: expect.any(String),
    });
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    // Another address with the right secret authenticates (and reaches the grant: invalid_grant).
    const other = await token('203.0.113.2', app.appId, app.appSecret);
    expect(other).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses further wrong AppSecrets from anywhere after RATE_LIMIT_CLIENT_AUTH_APP, yet lets the right one through', async () => {
    const { app } = await registerSite(p);
    for (let i = 1; i <= 5; i++) expect((await token(`203.0.113.${10 + i}`, app.appId, `wrong-${i}`)).status).toBe(401);
    const wrong = await token('203.0.113.20', app.appId, 'wrong-6');
    expect(wrong.status).toBe(429);
    expect(wrong.body.error).toBe('invalid_request');
    expect((await token('203.0.113.21', app.appId, app.appSecret)).body.error).toBe('invalid_grant');
  });

  it('limits failed client authentications per address across client ids (unknown AppIDs included)', async () => {
    const statuses = [];
    for (let i = 0; i < 9; i++) statuses.push((await token('203.0.113.30', `wx${nanoid(10)}`, 'guess')).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(401));
    expect(statuses[8]).toBe(429);
  });

  it('limits phone sign-in failures per username + address and per address', async () => {
    const phone = await signedInPhone(p);
    for (let i = 0; i < 3; i++) expect((await mobile('203.0.113.40', '/login', { username: phone.username, password: 'wrong password' })).status).toBe(401);
    const limited = await mobile('203.0.113.40', '/login', { username: phone.username, password: phone.password });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
    expect((await mobile('203.0.113.41', '/login', { username: phone.username, password: phone.password })).status).toBe(200);
  });

  it('counts the address the proxy appended, not a client-supplied X-Forwarded-For', async () => {
    const results = [];
    for (let i = 0; i < 7; i++) {
      // The client forges the left-most entries; the proxy appends the real address last.
      results.push((await mobile(`10.9.${i}.1, 203.0.113.50`, '/login', { username: `nobody${i}`, password: 'wrong password' })).status);
    }
    expect(results).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });

  it('limits registrations per address', async () => {
    const reg = (i: number) =>
      mobile('203.0.113.60', '/register', {
        username: `reg${nanoid(6)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')}${i}`,
        password: 'long enough pw',
      });
    expect([(await reg(1)).status, (await reg(2)).status, (await reg(3)).status, (await reg(4)).status]).toEqual([201, 201, 201, 429]);
  });

  it('limits scans per user', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const payloads = [];
    for (let i = 0; i < 3; i++) payloads.push((await (await beginLogin(p, config)).qr()).body.payload);
    expect((await phone.scan(payloads[0])).status).toBe(200);
    expect((await phone.scan(payloads[1])).status).toBe(200);
    const third = await phone.scan(payloads[2]);
    expect(third.status).toBe(429);
    expect((await third.json()).error).toBe('rate_limited');
  });

  it('limits sign-in starts that keep state for minutes per address: passkey sign-in options and SSO starts', async () => {
    const ip = '203.0.113.80';
    const options = [];
    for (let i = 0; i < 4; i++) options.push(await mobile(ip, '/login/passkey/options', {}));
    expect(options.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(options[3].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await options[3].json()).toMatchObject({ error: 'rate_limited' });
    const sso = await fetch(`${p.issuer}/app/sso/corp`, { headers: from(ip, { accept: 'text/html' }), redirect: 'manual' });
    expect(sso.status).toBe(429);
    expect(sso.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await mobile('203.0.113.81', '/login/passkey/options', {})).status).toBe(200);
  });

  it('limits login starts and QR creation per address: a page for the browser, JSON for the page script', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config); // 127.0.0.1: /auth + the QR page
    const ip = '203.0.113.70';
    const qr = () => login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr`, { headers: from(ip, { accept: 'application/json' }) });
    for (let i = 0; i < 20; i++) expect((await qr()).status).toBe(200);
    const limited = await qr();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await limited.json()).error).toBe('rate_limited');
    const page = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}`, { headers: from(ip, { accept: 'text/html' }) });
    expect(page.status).toBe(429);
    expect(await page.text()).toContain('rate_limited');
    const auth = await fetch(`${p.issuer}/auth?client_id=x&response_type=code&scope=openid`, {
      headers: from(ip, { accept: 'text/html' }),
      redirect: 'manual',
    });
    expect(auth.status).toBe(429);
  });
});

describe.skipIf(servicesMissing)('rate limits on the WeChat facade (PostgreSQL + Redis)', () => {
  const p = useProvider('services', { TRUST_PROXY: '1', RATE_LIMIT_WECHAT: '6/60', RATE_LIMIT_WECHAT_FAILURES: '5/60', RATE_LIMIT_CLIENT_AUTH: '3/60' });
  let wechat = false;
  beforeAll(async () => {
    // app.ts mounts the /sns quota in front of the facade.
    wechat = await mountWechat(p);
  });
  const sns = async (path: string, params: Record<string, string>, ip = '203.0.113.80') => {
    const res = await fetch(`${p.issuer}/sns/${path}?${new URLSearchParams(params)}`, { headers: { 'x-forwarded-for': ip } });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { errcode?: number; errmsg?: string } };
  };

  it('answers over-quota calls per appid with errcode 45011 at HTTP 200 and Retry-After', async (t) => {
    if (!wechat) return t.skip();
    const { app } = await registerSite(p, { callbackDomain: '127.0.0.1' });
    // The right AppSecret proves the call is the site's: each spends its quota, whatever the code.
    const exchange = () =>
      sns('oauth2/access_token', { appid: app.appId, secret: app.appSecret, code: 'not-a-valid-code-value', grant_type: 'authorization_code' }, '203.0.113.81');
    for (let i = 0; i < 6; i++) expect((await exchange()).body.errcode).toBe(40029);
    const over = await exchange();
    expect(over).toMatchObject({ status: 200, body: { errcode: 45011, errmsg: expect.stringContaining('minute-quota') } });
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
  });

  it("never lets a stranger spend a site's /sns quota: unauthenticated calls count against their own address only", async (t) => {
    if (!wechat) return t.skip();
    const { app } = await registerSite(p, { callbackDomain: '127.0.0.1' });
    // A stranger names the site's appid with made-up refresh tokens, then with made-up appids.
    const stranger = (appid: string) =>
      sns('oauth2/refresh_token', { appid, grant_type: 'refresh_token', refresh_token: `made-up-${nanoid(20)}` }, '203.0.113.90');
    for (let i = 0; i < 5; i++) expect((await stranger(app.appId)).body.errcode).toBe(40030);
    expect((await stranger(app.appId)).body.errcode).toBe(45011);
    expect((await stranger(`wx${nanoid(10)}`)).body.errcode).toBe(45011); // no fresh quota under a new appid
    // The site's own calls, from its address, all go through: its quota is whole.
    for (let i = 0; i < 6; i++) {
      const own = await sns(
        'oauth2/access_token',
        { appid: app.appId, secret: app.appSecret, code: 'not-a-valid-code-value', grant_type: 'authorization_code' },
        '203.0.113.91',
      );
      expect(own.body.errcode).toBe(40029);
    }
  });

  it('locks out AppSecret guessing at /sns/oauth2/access_token with 45011, right secret included', async (t) => {
    if (!wechat) return t.skip();
    const { app } = await registerSite(p, { callbackDomain: '127.0.0.1' });
    const exchange = (secret: string) => sns('oauth2/access_token', { appid: app.appId, secret, code: 'not-a-code', grant_type: 'authorization_code' });
    for (let i = 0; i < 3; i++) expect((await exchange(`wrong-${i}`)).body.errcode).toBe(40125);
    const locked = await exchange(app.appSecret);
    expect(locked).toMatchObject({ status: 200, body: { errcode: 45011 } });
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
  });
});

/**
 * Every endpoint the provider serves, as request arbitraries, and the documented answer shape
 * per surface (what `checkResponse` holds each answer to).
 */
import fc from 'fast-check';
import type { RawResponse } from '../support.js';
import { LEAK } from '../support.js';
import { body, headers, INJECTED, method, nasty, pct, query, segment, valueFor, type Ctx, type FuzzRequest, type Surface } from './arbitraries.js';

const AUTHORIZE = [
  'client_id',
  'response_type',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'claims',
  'ui_locales',
  'login_hint',
  'response_mode',
  'request',
  'request_uri',
  'resource',
  'acr_values',
  'id_token_hint',
  'display',
  'lang',
];
const TOKEN = [
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'refresh_token',
  'client_id',
  'client_secret',
  'scope',
  'resource',
  'client_assertion',
  'client_assertion_type',
];
const TOKEN_OPS = ['token', 'token_type_hint', 'client_id', 'client_secret'];
const LOGOUT = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout_hint', 'ui_locales', 'xsrf', 'logout'];
const QRCONNECT = [
  'appid',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'lang',
  'login_type',
  'self_redirect',
  'style',
  'href',
  'parent_origin',
  'stylelite',
  'fast_login',
];
const SNS = ['appid', 'secret', 'code', 'grant_type', 'refresh_token', 'access_token', 'openid', 'lang'];
const MOBILE = ['username', 'password', 'nickname', 'deviceName', 'payload', 'picture', 'locale', 'source', 'assertion', 'code', 'response', 'passkey', 'name'];
const ADMIN = ['name', 'redirectUris', 'callbackDomain', 'logoUrl', 'homepage', 'description', 'tokenEndpointAuthMethod', 'status', 'developerId'];

type Template = { surface: Surface; methods?: fc.Arbitrary<string>; path: fc.Arbitrary<string>; fields?: string[]; stream?: boolean };

function build(ctx: Ctx, t: Template): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(t.methods ?? method, t.path, headers(ctx), body(t.fields ?? MOBILE, ctx)).map(([m, path, h, b]) => {
    const withBody = m !== 'GET' && m !== 'HEAD' && b.body !== undefined;
    return {
      surface: t.surface,
      method: m,
      path,
      headers: { ...h, ...(withBody ? b.headers : {}) },
      ...(withBody ? { body: b.body } : {}),
      ...(t.stream ? { readLimit: 1 } : {}),
    };
  });
}

export function surfaces(ctx: Ctx, opts: { wechat: boolean; adminWeb: boolean }) {
  const v = valueFor(ctx);
  const uid = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ctx.interactions.map((i) => i.uid)) }, { weight: 2, arbitrary: segment });
  const qrId = fc.oneof(fc.constantFrom(...ctx.interactions.map((i) => i.qrId)), segment, fc.constantFrom('A'.repeat(24), 'A'.repeat(65)));
  const get = fc.constant('GET');
  const post = fc.constant('POST');
  // Long-polls hold (up to 25 s by default) when `last` is the current status: every generated
  // query carries one `wait` that answers at once (0, or invalid → 400), so runs stay fast.
  const safeWait = fc.oneof(
    fc.constantFrom('0', '-1', '31', '1e3', 'abc', '', '0x0', 'Infinity', '0.0', '00'),
    nasty.filter((s) => Number.isNaN(Number(s.trim() || 'x')) || Number(s) <= 0 || Number(s) > 30),
  );
  const statusQuery = fc.tuple(query(['last'], v), safeWait).map(([q, w]) => `${q}${q ? '&' : '?'}wait=${pct(w)}`);

  const t: Record<string, Template[]> = {
    oidc: [
      { surface: 'page', methods: fc.constantFrom('GET', 'POST'), path: query(AUTHORIZE, v).map((q) => `/auth${q}`), fields: AUTHORIZE },
      { surface: 'page', path: fc.tuple(segment, query(AUTHORIZE, v)).map(([s, q]) => `/auth/${s}${q}`), fields: AUTHORIZE },
      {
        surface: 'oidc',
        methods: fc.oneof({ weight: 5, arbitrary: post }, { weight: 1, arbitrary: method }),
        path: query(TOKEN, v).map((q) => `/token${q}`),
        fields: TOKEN,
      },
      {
        surface: 'oidc',
        methods: fc.oneof({ weight: 5, arbitrary: post }, { weight: 1, arbitrary: method }),
        path: fc.constantFrom('/token/introspection', '/token/revocation'),
        fields: TOKEN_OPS,
      },
      { surface: 'oidc', path: query(['access_token', 'scope'], v).map((q) => `/me${q}`), fields: ['access_token'] },
      {
        surface: 'oidc',
        methods: fc.oneof(get, method),
        path: fc
          .tuple(
            fc.constantFrom(
              '/.well-known/openid-configuration',
              '/jwks',
              '/.well-known/webfinger',
              '/.well-known/apple-app-site-association',
              '/.well-known/assetlinks.json',
              '/reg',
              '/device',
              '/backchannel',
            ),
            query(['x', 'resource'], v),
          )
          .map(([p, q]) => p + q),
      },
      {
        surface: 'page',
        path: fc.tuple(fc.constantFrom('/session/end', '/session/end/confirm', '/session/end/success'), query(LOGOUT, v)).map(([p, q]) => p + q),
        fields: LOGOUT,
      },
      { surface: 'oidc', methods: post, path: fc.constant('/request'), fields: AUTHORIZE },
    ],
    interaction: [
      { surface: 'page', path: fc.tuple(uid, query(['lang', 'ui_locales'], v)).map(([u, q]) => `/interaction/${u}${q}`) },
      { surface: 'interaction', path: fc.tuple(uid, query(['x'], v)).map(([u, q]) => `/interaction/${u}/qr${q}`) },
      { surface: 'interaction', methods: get, path: fc.tuple(uid, statusQuery).map(([u, q]) => `/interaction/${u}/qr/status${q}`) },
      { surface: 'interaction', methods: get, path: fc.tuple(uid, query(['last'], v)).map(([u, q]) => `/interaction/${u}/qr/events${q}`), stream: true },
      { surface: 'page', path: uid.map((u) => `/interaction/${u}/complete`) },
      { surface: 'page', methods: fc.oneof({ weight: 4, arbitrary: post }, { weight: 1, arbitrary: method }), path: uid.map((u) => `/interaction/${u}/abort`) },
      { surface: 'page', path: fc.tuple(uid, segment).map(([u, s]) => `/interaction/${u}/${s}`) },
    ],
    mobile: [
      {
        surface: 'mobile',
        path: fc.constantFrom(
          '/api/mobile/register',
          '/api/mobile/login',
          '/api/mobile/logout',
          '/api/mobile/me',
          '/api/mobile/scans',
          '/api/mobile/authorizations',
          '/api/mobile/activity',
        ),
      },
      {
        surface: 'mobile',
        path: fc.constantFrom(
          '/api/mobile/login/passkey',
          '/api/mobile/login/passkey/options',
          '/api/mobile/login/assertion',
          '/api/mobile/login/sso',
          '/api/mobile/sign-in-options',
          '/api/mobile/passkeys',
          '/api/mobile/passkeys/options',
          '/api/mobile/openapi.json',
        ),
      },
      { surface: 'mobile', path: fc.oneof(segment, fc.constant('AAAA')).map((id) => `/api/mobile/passkeys/${id}`) },
      {
        surface: 'mobile',
        path: fc.tuple(qrId, fc.constantFrom('', '/confirm', '/confirm/options', '/deny', '/x')).map(([q, a]) => `/api/mobile/scans/${q}${a}`),
      },
      { surface: 'mobile', path: fc.oneof(fc.constant(ctx.appId), segment).map((a) => `/api/mobile/authorizations/${a}`) },
      { surface: 'mobile', path: fc.tuple(segment, query(['x'], v)).map(([s, q]) => `/api/mobile/${s}${q}`) },
    ],
    web: [
      {
        surface: 'web',
        path: fc
          .tuple(
            fc.constantFrom('/app', '/app/', '/app/manifest.webmanifest', '/app/sw.js', '/healthz', '/', '/favicon.ico', '/robots.txt'),
            query(['lang', 'x'], v),
          )
          .map(([p, q]) => p + q),
      },
      { surface: 'web', path: qrId.map((q) => `/q/${q}`) },
      {
        surface: 'web',
        path: fc
          .tuple(fc.oneof(fc.constant('corp'), segment), fc.constantFrom('', '/callback'), query(['state', 'code', 'error', 'iss'], v))
          .map(([id, c, q]) => `/app/sso/${id}${c}${q}`),
      },
      {
        surface: 'web',
        path: fc
          .oneof(fc.constantFrom('index.js', 'methods/startAuthentication.js', 'index.d.ts', '../package.json', '%2e%2e/%2e%2e/package.json'), segment)
          .map((f) => `/app/vendor/simplewebauthn/${f}`),
      },
      {
        surface: 'web',
        path: fc
          .oneof(fc.constantFrom('qr-scanner.min.js', 'qr-scanner-worker.min.js', 'package.json', '../package.json', '%2e%2e/%2e%2e/package.json'), segment)
          .map((f) => `/app/vendor/qr-scanner/${f}`),
      },
      {
        surface: 'web',
        path: fc
          .oneof(fc.constantFrom('saoma.css', 'qr-page.js', 'app/app.js', '../src/app.ts', '..%2fsrc%2fapp.ts', '%2e%2e/%2e%2e/package.json', '.env'), segment)
          .map((f) => `/static/${f}`),
      },
      { surface: 'web', path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`) },
    ],
    wechat: opts.wechat
      ? [
          { surface: 'connect', path: query(QRCONNECT, v).map((q) => `/connect/qrconnect${q}`), fields: QRCONNECT },
          { surface: 'web', path: fc.constantFrom('/connect/wxLogin.js', '/connect/embed/frame.js', '/connect/embed/frame.css', '/connect/x') },
          {
            surface: 'connect',
            path: fc.tuple(segment, fc.constantFrom('/qr', '/status', '/complete', '', '/x'), statusQuery).map(([s, a, q]) => `/connect/embed/${s}${a}${q}`),
          },
          {
            surface: 'sns',
            methods: fc.oneof({ weight: 8, arbitrary: get }, { weight: 1, arbitrary: method }),
            path: fc
              .tuple(fc.constantFrom('oauth2/access_token', 'oauth2/refresh_token', 'auth', 'userinfo', 'oauth2/x', ''), query(SNS, v))
              .map(([p, q]) => `/sns/${p}${q}`),
            fields: SNS,
          },
        ]
      : [],
    adminWeb: opts.adminWeb
      ? [
          {
            surface: 'adminHttp',
            path: fc
              .tuple(
                fc.constantFrom('apps', `apps/${ctx.adminAppId}`, `apps/${ctx.adminAppId}/secret`, 'developers', 'tokens', 'users', 'keys', 'keys/x', 'x'),
                query(['developerId', 'x'], v),
              )
              .map(([a, q]) => `/api/admin/${a}${q}`),
            fields: ADMIN,
          },
          {
            surface: 'console',
            path: fc
              .tuple(
                fc.constantFrom('', '/login', '/logout', '/apps', `/apps/${ctx.adminAppId}`, '/developers', '/keys', '/keys/x', '/keys/x/remove', '/x'),
                query(['next', 'x'], v),
              )
              .map(([a, q]) => `/admin${a}${q}`),
            fields: ['username', 'password', '_csrf', 'next', 'name'],
          },
        ]
      : [],
    admin: [
      { surface: 'admin', methods: fc.oneof(get, post, method), path: fc.constant('/api/admin/apps'), fields: ADMIN },
      {
        surface: 'admin',
        path: fc
          .tuple(fc.oneof(fc.constant(ctx.adminAppId), segment), fc.constantFrom('', '/secret', '/disable', '/enable', '/x'))
          .map(([a, s]) => `/api/admin/apps/${a}${s}`),
        fields: ADMIN,
      },
      { surface: 'admin', path: fc.tuple(segment, query(['x'], v)).map(([s, q]) => `/api/admin/${s}${q}`), fields: ADMIN },
    ],
  };
  return Object.fromEntries(Object.entries(t).map(([name, list]) => [name, list.length ? fc.oneof(...list.map((x) => build(ctx, x))) : null])) as Record<
    keyof typeof t,
    fc.Arbitrary<FuzzRequest> | null
  >;
}

const SNAKE = /^[a-z][a-z0-9_]*$/;

/** Problems with one answer; empty when it is a documented answer. */
export function checkResponse(req: FuzzRequest, res: RawResponse, ctx: Ctx, issuer: string): string[] {
  const problems: string[] = [];
  const type = res.headers['content-type'] ?? '';
  if (res.status >= 500) problems.push(`HTTP ${res.status}`);
  // Static scripts may say "served at /app/sw.js"; every other answer is held to it.
  const asset = res.status < 400 && /javascript|css|manifest/.test(type);
  if (!asset && LEAK.test(res.text)) problems.push(`leaks internals: ${res.text.match(LEAK)![0]}`);
  for (const [name, value] of Object.entries(res.headers)) {
    if (name === INJECTED) problems.push('header injection');
    if (LEAK.test(String(value))) problems.push(`header ${name} leaks internals`);
  }
  const location = res.headers.location;
  if (location) {
    const target = new URL(location, issuer);
    const ours = target.origin === new URL(issuer).origin;
    // Redirects leave only to a registered redirect_uri (no open redirect).
    if (!ours && !target.href.startsWith(ctx.redirectUri) && !target.href.startsWith('http://127.0.0.1:5999/'))
      problems.push(`redirects off-site to ${target.origin}`);
  }
  // No route for this method and path: Koa's (oidc-provider's) bare 404.
  if (res.status === 404 && type.startsWith('text/plain') && res.text === 'Not Found' && !['mobile', 'admin', 'adminHttp', 'sns'].includes(req.surface))
    return problems;
  const noBody = req.method === 'HEAD' || res.status === 204 || res.status === 304 || (res.status >= 300 && res.status < 400);
  // Node's own parser answer to a request it cannot parse (bad method, bad path bytes).
  const parserLevel = (res.status === 400 || res.status === 414 || res.status === 431) && !type && res.text === '';
  if (noBody || parserLevel || req.readLimit) return problems;

  let json: Record<string, unknown> | undefined;
  if (type.includes('json')) {
    try {
      json = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      problems.push('JSON content type, body is not JSON');
    }
  }
  const jsonError = () => {
    if (!json) return problems.push(`expected a JSON error body, got ${type || 'no content type'}`);
    if (typeof json.error !== 'string' || !SNAKE.test(json.error)) problems.push(`JSON error without a snake_case "error": ${res.text.slice(0, 120)}`);
    if (json.error_description !== undefined && typeof json.error_description !== 'string') problems.push('error_description is not a string');
  };
  const htmlError = () => {
    if (!type.includes('html')) return false;
    if (!/class="card error"|class="wx-error"|<p class="code">/.test(res.text)) problems.push(`HTML error without our error page: ${res.text.slice(0, 120)}`);
    return true;
  };

  switch (req.surface) {
    case 'sns':
      if (res.status !== 200) problems.push(`WeChat API answered HTTP ${res.status}`);
      if (!json || (typeof json.errcode !== 'number' && typeof json.access_token !== 'string' && typeof json.openid !== 'string'))
        problems.push(`WeChat API without errcode: ${res.text.slice(0, 120)}`);
      break;
    case 'mobile':
    case 'admin':
    case 'adminHttp':
      if (res.status >= 400) {
        jsonError();
        if (json && typeof json.error_description !== 'string') problems.push('missing error_description');
      }
      break;
    case 'interaction':
    case 'oidc':
      if (res.status >= 400 && !htmlError()) jsonError();
      break;
    case 'page':
    case 'connect':
      if (res.status >= 400 && !htmlError()) jsonError();
      break;
    case 'console':
      // The console answers a bad sign-in with its sign-in form again (an error on the form).
      if (res.status >= 400 && !type.includes('html')) jsonError();
      break;
    case 'web':
      if (res.status >= 400 && type.includes('json')) jsonError();
      else if (res.status >= 400 && type.includes('html')) htmlError();
      break;
  }
  return problems;
}

export const describeRequest = (r: FuzzRequest) =>
  JSON.stringify({
    method: r.method,
    path: r.path.length > 300 ? `${r.path.slice(0, 300)}…(${r.path.length})` : r.path,
    headers: r.headers,
    body:
      typeof r.body === 'string' && r.body.length > 300
        ? `${r.body.slice(0, 300)}…(${r.body.length})`
        : r.body instanceof Buffer
          ? `<${r.body.length} bytes>`
          : r.body,
  });

export { pct };

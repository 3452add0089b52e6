#!/usr/bin/env node
// A whole QR login against a running provider over HTTP, with nothing but Node (no TypeScript,
// no devDependencies, no browser): what scripts/prod-layout.sh runs against `npm run start:prod`.
//
//   node scripts/prod-login.mjs <issuer> <appId> <appSecret> <redirectUri>
//
// The site sends a browser to /auth; the browser (a cookie jar) lands on the QR page and reads
// the QR; a phone registers, signs in, scans and confirms through the phone API; the browser
// completes and lands on the callback with a code; the site exchanges it (AppSecret + PKCE) at
// /token and reads /me. Exit 0 and one line of JSON on success; exit 1 naming the failed step.
import { Buffer } from 'node:buffer';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { URLSearchParams } from 'node:url';

const [issuer, appId, appSecret, redirectUri] = process.argv.slice(2);
if (!issuer || !appId || !appSecret || !redirectUri) {
  console.error('usage: node scripts/prod-login.mjs <issuer> <appId> <appSecret> <redirectUri>');
  process.exit(2);
}

class StepError extends Error {}
const fail = (step, detail) => {
  throw new StepError(`${step}: ${detail}`);
};
const b64url = (buf) => buf.toString('base64url');

/** A browser's cookies for one host (names only: every path gets every cookie, harmless here). */
const jar = new Map();
function remember(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const name = pair.slice(0, pair.indexOf('=')).trim();
    const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
    if (expired) jar.delete(name);
    else jar.set(name, pair.slice(pair.indexOf('=') + 1).trim());
  }
}
const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

/** Browser navigation: follows redirects by hand (fetch would drop Set-Cookie in between) until `stop(url)`. */
async function navigate(step, url, stop) {
  for (let hops = 0; hops < 10; hops++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader(), accept: 'text/html' } });
    remember(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      if (stop(url)) return url;
      continue;
    }
    if (stop(new URL(url)) && res.status === 200) return new URL(url);
    fail(step, `HTTP ${res.status} at ${new URL(url).pathname}: ${(await res.text()).slice(0, 200)}`);
  }
  fail(step, 'too many redirects');
}

async function json(step, res, expected = 200) {
  const text = await res.text();
  if (res.status !== expected) fail(step, `HTTP ${res.status} (expected ${expected}): ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    fail(step, `not JSON: ${text.slice(0, 200)}`);
  }
}

/** The ID token's signature against the provider's published keys (JWS: ES256 or RS256). */
async function verifyIdToken(jwt) {
  const [header64, payload64, signature64] = jwt.split('.');
  const header = JSON.parse(Buffer.from(header64, 'base64url').toString());
  const discovery = await json('discovery', await fetch(new URL('/.well-known/openid-configuration', issuer)));
  const { keys } = await json('jwks', await fetch(discovery.jwks_uri));
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) fail('id_token', `signed with unknown key ${header.kid}`);
  const algorithm = { ES256: 'sha256', RS256: 'sha256' }[header.alg] ?? fail('id_token', `unexpected alg ${header.alg}`);
  const key = { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' };
  if (!verify(algorithm, Buffer.from(`${header64}.${payload64}`), key, Buffer.from(signature64, 'base64url'))) fail('id_token', 'bad signature');
  return JSON.parse(Buffer.from(payload64, 'base64url').toString());
}

async function login() {
  // 1. The site sends the browser to the authorization endpoint (PKCE S256, state).
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const auth = new URL('/auth', issuer);
  auth.search = new URLSearchParams({
    client_id: appId,
    response_type: 'code',
    scope: 'openid profile',
    redirect_uri: redirectUri,
    state,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  const page = await navigate('authorize', auth, (u) => /^\/interaction\/[^/]+$/.test(u.pathname));
  const uid = page.pathname.split('/')[2];

  // 2. The QR page's script asks for the QR.
  const qr = await json('QR', await fetch(new URL(`/interaction/${uid}/qr`, issuer), { headers: { cookie: cookieHeader() } }));
  if (!qr.qrId || !qr.payload) fail('QR', `no qrId/payload in ${JSON.stringify(qr).slice(0, 200)}`);

  // 3. A phone: register, sign in, scan, confirm.
  const username = `prod${randomBytes(4).toString('hex')}`;
  const password = b64url(randomBytes(12));
  const phone = (method, path, body, token) =>
    fetch(new URL(`/api/mobile${path}`, issuer), {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  await json('phone register', await phone('POST', '/register', { username, password, nickname: 'Prod Check' }), 201);
  const { token } = await json('phone login', await phone('POST', '/login', { username, password, deviceName: 'prod-layout' }));
  const scan = await json('phone scan', await phone('POST', '/scans', { payload: qr.payload }, token));
  if (scan.app?.appId !== appId) fail('phone scan', `shows app ${scan.app?.appId}, expected ${appId}`);
  await json('phone confirm', await phone('POST', `/scans/${encodeURIComponent(qr.qrId)}/confirm`, undefined, token));

  // 4. The browser completes and lands on the site's callback.
  const callback = await navigate('complete', new URL(`/interaction/${uid}/complete`, issuer), (u) => u.href.startsWith(redirectUri));
  const code = callback.searchParams.get('code');
  if (!code) fail('complete', `no code in ${callback.href.replace(/code=[^&]+/, 'code=…')}`);
  if (callback.searchParams.get('state') !== state) fail('complete', 'state mismatch');

  // 5. The site exchanges the code with its AppSecret, then reads the profile.
  const tokens = await json(
    'token',
    await fetch(new URL('/token', issuer), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(appId)}:${encodeURIComponent(appSecret)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }),
    }),
  );
  if (!tokens.access_token || !tokens.id_token) fail('token', `missing tokens: ${Object.keys(tokens).join(', ')}`);
  const me = await json('userinfo', await fetch(new URL('/me', issuer), { headers: { authorization: `Bearer ${tokens.access_token}` } }));
  if (!me.sub || me.nickname !== 'Prod Check') fail('userinfo', `unexpected profile ${JSON.stringify(me)}`);
  const idClaims = await verifyIdToken(tokens.id_token);
  if (idClaims.sub !== me.sub || idClaims.aud !== appId || idClaims.iss !== issuer) fail('id_token', `claims do not match: ${JSON.stringify(idClaims)}`);
  return { ok: true, issuer, appId, sub: me.sub, unionid: me.unionid ?? null, nickname: me.nickname };
}

try {
  console.log(JSON.stringify(await login()));
} catch (err) {
  console.error(`prod-login failed at ${err instanceof StepError ? err.message : `an unexpected error: ${err?.stack ?? err}`}`);
  process.exit(1);
}

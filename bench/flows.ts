/**
 * One login, as a browser, a phone and a site do it, over real HTTP. The QR flow and the
 * baseline flow share the site's steps (authorize, callback, token, userinfo) so the only
 * difference the bench sees is what happens between authorize and the callback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Jar, locationOf, type Origin, type Reply } from './http.js';

export interface Site {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scope: string;
}

export interface Phone {
  token: string;
}

export interface LoginTiming {
  totalMs: number;
  /** POST confirm sent → the browser's SSE stream delivered `confirmed` (QR flow only). */
  notifyMs?: number;
}

const random = () => randomBytes(32).toString('base64url');

function expect(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status) throw new Error(`${what}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
  return reply;
}

/** The site sends the browser to /auth with PKCE; returns the interaction path the provider chose. */
async function authorize(origin: Origin, site: Site, jar: Jar) {
  const verifier = random();
  const state = random().slice(0, 16);
  const query = new URLSearchParams({
    client_id: site.clientId,
    redirect_uri: site.redirectUri,
    response_type: 'code',
    scope: site.scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const interaction = locationOf(await origin.request('GET', `/auth?${query}`, { jar }), origin);
  return { verifier, state, interaction };
}

/** Browser follows the provider's redirects until it lands on the site's callback: returns the code. */
async function followToCallback(origin: Origin, site: Site, jar: Jar, from: URL, state: string): Promise<string> {
  let url = from;
  for (let hops = 0; hops < 5; hops++) {
    if (url.href.startsWith(site.redirectUri)) {
      const code = url.searchParams.get('code');
      if (url.searchParams.get('state') !== state || !code) throw new Error(`callback without code or state: ${url.search}`);
      return code;
    }
    url = locationOf(await origin.request('GET', url.pathname + url.search, { jar }), origin);
  }
  throw new Error('too many redirects before the callback');
}

/** The site redeems the code (PKCE, client_secret_basic) and reads the profile. */
async function redeem(origin: Origin, site: Site, code: string, verifier: string) {
  const basic = Buffer.from(`${encodeURIComponent(site.clientId)}:${encodeURIComponent(site.clientSecret)}`).toString('base64');
  const token = expect(
    await origin.request('POST', '/token', {
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: site.redirectUri, code_verifier: verifier }).toString(),
    }),
    200,
    'token',
  );
  const { access_token, id_token } = JSON.parse(token.body) as { access_token?: string; id_token?: string };
  if (!access_token || !id_token) throw new Error(`token response without tokens: ${token.body.slice(0, 200)}`);
  const me = expect(await origin.request('GET', '/me', { headers: { authorization: `Bearer ${access_token}` } }), 200, 'userinfo');
  if (!(JSON.parse(me.body) as { sub?: string }).sub) throw new Error('userinfo without sub');
}

/** The QR page and its SSE stream up to the first status event: what a waiting page holds. */
export async function openQrPage(origin: Origin, site: Site) {
  const jar = new Jar();
  const auth = await authorize(origin, site, jar);
  const uid = /^\/interaction\/([^/]+)$/.exec(auth.interaction.pathname)?.[1];
  if (!uid) throw new Error(`authorize went to ${auth.interaction.pathname}, not a QR page`);
  expect(await origin.request('GET', auth.interaction.pathname, { jar }), 200, 'QR page');
  const waiters = new Map<string, (at: number) => void>();
  const seen = new Map<string, number>();
  const events = await origin.events(`/interaction/${uid}/qr/events`, jar, (event, data) => {
    if (event !== 'status') return;
    const { status } = JSON.parse(data) as { status: string };
    const at = performance.now();
    if (!seen.has(status)) seen.set(status, at);
    waiters.get(status)?.(at);
  });
  /** Resolves with the time `status` arrived (at once if it already did). */
  const statusAt = (status: string, timeoutMs = 10_000) =>
    new Promise<number>((resolve, reject) => {
      const already = seen.get(status);
      if (already !== undefined) {
        resolve(already);
        return;
      }
      const timer = setTimeout(() => reject(new Error(`no "${status}" event within ${timeoutMs} ms`)), timeoutMs);
      waiters.set(status, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  // The stream sends the current status once it is subscribed: from then on nothing is missed.
  await statusAt('pending');
  return { jar, uid, auth, events, statusAt };
}

/**
 * authorize → QR page → QR JSON → SSE → phone scan → phone confirm → SSE `confirmed` →
 * /complete → resume → callback → token → userinfo.
 */
export async function qrLogin(origin: Origin, site: Site, phone: Phone): Promise<LoginTiming> {
  const started = performance.now();
  const page = await openQrPage(origin, site);
  try {
    const qr = JSON.parse(expect(await origin.request('GET', `/interaction/${page.uid}/qr`, { jar: page.jar }), 200, 'QR JSON').body) as {
      qrId: string;
      payload: string;
    };
    const bearer = { authorization: `Bearer ${phone.token}`, 'content-type': 'application/json' };
    expect(await origin.request('POST', '/api/mobile/scans', { headers: bearer, body: JSON.stringify({ payload: qr.payload }) }), 200, 'scan');
    const confirmedAt = page.statusAt('confirmed');
    const sent = performance.now();
    expect(await origin.request('POST', `/api/mobile/scans/${qr.qrId}/confirm`, { headers: bearer }), 200, 'confirm');
    const notifyMs = (await confirmedAt) - sent;
    page.events.close();
    const resume = locationOf(await origin.request('GET', `/interaction/${page.uid}/complete`, { jar: page.jar }), origin);
    const code = await followToCallback(origin, site, page.jar, resume, page.auth.state);
    await redeem(origin, site, code, page.auth.verifier);
    return { totalMs: performance.now() - started, notifyMs };
  } finally {
    page.events.close();
  }
}

/** Plain oidc-provider with a free login step: authorize → interaction (finishes at once) → callback → token → userinfo. */
export async function baselineLogin(origin: Origin, site: Site): Promise<LoginTiming> {
  const started = performance.now();
  const jar = new Jar();
  const auth = await authorize(origin, site, jar);
  const code = await followToCallback(origin, site, jar, auth.interaction, auth.state);
  await redeem(origin, site, code, auth.verifier);
  return { totalMs: performance.now() - started };
}

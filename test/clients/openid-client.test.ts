import type { IncomingMessage, ServerResponse } from 'node:http';
import * as v6 from 'openid-client';
import { generators, Issuer } from 'openid-client-v5';
import { describe, expect, it } from 'vitest';
import { useProvider } from '../support/harness.js';
import { jsonOf, loginThroughSite, personWithPhone, registerApp, startSite } from './support.js';

/**
 * openid-client v5 (still widely deployed; installed as `openid-client-v5`) and v6, each as the
 * server side of a small site, configured as its README shows: discovery from the issuer, a
 * client with client_id/client_secret and the redirect URI, PKCE, the code exchanged on the
 * callback, the ID token validated and userinfo read. Nothing set beyond what the docs show.
 */
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;
const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function site(routes: { login: Handler; callback: Handler }) {
  return startSite((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const route = url.pathname === '/login' ? routes.login : url.pathname === '/callback' ? routes.callback : null;
    if (!route) return void json(res, 404, { error: 'not found' });
    route(req, res, url).catch((err: unknown) => {
      const e = err as Error & { error?: string; error_description?: string };
      json(res, 500, { error: e.name, message: e.message, oauth: e.error, description: e.error_description });
    });
  });
}

describe('openid-client against Saoma (embedded default)', () => {
  const p = useProvider('embedded');

  it('v5: Issuer.discover + new issuer.Client with only client_id, client_secret, redirect_uris: ID token accepted, userinfo read', async () => {
    const verifiers = new Map<string, string>();
    let client: InstanceType<Awaited<ReturnType<typeof Issuer.discover>>['Client']>;
    let redirectUri = '';
    const s = await site({
      // eslint-disable-next-line @typescript-eslint/require-await -- a Handler: async makes a throw the 500 the site answers
      async login(_req, res) {
        const codeVerifier = generators.codeVerifier();
        const state = generators.state();
        verifiers.set(state, codeVerifier);
        const to = client.authorizationUrl({
          scope: 'openid profile',
          code_challenge: generators.codeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
        });
        res.writeHead(302, { location: to }).end();
      },
      async callback(req, res) {
        const params = client.callbackParams(req);
        const tokenSet = await client.callback(redirectUri, params, { code_verifier: verifiers.get(params.state!), state: params.state });
        json(res, 200, { claims: tokenSet.claims(), userinfo: await client.userinfo(tokenSet) });
      },
    });
    try {
      redirectUri = `${s.origin}/callback`;
      const app = await registerApp(p, { redirectUris: [redirectUri] });
      const issuer = await Issuer.discover(p.issuer);
      client = new issuer.Client({ client_id: app.appId, client_secret: app.appSecret, redirect_uris: [redirectUri], response_types: ['code'] });
      const person = await personWithPhone(p);
      const { res } = await loginThroughSite(p, person, `${s.origin}/login`);
      const { status, body } = await jsonOf(res);
      expect(status, JSON.stringify(body)).toBe(200);
      const claims = body.claims as Record<string, unknown>;
      expect(claims).toMatchObject({ iss: p.issuer, aud: app.appId, nickname: person.nickname, picture: person.picture });
      expect(body.userinfo).toMatchObject({ sub: claims.sub, nickname: person.nickname, picture: person.picture });
    } finally {
      await s.close();
    }
  });

  it('v6: discovery + authorizationCodeGrant + fetchUserInfo (allowInsecureRequests only because the test issuer is http)', async () => {
    const logins = new Map<string, string>();
    let config: v6.Configuration;
    const s = await site({
      async login(_req, res) {
        const codeVerifier = v6.randomPKCECodeVerifier();
        const state = v6.randomState();
        logins.set(state, codeVerifier);
        const to = v6.buildAuthorizationUrl(config, {
          redirect_uri: `${s.origin}/callback`,
          scope: 'openid profile',
          code_challenge: await v6.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
        });
        res.writeHead(302, { location: to.href }).end();
      },
      async callback(_req, res, url) {
        const state = url.searchParams.get('state')!;
        const tokens = await v6.authorizationCodeGrant(config, url, { pkceCodeVerifier: logins.get(state), expectedState: state });
        const claims = tokens.claims()!;
        json(res, 200, { claims, userinfo: await v6.fetchUserInfo(config, tokens.access_token, claims.sub) });
      },
    });
    try {
      // v6 authenticates with client_secret_post when given the secret (its README's quick start).
      const app = await registerApp(p, { redirectUris: [`${s.origin}/callback`], tokenEndpointAuthMethod: 'client_secret_post' });
      config = await v6.discovery(new URL(p.issuer), app.appId, app.appSecret, undefined, { execute: [v6.allowInsecureRequests] });
      const person = await personWithPhone(p);
      const { res } = await loginThroughSite(p, person, `${s.origin}/login`);
      const { status, body } = await jsonOf(res);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.claims).toMatchObject({ iss: p.issuer, aud: app.appId, nickname: person.nickname, picture: person.picture });
      expect(body.userinfo).toMatchObject({ nickname: person.nickname });
    } finally {
      await s.close();
    }
  });
});

import type { IncomingMessage, ServerResponse } from 'node:http';
import * as o from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProvider, type TestProvider, closeStarted } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { jsonOf, loginThroughSite, personWithPhone, registerApp, startSite } from './support.js';

/**
 * oauth4webapi 3 as its README's code flow shows it, with a pushed authorization request
 * (PAR): discovery, PAR, the authorization URL with request_uri, validateAuthResponse,
 * authorizationCodeGrantRequest + processAuthorizationCodeResponse, userInfoRequest. The
 * `allowInsecureRequests` option is there only because the test issuer is http://localhost.
 */
const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const insecure = { [o.allowInsecureRequests]: true };
const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function oauth4webapiSite(issuer: string, app: { appId: string; appSecret: string }, origin: () => string) {
  const issuerUrl = new URL(issuer);
  const as = await o.processDiscoveryResponse(issuerUrl, await o.discoveryRequest(issuerUrl, insecure));
  const client: o.Client = { client_id: app.appId };
  const clientAuth = o.ClientSecretBasic(app.appSecret);
  const verifiers = new Map<string, string>();

  async function login(res: ServerResponse, scope = 'openid profile') {
    const codeVerifier = o.generateRandomCodeVerifier();
    const state = o.generateRandomState();
    verifiers.set(state, codeVerifier);
    const params = new URLSearchParams({
      response_type: 'code',
      redirect_uri: `${origin()}/callback`,
      scope,
      code_challenge: await o.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    const par = await o.processPushedAuthorizationResponse(as, client, await o.pushedAuthorizationRequest(as, client, clientAuth, params, insecure));
    const to = new URL(as.authorization_endpoint!);
    to.searchParams.set('client_id', client.client_id);
    to.searchParams.set('request_uri', par.request_uri);
    res.writeHead(302, { location: to.href }).end();
  }

  async function callback(res: ServerResponse, current: URL) {
    const state = current.searchParams.get('state') ?? '';
    let params: URLSearchParams;
    try {
      params = o.validateAuthResponse(as, client, current, state);
    } catch (err) {
      if (err instanceof o.AuthorizationResponseError) return void json(res, 403, { error: err.error, state: current.searchParams.get('state') });
      throw err;
    }
    const response = await o.authorizationCodeGrantRequest(as, client, clientAuth, params, `${origin()}/callback`, verifiers.get(state)!, insecure);
    const result = await o.processAuthorizationCodeResponse(as, client, response);
    const claims = o.getValidatedIdTokenClaims(result)!;
    const userinfo = await o.processUserInfoResponse(as, client, claims.sub, await o.userInfoRequest(as, client, result.access_token, insecure));
    json(res, 200, { claims, userinfo });
  }

  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    try {
      if (url.pathname === '/login') await login(res, url.searchParams.get('scope') ?? undefined);
      else if (url.pathname === '/callback') await callback(res, url);
      else json(res, 404, { error: 'not found' });
    } catch (err) {
      json(res, 500, { error: (err as Error).name, message: (err as Error).message, cause: (err as { cause?: unknown }).cause ?? null });
    }
  };
}

describe.skipIf(skip)('oauth4webapi against Saoma (PostgreSQL + Redis)', () => {
  let p: TestProvider;
  let s: Awaited<ReturnType<typeof startSite>>;
  let handler: Awaited<ReturnType<typeof oauth4webapiSite>>;
  let app: { appId: string; appSecret: string };

  beforeAll(async () => {
    p = await startTestProvider('services');
    s = await startSite((req, res) => void handler(req, res));
    app = await registerApp(p, { redirectUris: [`${s.origin}/callback`] });
    handler = await oauth4webapiSite(p.issuer, app, () => s.origin);
  });
  afterAll(async () => {
    await closeStarted(s, p);
  });

  it('PAR → QR → phone confirms → code → ID token (with the approved profile) and userinfo', async () => {
    const person = await personWithPhone(p);
    const { res } = await loginThroughSite(p, person, `${s.origin}/login`);
    const { status, body } = await jsonOf(res);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.claims).toMatchObject({ iss: p.issuer, aud: app.appId, nickname: person.nickname, picture: person.picture });
    expect(body.userinfo).toMatchObject({ nickname: person.nickname, picture: person.picture });
  });

  it('plain OAuth 2.0 (scope=profile, no openid): refused with invalid_scope at PAR, before any QR or phone', async () => {
    const res = await fetch(`${s.origin}/login?scope=profile`, { redirect: 'manual' });
    expect(await jsonOf(res)).toMatchObject({ status: 500, body: { error: 'ResponseBodyError', cause: { error: 'invalid_scope' } } });
  });

  it('the phone denies: the library reports access_denied', async () => {
    const person = await personWithPhone(p);
    const { res } = await loginThroughSite(p, person, `${s.origin}/login`, { decision: 'deny' });
    expect(await jsonOf(res)).toMatchObject({ status: 403, body: { error: 'access_denied' } });
  });
});

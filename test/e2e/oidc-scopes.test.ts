import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import { fullLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';

/**
 * What the scopes unlock: `openid` is required (a request without it is refused with
 * invalid_scope before any QR), and with `profile` the ID token carries the same profile
 * claims as userinfo, for sites that read the person from the ID token alone.
 */
describe('OIDC scopes (embedded default)', () => {
  const p = useProvider('embedded');

  it('puts the approved profile claims in the ID token, as userinfo has them', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { claims, profile } = await fullLogin(p, config, phone);
    expect(claims).toMatchObject({ nickname: phone.user.nickname, name: phone.user.nickname, unionid: expect.any(String) });
    expect(claims.unionid).toBe(profile.unionid);
    expect(claims.nickname).toBe(profile.nickname);
  });

  it('refuses a request without openid with invalid_scope at the redirect_uri, before any QR page', async () => {
    const { config } = await registerSite(p);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'profile',
      state: 'st-1',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    const res = await new TestBrowser().fetch(url);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'invalid_scope', state: 'st-1' });
  });

  it('refuses a pushed authorization request without openid with a 400 invalid_scope', async () => {
    const { app } = await registerSite(p);
    const res = await fetch(`${p.issuer}/request`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${app.appId}:${app.appSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        client_id: app.appId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'profile offline_access',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      }),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_scope' });
  });
});

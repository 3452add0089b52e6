/**
 * No secrets in logs: passwords, AppSecrets, device tokens, authorization codes, access and
 * refresh tokens never reach a log line, whatever the code logs and at whatever depth.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler, renderJson } from '../../provider/src/http/render.js';
import { fullLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { capturingLogger, startProviderWith } from './support.js';
import { closeStarted } from '../support/harness.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('the provider logs (trace level) on PostgreSQL + Redis', () => {
  let p: TestProvider;
  const { log, lines } = capturingLogger('trace');
  beforeAll(async () => {
    p = await startProviderWith({ log });
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  it('never contain a password, AppSecret, device token, code or token from a login, a failed token call or phone sign-ins', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { tokens, callback, login } = await fullLogin(p, config, phone, { offline: true });
    const code = callback.searchParams.get('code')!;
    const post = (path: string, body: unknown) =>
      fetch(`${p.issuer}/api/mobile${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const wrongPassword = 'not-the-password-4711';
    await post('/login', { username: phone.username, password: wrongPassword });
    await post('/login', { username: phone.username, password: phone.password, deviceName: 'second phone' });
    const wrongSecret = 'WrongAppSecret-0815-guess';
    const basic = (secret: string) => `Basic ${Buffer.from(`${app.appId}:${secret}`).toString('base64')}`;
    const form = (extra: Record<string, string>) =>
      new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier, ...extra });
    expect((await fetch(`${p.issuer}/token`, { method: 'POST', headers: { authorization: basic(wrongSecret) }, body: form({}) })).status).toBe(401);
    expect((await fetch(`${p.issuer}/token`, { method: 'POST', body: form({ client_id: app.appId, client_secret: wrongSecret }) })).status).toBe(401);
    // The code once more (already used: revokes everything) and the tokens at introspection.
    await fetch(`${p.issuer}/token`, { method: 'POST', headers: { authorization: basic(app.appSecret) }, body: form({}) });
    await fetch(`${p.issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: basic(wrongSecret) },
      body: new URLSearchParams({ token: tokens.access_token }),
    });

    const secrets = {
      password: phone.password,
      wrongPassword,
      appSecret: app.appSecret,
      wrongSecret,
      deviceToken: phone.token,
      code,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      idToken: tokens.id_token!,
      codeVerifier: login.codeVerifier,
    };
    const output = lines.join('');
    expect(lines.length).toBeGreaterThan(0); // the capture works: 'provider listening' at least
    for (const [name, value] of Object.entries(secrets)) expect(output.includes(value), `${name} found in the logs`).toBe(false);
  });
});

describe('createLogger redaction', () => {
  it('masks secrets at the top level and nested at any depth, not only one level down', () => {
    const { log, lines } = capturingLogger('info');
    log.info({ password: 'TOPLEVEL-PASSWORD' }, 'a');
    log.info({ req: { body: { password: 'NESTED-PASSWORD', client_secret: 'NESTED-CLIENT-SECRET' } } }, 'b');
    log.info({ headers: { authorization: 'Bearer LOOSE-AUTH-HEADER', cookie: '_session=LOOSE-COOKIE' } }, 'c');
    log.info({ result: { tokens: { access_token: 'DEEP-ACCESS-TOKEN', refresh_token: 'DEEP-REFRESH-TOKEN' } } }, 'd');
    log.info({ app: { appSecret: 'APP-SECRET' }, device: { token: 'DEVICE-TOKEN' } }, 'e');
    const output = lines.join('');
    for (const secret of [
      'TOPLEVEL-PASSWORD',
      'NESTED-PASSWORD',
      'NESTED-CLIENT-SECRET',
      'LOOSE-AUTH-HEADER',
      'LOOSE-COOKIE',
      'DEEP-ACCESS-TOKEN',
      'DEEP-REFRESH-TOKEN',
      'APP-SECRET',
      'DEVICE-TOKEN',
    ]) {
      expect(output.includes(secret), `${secret} was logged`).toBe(false);
    }
    expect(lines).toHaveLength(5);
  });

  it('logs failing request URLs without the secrets and codes WeChat-style APIs carry in the query', async () => {
    const { log, lines } = capturingLogger('info');
    const app = express();
    app.get('/sns/oauth2/access_token', () => {
      throw new Error('boom');
    });
    app.use(errorHandler(log, renderJson));
    const res = await request(app).get('/sns/oauth2/access_token?appid=wxVISIBLE&secret=QUERY-SECRET&code=QUERY-CODE&grant_type=authorization_code');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'server_error', error_description: expect.any(String) });
    const output = lines.join('');
    expect(output).toContain('wxVISIBLE');
    expect(output).not.toContain('QUERY-SECRET');
    expect(output).not.toContain('QUERY-CODE');
  });
});

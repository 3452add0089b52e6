import { describe, expect, it } from 'vitest';
import { fullLogin, registerSite } from '../support/flow.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { signedInPhone, wechatApp, wechatTokens } from './support.js';
import { useProvider } from '../support/harness.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(servicesMissing)('openid and unionid: one person, as WeChat identifies them (PostgreSQL + Redis)', () => {
  const p = useProvider('services');

  it('gives the openid that equals the OIDC sub the same person gets at the same app through openid-client', async () => {
    const phone = await signedInPhone(p);
    // One app, used both ways: OIDC on its registered redirect URI, WeChat on its callback domain.
    const { app, config } = await registerSite(p, { callbackDomain: '127.0.0.1' });
    const oidc = await fullLogin(p, config, phone);
    const { tokens } = await wechatTokens(p, app, phone);
    expect(tokens.openid).toBe(oidc.claims.sub);
    expect(tokens.unionid).toBe(oidc.profile.unionid);
  });

  it('gives one unionid across the apps of one developer account, and different openids', async () => {
    const phone = await signedInPhone(p);
    const a = await wechatApp(p, { name: 'Shop', developerId: 'dev_acme' });
    const b = await wechatApp(p, { name: 'Forum', developerId: 'dev_acme' });
    const atA = (await wechatTokens(p, a, phone)).tokens;
    const atB = (await wechatTokens(p, b, phone)).tokens;
    expect(atA.unionid).toBe(atB.unionid);
    expect(atA.openid).not.toBe(atB.openid);
  });

  it('gives different unionids under different developer accounts, and different people different ids', async () => {
    const phone = await signedInPhone(p);
    const someoneElse = await signedInPhone(p);
    const acme = await wechatApp(p, { name: 'Acme', developerId: 'dev_acme2' });
    const globex = await wechatApp(p, { name: 'Globex', developerId: 'dev_globex' });
    const atAcme = (await wechatTokens(p, acme, phone)).tokens;
    const atGlobex = (await wechatTokens(p, globex, phone)).tokens;
    expect(atAcme.unionid).not.toBe(atGlobex.unionid);
    const other = (await wechatTokens(p, acme, someoneElse)).tokens;
    expect(other.openid).not.toBe(atAcme.openid);
    expect(other.unionid).not.toBe(atAcme.unionid);
  });

  it('keeps openid and unionid stable across logins', async () => {
    const phone = await signedInPhone(p);
    const app = await wechatApp(p, { name: 'Stable' });
    const first = (await wechatTokens(p, app, phone)).tokens;
    const second = (await wechatTokens(p, app, phone)).tokens;
    expect([second.openid, second.unionid]).toEqual([first.openid, first.unionid]);
  });
});

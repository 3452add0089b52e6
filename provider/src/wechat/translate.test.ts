import { describe, expect, it } from 'vitest';
import {
  appOriginSources,
  authorizationQuery,
  callbackUrl,
  inAppScopes,
  langOf,
  parentOriginAllowed,
  redirectAllowed,
  scopeAllowed,
  stylesheetAllowed,
  wechatScopeOf,
} from './translate.js';

const withDomain = (callbackDomain: string) => ({ callbackDomain, redirectUris: ['https://registered.example/cb'] });

describe('the WeChat redirect rule (authorization callback domain)', () => {
  it('accepts any path and query on the callback domain host', () => {
    const policy = withDomain('www.example.com');
    expect(redirectAllowed('https://www.example.com/wechat/callback', policy)).toBe(true);
    expect(redirectAllowed('https://www.example.com/other?next=%2Fhome', policy)).toBe(true);
    expect(redirectAllowed('https://WWW.Example.com/', policy)).toBe(true);
  });

  it('rejects subdomains, parent domains, look-alikes and other hosts, registered ones included', () => {
    const policy = withDomain('example.com');
    expect(redirectAllowed('https://evil.example.com/cb', policy)).toBe(false);
    expect(redirectAllowed('https://example.com.evil.net/cb', policy)).toBe(false);
    expect(redirectAllowed('https://notexample.com/cb', policy)).toBe(false);
    expect(redirectAllowed('https://registered.example/cb', policy)).toBe(false);
    expect(redirectAllowed('https://example.com@evil.net/cb', policy)).toBe(false);
  });

  it('rejects userinfo, fragments, non-http schemes and plain http off loopback', () => {
    const policy = withDomain('example.com');
    expect(redirectAllowed('https://user:pw@example.com/cb', policy)).toBe(false);
    expect(redirectAllowed('https://example.com/cb#x', policy)).toBe(false);
    expect(redirectAllowed('javascript://example.com/%0aalert(1)', policy)).toBe(false);
    expect(redirectAllowed('http://example.com/cb', policy)).toBe(false);
    expect(redirectAllowed('not a url', policy)).toBe(false);
    expect(redirectAllowed('http://127.0.0.1:5999/cb', withDomain('127.0.0.1'))).toBe(true);
  });

  it('pins the port when the callback domain names one, and allows any port otherwise', () => {
    expect(redirectAllowed('http://localhost:8080/cb', withDomain('localhost:8080'))).toBe(true);
    expect(redirectAllowed('http://localhost:9090/cb', withDomain('localhost:8080'))).toBe(false);
    expect(redirectAllowed('http://localhost:9090/cb', withDomain('localhost'))).toBe(true);
  });

  it('without a callback domain, accepts exactly the registered redirect URIs', () => {
    const policy = { callbackDomain: null, redirectUris: ['https://a.example/cb'] };
    expect(redirectAllowed('https://a.example/cb', policy)).toBe(true);
    expect(redirectAllowed('https://a.example/cb2', policy)).toBe(false);
    expect(redirectAllowed('https://a.example/cb?x=1', policy)).toBe(false);
  });
});

describe('who may receive the embedded QR completion (parent origin)', () => {
  it('is an origin of the app: on its callback domain, or of a registered redirect URI', () => {
    expect(parentOriginAllowed('https://www.example.com', withDomain('www.example.com'))).toBe(true);
    expect(parentOriginAllowed('https://evil.example', withDomain('www.example.com'))).toBe(false);
    const noDomain = { callbackDomain: null, redirectUris: ['https://a.example/cb'] };
    expect(parentOriginAllowed('https://a.example', noDomain)).toBe(true);
    expect(parentOriginAllowed('https://b.example', noDomain)).toBe(false);
  });

  it('must be a bare origin (no path), and not "null"', () => {
    expect(parentOriginAllowed('https://www.example.com/page', withDomain('www.example.com'))).toBe(false);
    expect(parentOriginAllowed('null', withDomain('www.example.com'))).toBe(false);
  });
});

describe('the callback URL', () => {
  it('is redirect_uri?code=CODE&state=STATE, code first', () => {
    expect(callbackUrl('https://a.example/cb', { code: 'C1', state: 's t' })).toBe('https://a.example/cb?code=C1&state=s%20t');
  });

  it('carries only the state when the person said no', () => {
    expect(callbackUrl('https://a.example/cb', { state: 'xyz' })).toBe('https://a.example/cb?state=xyz');
    expect(callbackUrl('https://a.example/cb', { state: '' })).toBe('https://a.example/cb?state=');
  });

  it("keeps the site's own query byte for byte", () => {
    expect(callbackUrl('https://a.example/cb?from=%2Fa%20b&x', { code: 'C', state: 'S' })).toBe('https://a.example/cb?from=%2Fa%20b&x&code=C&state=S');
  });
});

describe('scope, language and the OIDC request', () => {
  it('accepts snsapi_login only (comma lists of it included)', () => {
    expect(scopeAllowed('snsapi_login')).toBe(true);
    expect(scopeAllowed('snsapi_login,snsapi_login')).toBe(true);
    expect(scopeAllowed('snsapi_userinfo')).toBe(false);
    expect(scopeAllowed('snsapi_login,snsapi_base')).toBe(false);
    expect(scopeAllowed('')).toBe(false);
    expect(scopeAllowed(undefined)).toBe(false);
  });

  it("maps the in-app scopes: snsapi_userinfo → openid profile, snsapi_base → openid (both with WeChat's refresh token), nothing else", () => {
    expect(inAppScopes('snsapi_userinfo')).toEqual(['openid', 'profile', 'offline_access']);
    expect(inAppScopes('snsapi_base')).toEqual(['openid', 'offline_access']);
    for (const other of ['snsapi_login', 'snsapi_userinfo,snsapi_base', '', undefined]) expect(inAppScopes(other)).toBeNull();
    expect(wechatScopeOf(new Set(['openid', 'profile']))).toBe('snsapi_login');
    expect(wechatScopeOf(new Set(['openid']))).toBe('snsapi_base');
  });

  it("follows WeChat's lang, then Accept-Language, and defaults to Chinese", () => {
    expect(langOf('en', 'zh-CN')).toBe('en');
    expect(langOf('cn', 'en-US')).toBe('zh');
    expect(langOf(undefined, 'en-US,en;q=0.9')).toBe('en');
    expect(langOf(undefined, 'zh-TW')).toBe('zh');
    expect(langOf(undefined, undefined)).toBe('zh');
    expect(langOf(undefined, '*')).toBe('zh');
    expect(langOf(undefined, '*, en;q=0.5')).toBe('en');
  });

  it('becomes an openid profile offline_access code request (with the consent OIDC asks for it) in the wechat response mode', () => {
    const q = new URLSearchParams(authorizationQuery({ appid: 'sm1', redirectUri: 'https://a.example/cb', state: 'S', lang: 'en' }));
    expect(Object.fromEntries(q)).toEqual({
      client_id: 'sm1',
      redirect_uri: 'https://a.example/cb',
      response_type: 'code',
      scope: 'openid profile offline_access',
      prompt: 'consent',
      response_mode: 'wechat',
      ui_locales: 'en',
      state: 'S',
    });
    expect(new URLSearchParams(authorizationQuery({ appid: 'sm1', redirectUri: 'https://a.example/cb', state: '', lang: 'zh' })).has('state')).toBe(false);
  });
});

describe("the embedded QR: framed only by the app's own origins, styled only by them", () => {
  it('frames: the callback domain over https (any port unless pinned), http too on loopback, else the redirect URI origins', () => {
    expect(appOriginSources(withDomain('site.example'))).toEqual(['https://site.example', 'https://site.example:*']);
    expect(appOriginSources(withDomain('site.example:8443'))).toEqual(['https://site.example:8443']);
    expect(appOriginSources(withDomain('127.0.0.1:3001'))).toEqual(['https://127.0.0.1:3001', 'http://127.0.0.1:3001']);
    expect(appOriginSources({ callbackDomain: null, redirectUris: ['https://a.example/cb', 'https://a.example/other', 'http://localhost:8080/cb'] })).toEqual([
      'https://a.example',
      'http://localhost:8080',
    ]);
  });

  it("takes a stylesheet only while framed, and only a data: one or one from the app's own origins", () => {
    const policy = withDomain('site.example');
    expect(stylesheetAllowed('https://site.example/wx.css', policy, true)).toEqual({ href: 'https://site.example/wx.css', source: 'https://site.example' });
    expect(stylesheetAllowed('data:text/css;base64,LmF7fQ==', policy, true)).toEqual({ href: 'data:text/css;base64,LmF7fQ==', source: 'data:' });
    expect(stylesheetAllowed('https://evil.example/leak.css', policy, true)).toBeNull();
    expect(stylesheetAllowed('http://site.example/wx.css', policy, true)).toBeNull();
    expect(stylesheetAllowed('https://user:pw@site.example/wx.css', policy, true)).toBeNull();
    expect(stylesheetAllowed('javascript:alert(1)', policy, true)).toBeNull();
    // Opened top-level (anyone can link to it): no stylesheet at all, the app's own included.
    expect(stylesheetAllowed('https://site.example/wx.css', policy, false)).toBeNull();
    expect(stylesheetAllowed('data:text/css,.a{}', policy, false)).toBeNull();
  });
});

describe('a callback URL that goes out in Location verbatim', () => {
  it('refuses a backslash, whitespace or control character that could make a browser see another host', () => {
    const policy = withDomain('site.example');
    expect(redirectAllowed('https://site.example/cb', policy)).toBe(true);
    expect(redirectAllowed('https://site.example\\@evil.example/', policy)).toBe(false);
    expect(redirectAllowed('https://site.example/a\\b', policy)).toBe(false);
    expect(redirectAllowed('https://site.example/ cb', policy)).toBe(false);
    expect(redirectAllowed('https://site.example/\tcb', policy)).toBe(false);
  });
});

describe('the scope /sns reports', () => {
  it('says what was approved: snsapi_login with the profile, snsapi_base for the openid alone', () => {
    expect(wechatScopeOf(['openid', 'profile', 'offline_access'])).toBe('snsapi_login');
    expect(wechatScopeOf(['openid'])).toBe('snsapi_base');
  });
});

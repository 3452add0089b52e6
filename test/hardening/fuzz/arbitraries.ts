/**
 * fast-check arbitraries for hostile HTTP requests: nasty values (unicode, lone surrogates,
 * NUL, CRLF header-injection attempts, huge strings), malformed percent-encoding, repeated
 * parameters, wrong and oversized bodies, odd methods and header values. `Ctx` supplies real
 * credentials and ids so that a share of the requests gets past the first check.
 */
import fc from 'fast-check';

export type Surface = 'oidc' | 'page' | 'interaction' | 'mobile' | 'web' | 'connect' | 'sns' | 'admin' | 'adminHttp' | 'console';

export interface FuzzRequest {
  surface: Surface;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Streams: read this many bytes, then hang up. */
  readLimit?: number;
}

export interface Ctx {
  appId: string;
  appSecret: string;
  redirectUri: string;
  interactions: Array<{ uid: string; cookie: string; qrId: string; payload: string }>;
  deviceTokens: string[];
  accessToken: string;
  refreshToken: string;
  idToken: string;
  adminAppId: string;
}

/** Header-injection probe: a response header named like this means a CR/LF got through. */
export const INJECTED = 'x-injected';

const SPECIALS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  `x\r\n${INJECTED}: 1`,
  `%0d%0a${INJECTED}:%201`,
  `\r\n\r\n<html>`,
  '\n',
  '\t',
  '../../../../etc/passwd',
  '..%2f..%2f',
  '<script>alert(1)</script>',
  `"'><img src=x onerror=alert(1)>`,
  '{"$ne":null}',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '-1',
  '0',
  '1e309',
  'NaN',
  '9007199254740993',
  '0x10',
  '\uFEFF',
  '\uD800',
  '\uDFFF\uD800',
  '\u202Etxt.exe',
  'ǅ',
  '𝕏𝕐',
  '😀'.repeat(40),
  'İ',
  'ß',
  'openid',
  'openid profile offline_access',
  'snsapi_login',
  'code',
  'token',
  'id_token',
  'none',
  'S256',
  'plain',
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'pending',
  'scanned',
  'confirmed',
  'denied',
  'expired',
  'http://127.0.0.1:5999/callback',
  'https://evil.example/cb',
  'javascript:alert(1)',
  '//evil.example',
  'http://127.0.0.1:5999/callback?x=1#f',
  'data:text/html,hi',
  '*',
  '%',
  '%%',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '%00',
  '+',
  '&',
  '=',
  ';',
  ',',
  '\\',
  '"',
];

/** Any string a client might send, from plain to pathological. */
export const nasty: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 4, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constantFrom(300, 2049, 5000, 20_000).map((n) => 'A'.repeat(n)) },
);

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, as a browser would send them). */
export function pct(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8'))
    out += /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** A path segment: mostly well encoded, sometimes broken encoding or traversal. */
export const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: nasty.filter((s) => s.length > 0).map(pct) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%G0', '%E0%A4%A', '%C0%AF', '..', '%2e%2e', '%2F', '%00', '.', '~', 'a%0d%0ab') },
);

/** Latin-1 printable: what Node lets a client put in a header value. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xfe }).map((c) => String.fromCharCode(c === 0x7f ? 0xff : c)), maxLength: 60 }),
  fc.constantFrom('', ' ', 'null', '*', '1'.repeat(4000)),
);

/** Query string from [key, value] pairs (repeats allowed: `x=1&x=2` arrives as an array). */
export function query(keys: string[], value: (key: string) => fc.Arbitrary<string>): fc.Arbitrary<string> {
  const pair = fc
    .oneof({ weight: 5, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: nasty.filter((k) => k.length > 0) })
    .chain((k) => value(k).map((v) => `${pct(k)}=${pct(v)}`));
  const raw = fc.constantFrom('%', '&&&', '=&=', 'a[b][c]=1', 'a[]=1&a[]=2', '%zz=1', 'x=%E0%A4%A', '__proto__[x]=1', 'constructor.prototype.x=1');
  return fc
    .array(fc.oneof({ weight: 8, arbitrary: pair }, { weight: 1, arbitrary: raw }), { maxLength: 8 })
    .map((parts) => (parts.length ? `?${parts.join('&')}` : ''));
}

/** A value for a known parameter: the real one (to get deeper), a near miss, or anything. */
export function valueFor(ctx: Ctx): (key: string) => fc.Arbitrary<string> {
  const real: Record<string, string[]> = {
    client_id: [ctx.appId],
    appid: [ctx.appId],
    redirect_uri: [ctx.redirectUri],
    secret: [ctx.appSecret],
    client_secret: [ctx.appSecret],
    response_type: ['code'],
    scope: ['openid', 'openid profile', 'snsapi_login'],
    code_challenge_method: ['S256'],
    code_challenge: ['E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
    grant_type: ['authorization_code', 'refresh_token'],
    refresh_token: [ctx.refreshToken],
    token: [ctx.accessToken, ctx.refreshToken],
    access_token: [ctx.accessToken],
    id_token_hint: [ctx.idToken],
    last: ['pending', 'scanned'],
    wait: ['0'],
    payload: ctx.interactions.map((i) => i.payload),
    username: ['fuzzuser'],
    password: ['correct horse battery'],
  };
  return (key) =>
    Object.hasOwn(real, key) && real[key].length ? fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...real[key]) }, { weight: 2, arbitrary: nasty }) : nasty;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=foo',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=latin1',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/jwt',
  'application/*',
  '*/*',
  'garbage',
  '',
];

/** A request body and its headers: JSON (well-formed or not), form, text, binary, oversized, compressed lies. */
type Body = { body?: string | Buffer; headers: Record<string, string> };
export function body(fields: string[], ctx: Ctx): fc.Arbitrary<Body> {
  const value = valueFor(ctx);
  const obj = fc
    .array(
      fc.constantFrom(...fields, '__proto__', 'constructor').chain((k) => fc.tuple(fc.constant(k), fc.oneof(value(k), fc.jsonValue({ maxDepth: 2 })))),
      { maxLength: 6 },
    )
    .map((entries) => Object.fromEntries(entries));
  const json = fc.oneof(
    { weight: 6, arbitrary: obj.map((o) => JSON.stringify(o)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"username": ',
        '{',
        '[',
        '"x"',
        'null',
        '{"a":1}}',
        '{"__proto__":{"admin":true}}',
        '[]',
        '\uFEFF{}',
        '['.repeat(50_000),
        '{"a":'.repeat(20_000),
      ),
    },
  );
  const form = fc
    .array(
      fc.constantFrom(...fields).chain((k) => value(k).map((v) => `${pct(k)}=${pct(v)}`)),
      { maxLength: 6 },
    )
    .map((p) => p.join('&'));
  const content: fc.Arbitrary<Body> = fc.oneof(
    { weight: 5, arbitrary: json.map((b): Body => ({ body: b, headers: { 'content-type': 'application/json' } })) },
    { weight: 4, arbitrary: form.map((b): Body => ({ body: b, headers: { 'content-type': 'application/x-www-form-urlencoded' } })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.oneof(json, form, nasty), fc.constantFrom(...CONTENT_TYPES))
        .map(([b, t]): Body => ({ body: b, headers: t ? { 'content-type': t } : {} })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b): Body => ({ body: Buffer.from(b), headers: { 'content-type': 'application/json' } })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(60_000, 200_000, 1_100_000), fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'))
        .map(([n, t]): Body => ({ body: t.includes('json') ? `{"a":"${'x'.repeat(n)}"}` : `a=${'x'.repeat(n)}`, headers: { 'content-type': t } })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(json, fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'identity', 'foo'))
        .map(([b, enc]): Body => ({ body: b, headers: { 'content-type': 'application/json', 'content-encoding': enc } })),
    },
  );
  return fc.oneof({ weight: 1, arbitrary: fc.constant<Body>({ headers: {} }) }, { weight: 5, arbitrary: content });
}

export const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: fc.constant('GET') },
  { weight: 30, arbitrary: fc.constant('POST') },
  { weight: 4, arbitrary: fc.constantFrom('HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'QUERY', 'LINK', 'PURGE', 'M-SEARCH', 'FOO') },
);

/** Headers a browser, a site's server or an attacker might send. */
export function headers(ctx: Ctx): fc.Arbitrary<Record<string, string>> {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const authorization = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom(...ctx.deviceTokens, ctx.accessToken).map((t) => `Bearer ${t}`) },
    { weight: 2, arbitrary: headerValue.map((t) => `Bearer ${t}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(ctx.appId, 'wxnope'), fc.oneof(fc.constant(ctx.appSecret), headerValue)).map(([i, s]) => basic(i, s)) },
    {
      weight: 1,
      arbitrary: fc.oneof(headerValue, fc.constantFrom('Basic !!!', 'Basic', 'Bearer', 'DPoP x', `Basic ${Buffer.from('nocolon').toString('base64')}`)),
    },
  );
  const cookie = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom(...ctx.interactions.map((i) => i.cookie)) },
    { weight: 1, arbitrary: headerValue },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...ctx.interactions.map((i) => i.cookie)), headerValue).map(([c, g]) => `${c}; ${g}`) },
  );
  const accept = fc.constantFrom(
    undefined,
    'application/json',
    'text/html',
    '*/*',
    'text/event-stream',
    'image/png',
    'garbage;;q=x',
    'text/html, application/json;q=0.1',
  );
  const extra = fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.record({ origin: fc.oneof(headerValue, fc.constantFrom('null', 'https://evil.example')) }) },
    { weight: 1, arbitrary: fc.record({ 'sec-fetch-site': fc.constantFrom('cross-site', 'same-site', 'same-origin', 'none', 'x') }) },
    { weight: 1, arbitrary: fc.record({ 'x-forwarded-for': headerValue, 'x-forwarded-proto': headerValue, 'x-forwarded-host': headerValue }) },
    { weight: 1, arbitrary: fc.record({ 'accept-language': headerValue, 'user-agent': headerValue, referer: headerValue }) },
    { weight: 1, arbitrary: fc.record({ 'if-none-match': headerValue, range: fc.constantFrom('bytes=0-1', 'bytes=999999-', 'bytes=x', 'bytes=0-0,1-1,2-2') }) },
  );
  return fc.tuple(authorization, cookie, accept, extra).map(([a, c, acc, e]) => {
    const h: Record<string, string> = { ...e };
    if (a !== undefined) h.authorization = a;
    if (c !== undefined) h.cookie = c;
    if (acc !== undefined) h.accept = acc;
    return h;
  });
}

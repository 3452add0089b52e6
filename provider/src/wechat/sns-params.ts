import { snsError } from './errcodes.js';

/**
 * WeChat's /sns parameters, wherever a client library puts them. WeChat's servers answer a GET
 * with a query string and a POST with a form body alike, and libraries use both: Auth.js's
 * WeChat provider and passport-oauth2-based strategies (passport-weixin) POST the code
 * exchange, Auth.js with the AppID and AppSecret also in HTTP Basic (RFC 6749 §2.3.1). So the
 * query, the form body and Basic are one set of parameters. A parameter given twice with
 * different values is malformed (40097 invalid args), never a silent choice.
 */
const MAX_PARAM = 2048;

export type SnsParams = ReadonlyMap<string, string>;

/** RFC 6749 §2.3.1: Basic's user and password are form-urlencoded before base64. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    throw snsError('invalid_args');
  }
}

/** `Authorization: Basic base64(appid:secret)` as the appid and secret parameters; other schemes are not WeChat's. */
function basicCredentials(header: string | undefined): { appid: string; secret: string } | null {
  const match = /^basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw snsError('invalid_args');
  return { appid: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

export function collectSnsParams(sources: { query: unknown; body: unknown; authorization?: string }): SnsParams {
  const params = new Map<string, string>();
  const add = (name: string, value: unknown) => {
    if (value === undefined || value === '') return;
    // Repeated (an array), nested or oversized: not a WeChat parameter.
    if (typeof value !== 'string' || value.length > MAX_PARAM) throw snsError('invalid_args');
    const seen = params.get(name);
    if (seen !== undefined && seen !== value) throw snsError('invalid_args');
    params.set(name, value);
  };
  for (const source of [sources.query, sources.body]) {
    if (source && typeof source === 'object') for (const [name, value] of Object.entries(source)) add(name, value);
  }
  const basic = basicCredentials(sources.authorization);
  if (basic) {
    add('appid', basic.appid);
    add('secret', basic.secret);
  }
  return params;
}
